/**
 * The TypeScript half of the local platform run (tools/local-run/run.py drives it):
 *
 *   names <env>        prints, as JSON, the names the environment's stacks give the lake buckets,
 *                      Glue databases and streams, and the settings of the pull functions;
 *   pull <plan.json>   starts one pull function's stand-in API with the run's data and invokes
 *                      its deployed handler (lambda/<name>/handler.ts) against moto, at the
 *                      simulated times of its schedule; writes a summary JSON file;
 *   partner-files <plan.json>  uploads the partners' files into a landing bucket in moto and runs
 *                      the partner file check's deployed handler on each upload's event;
 *   ingest-api <plan.json>     puts the live hour on the telemetry stream, one partner vehicle's
 *                      messages through the HTTPS ingestion API's stand-in (its model and templates);
 *   kafka-topics <plan.json>   produces one truck's readings to a real Kafka broker on 127.0.0.1 and
 *                      delivers the topic with the Firehose-MSK stand-in through the record check's
 *                      deployed handler into the raw zone in moto;
 *   alerts <plan.json> runs the live alerts over the telemetry stream in moto (live-alerts.ts).
 *
 * Usage: ts-node --transpile-only tools/local-run/platform.ts names dev
 *        ts-node --transpile-only tools/local-run/platform.ts pull <plan.json>
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import { App, Stack } from 'aws-cdk-lib';
import { loadConfig } from '../../lib/config';
import { LAKE_ZONES, PlatformNames } from '../../lib/config/naming';
import { alertsTableName } from '../../lib/constructs/live-alerts';
import { STREAM_PHYSICAL_NAMES } from '../../lib/constructs/telemetry-streams';
import { PULL_RETRY_ATTEMPTS } from '../../lib/constructs/scheduled-pull-function';
import { PULL_FUNCTIONS, pullEnvironment, pullFunction } from '../../lib/registry/pulls';
import { BucketLocationConstraint, CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { MskFirehoseEvent, MskFirehoseResultRecord } from '../../lambda/kafka-record-check/core';
import { KAFKA_RECORD_CHECK_SETTINGS, kafkaRecordCheckSettings } from '../../lambda/kafka-record-check/settings';
import { kafkaDeliveryName, kafkaDeliveryPrefixes, kafkaRecordCheckSettingsOf } from '../../lib/constructs/kafka-topic-ingestion';
import { deliverKafkaTopic } from '../stand-ins/firehose-msk';
import { startKafka } from '../stand-ins/kafka';
import type { PartnerFileOutcome } from '../../lambda/partner-file-check/core';
import { PARTNER_FILE_CHECK_SETTINGS, partnerFileCheckSettings } from '../../lambda/partner-file-check/settings';
import { settingsEnvironment } from '../../lambda/shared/settings';
import { METRICS_NAMESPACE } from '../../lib/config/metrics';
import { CHECK_RETRY_ATTEMPTS, partnerFileCheckSettingsOf } from '../../lib/constructs/partner-file-drops';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { contractOf, loadContracts } from '../../lib/contracts';
import { startIngestApi } from '../stand-ins/ingest-api';
import { MOTO_CREDENTIALS } from '../stand-ins/moto';
import { AlertsPlan, runLiveAlerts } from './live-alerts';

/** moto's default account: the one its buckets belong to, so ExpectedBucketOwner holds locally. */
export const LOCAL_ACCOUNT = '123456789012';

/** Minutes between two runs of a `rate(...)` schedule; a cron schedule has no single interval. */
export function rateMinutes(schedule: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (!match) throw new Error(`schedule ${schedule} is not a rate(...) expression: the local run simulates rate schedules only`);
  const unit = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 }[match[2]]!;
  return Number(match[1]) * unit;
}

export function platformNames(envName: string) {
  const config = loadConfig(envName);
  const stack = new Stack(new App(), 'LocalRun', { env: { account: LOCAL_ACCOUNT, region: config.region } });
  const names = new PlatformNames(config, stack);
  const stream = (name: keyof typeof STREAM_PHYSICAL_NAMES) => `${config.resourcePrefix}-${STREAM_PHYSICAL_NAMES[name]}`;
  return {
    envName: config.envName,
    region: config.region,
    account: LOCAL_ACCOUNT,
    buckets: Object.fromEntries(LAKE_ZONES.map((zone) => [zone, names.zoneBucket(zone)])),
    databases: Object.fromEntries(LAKE_ZONES.map((zone) => [zone, names.glueDatabase(zone)])),
    streams: { telemetry: stream('telemetry'), sensorReadings: stream('sensorReadings'), deviceUpdates: stream('deviceUpdates') },
    cities: config.ingestion.weather.cities,
    sensorPull: { everyMinutes: rateMinutes(config.streaming.sensorPull.schedule), windowMinutes: config.streaming.sensorPull.windowMinutes },
    // The pull functions in registry order, each with its layer (a streaming-only run pulls the streaming ones).
    pulls: PULL_FUNCTIONS.map((p) => ({ name: p.name, layer: p.layer, dataset: p.dataset })),
    flink: config.streaming.flink,
    snapshotRetentionDays: config.processing.snapshotRetentionDays,
    alertsTable: alertsTableName(config.resourcePrefix),
    warehouse: { databaseName: config.warehouse.databaseName },
    latenessHorizonDays: config.processing.latenessHorizonDays,
    // The HTTPS ingestion API's partners.
    httpsApi: { enabled: config.ingestion.httpsApi.enabled, partners: config.ingestion.httpsApi.partners.map((p) => p.name) },
    // The Kafka topics and their datasets.
    kafka: { enabled: config.ingestion.kafka.enabled, topics: config.ingestion.kafka.topics.map((t) => ({ topic: t.topic, dataset: t.dataset })) },
    // The SFTP partners and their landing bucket.
    partnerFiles: {
      enabled: config.ingestion.partnerFiles.enabled,
      partners: config.ingestion.partnerFiles.partners.map((p) => ({ name: p.name, dataset: p.dataset })),
      landingBucket: names.partnerLandingBucket(),
    },
  };
}

/** What run.py asks of a pull: where moto is, the data its stand-in API serves, and when to run it. */
export interface PullPlan {
  readonly envName: string;
  readonly endpoint: string;
  readonly summaryFile: string;
  /** The pull function (lib/registry/pulls.ts). */
  readonly name: string;
  /** What its stand-in serves (tools/stand-ins/<localStandIn>.ts, `serveFile`). */
  readonly dataFile: string;
  /** Invocation times (ISO 8601), the simulated times of its schedule. */
  readonly invocations: readonly string[];
  /**
   * The fault-injection run: the partner API is down (every request answered 503) for the
   * invocations at or after `from` and before `to` (ISO 8601). @default - always up
   */
  readonly apiOutage?: { readonly from: string; readonly to: string };
}

interface InvocationSummary {
  invocations: number;
  /** Runs that failed and were run again with the same event (Lambda's retries). */
  retried: number;
  /** Runs that failed every attempt: on AWS, in the function's on-failure destination (DeadLetters). */
  failures: { time: string; error: string }[];
  results: unknown[];
  /** Invocations made while the partner API was down (the fault-injection run), and its 503 answers. */
  duringOutage?: { invocations: string[]; answers503: number };
}

type Handler = (event: { time: string }) => Promise<unknown>;

/**
 * A front on 127.0.0.1 before a stand-in API that forwards every request, except while `down`,
 * when it answers 503 as a partner API in an outage does.
 */
async function outageFront(target: string): Promise<{ baseUrl: string; down: boolean; refused: number; close(): Promise<void> }> {
  const upstream = new URL(target);
  const front = {
    baseUrl: '',
    down: false,
    refused: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    if (front.down) {
      front.refused += 1;
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: true, reason: 'down (fault injection)' }));
      return;
    }
    const forwarded = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}

async function invokeAll(handler: Handler, times: readonly string[], outage?: { from: string; to: string; front: { down: boolean; refused: number } }): Promise<InvocationSummary> {
  const summary: InvocationSummary = { invocations: 0, retried: 0, failures: [], results: [] };
  if (outage) summary.duringOutage = { invocations: [], answers503: 0 };
  for (const time of times) {
    summary.invocations += 1;
    if (outage) {
      const at = Date.parse(time);
      outage.front.down = at >= Date.parse(outage.from) && at < Date.parse(outage.to);
      if (outage.front.down) summary.duringOutage!.invocations.push(time);
    }
    // As Lambda runs an asynchronous invocation: a failed run is retried with the same event,
    // PULL_RETRY_ATTEMPTS times, before it goes to the on-failure destination.
    for (let attempt = 0; attempt <= PULL_RETRY_ATTEMPTS; attempt++) {
      try {
        summary.results.push(await handler({ time }));
        break;
      } catch (error) {
        if (attempt < PULL_RETRY_ATTEMPTS) {
          summary.retried += 1;
          continue;
        }
        summary.failures.push({ time, error: `${(error as Error).name}: ${(error as Error).message}` });
      }
    }
  }
  if (outage) summary.duringOutage!.answers503 = outage.front.refused;
  return summary;
}

/** Points the AWS SDK of a deployed handler at moto: its region, test credentials, S3 and Kinesis on `endpoint`, S3 by path. */
function useMoto(region: string, endpoint: string): void {
  Object.assign(process.env, {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_KINESIS: endpoint,
    S3_FORCE_PATH_STYLE: 'true',
  });
}

/** Sets a function's environment, then loads its handler: handlers read their settings at load. */
async function loadHandler(modulePath: string, environment: Record<string, string>): Promise<Handler> {
  Object.assign(process.env, environment);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(modulePath) as { handler: Handler }).handler;
}

/**
 * One pull function as deployed: its stand-in API started with the run's data, its handler
 * loaded with the environment its stack gives it (lib/registry/pulls.ts) but for the API's URL,
 * and invoked at each of its scheduled times against moto.
 */
export async function pull(plan: PullPlan): Promise<void> {
  const config = loadConfig(plan.envName);
  const names = platformNames(plan.envName);
  const declaration = pullFunction(plan.name);
  useMoto(config.region, plan.endpoint);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const standIn = require(`../stand-ins/${declaration.localStandIn}`) as { serveFile(dataFile: string): Promise<{ baseUrl: string; close(): Promise<void> }> };
  const api = await standIn.serveFile(plan.dataFile);
  const front = plan.apiOutage ? await outageFront(api.baseUrl) : undefined;
  try {
    const targets = { rawBucket: names.buckets.raw, account: LOCAL_ACCOUNT, streams: names.streams };
    const handler = await loadHandler(`../../lambda/${declaration.name}/handler`, pullEnvironment(declaration, config, targets, front?.baseUrl ?? api.baseUrl));
    const outage = plan.apiOutage && front ? { ...plan.apiOutage, front } : undefined;
    fs.writeFileSync(plan.summaryFile, JSON.stringify(await invokeAll(handler, plan.invocations, outage)));
  } finally {
    await front?.close();
    await api.close();
  }
}

/** What run.py asks of the partner file drops: where moto is, and each upload in order. */
export interface PartnerFilesPlan {
  readonly envName: string;
  readonly endpoint: string;
  readonly summaryFile: string;
  /** `key`: <partner>/<name> in the landing bucket; `file`: its bytes; `time`: when it lands (ISO 8601). */
  readonly uploads: readonly { readonly key: string; readonly file: string; readonly time: string }[];
}

/**
 * The partners' SFTP uploads as Transfer Family writes them (PutObject into the partner's folder of
 * a versioned landing bucket in moto), each followed by the check's deployed handler with the
 * Object Created event EventBridge would give it (the key URL-encoded as S3 writes it), retried as
 * Lambda retries an asynchronous invocation. Writes the outcomes to the summary file.
 */
export async function partnerFiles(plan: PartnerFilesPlan): Promise<void> {
  const config = loadConfig(plan.envName);
  const names = platformNames(plan.envName);
  useMoto(config.region, plan.endpoint);
  const landing = names.partnerFiles.landingBucket;
  const s3 = new S3Client({ forcePathStyle: true, region: config.region });
  await s3.send(new CreateBucketCommand({ Bucket: landing, CreateBucketConfiguration: { LocationConstraint: config.region as BucketLocationConstraint } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: landing, VersioningConfiguration: { Status: 'Enabled' } }));
  const settings = partnerFileCheckSettingsOf(config.ingestion.partnerFiles, { landing, raw: names.buckets.raw }, LOCAL_ACCOUNT);
  const handler = (await loadHandler('../../lambda/partner-file-check/handler', {
    ...settingsEnvironment(PARTNER_FILE_CHECK_SETTINGS, partnerFileCheckSettings, settings),
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  })) as unknown as (event: unknown) => Promise<PartnerFileOutcome>;
  const summary = { uploads: 0, retried: 0, failures: [] as { key: string; error: string }[], outcomes: [] as PartnerFileOutcome[] };
  for (const upload of plan.uploads) {
    const body = fs.readFileSync(upload.file);
    const put = await s3.send(new PutObjectCommand({ Bucket: landing, Key: upload.key, Body: body }));
    summary.uploads += 1;
    const event = {
      'detail-type': 'Object Created',
      source: 'aws.s3',
      time: upload.time,
      detail: { bucket: { name: landing }, object: { key: encodeURIComponent(upload.key).replace(/%2F/g, '/').replace(/%20/g, '+'), size: body.length, 'version-id': put.VersionId } },
    };
    for (let attempt = 0; attempt <= CHECK_RETRY_ATTEMPTS; attempt++) {
      try {
        summary.outcomes.push(await handler(event));
        break;
      } catch (error) {
        if (attempt < CHECK_RETRY_ATTEMPTS) {
          summary.retried += 1;
          continue;
        }
        summary.failures.push({ key: upload.key, error: `${(error as Error).name}: ${(error as Error).message}` });
      }
    }
  }
  fs.writeFileSync(plan.summaryFile, JSON.stringify(summary));
}

/** What run.py asks of the HTTPS ingestion API: the live hour's messages in stream order, and which vehicle's go through the API. */
export interface IngestApiPlan {
  readonly envName: string;
  readonly endpoint: string;
  readonly summaryFile: string;
  /** The messages in the order they reach the stream (NDJSON lines, as the IoT rule puts them). */
  readonly lines: readonly string[];
  /** The partner's vehicle: its messages are posted to the API (one request each, at its arrival time); the rest are put as the IoT rule puts them. */
  readonly viaApi: string;
}

/**
 * The ingestion API as deployed (tools/stand-ins/ingest-api.ts: the model, the Velocity templates,
 * Kinesis on moto) with the environment's first partner's key: planted refusals first (no key, an
 * unknown key, a record out of range, 501 records, a body that is not JSON), then the live hour in
 * stream order, the partner's vehicle's messages posted to the API at their arrival time (so the
 * stream holds what the IoT rule would have put), the others put directly. Writes what it saw.
 */
export async function ingestApi(plan: IngestApiPlan): Promise<void> {
  const config = loadConfig(plan.envName);
  const names = platformNames(plan.envName);
  const partner = config.ingestion.httpsApi.partners[0].name;
  const key = `local-${partner}-key`;
  const kinesis = new KinesisClient({ endpoint: plan.endpoint, region: config.region, credentials: MOTO_CREDENTIALS, requestHandler: new NodeHttpHandler() });
  let arrival = Date.now();
  const api = await startIngestApi({
    contract: contractOf(loadContracts(), 'telematics'),
    partitionKeyField: 'vehicle_id',
    receivedAtField: 'ingested_at',
    streamName: names.streams.telemetry,
    kinesis,
    apiKeys: { [key]: partner },
    now: () => arrival,
  });
  const summary = { partner, requests: 0, recordsAccepted: 0, recordsFailed: 0, refused: {} as Record<string, number>, putDirectly: 0 };
  const post = async (body: string, withKey: string | null) => {
    summary.requests += 1;
    const response = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(withKey ? { 'x-api-key': withKey } : {}) }, body });
    const answer = (await response.json()) as { code?: string; received?: number; failed?: number };
    if (response.status === 200) {
      summary.recordsAccepted += answer.received! - answer.failed!;
      summary.recordsFailed += answer.failed!;
    } else {
      summary.refused[answer.code ?? String(response.status)] = (summary.refused[answer.code ?? String(response.status)] ?? 0) + 1;
    }
  };
  try {
    const sample = { ...(JSON.parse(plan.lines.find((l) => JSON.parse(l).vehicle_id === plan.viaApi)!) as Record<string, unknown>) };
    delete sample.ingested_at;
    await post(JSON.stringify({ records: [sample] }), null);
    await post(JSON.stringify({ records: [sample] }), 'not-a-key');
    await post(JSON.stringify({ records: [{ ...sample, speed_kmh: 900 }] }), key);
    await post(JSON.stringify({ records: Array.from({ length: 501 }, () => sample) }), key);
    await post('{"records": [', key);
    let direct: string[] = [];
    const flush = async () => {
      for (let i = 0; i < direct.length; i += 500) {
        const batch = direct.slice(i, i + 500);
        await kinesis.send(new PutRecordsCommand({ StreamName: names.streams.telemetry, Records: batch.map((l) => ({ Data: Buffer.from(l), PartitionKey: String(JSON.parse(l).vehicle_id) })) }));
      }
      summary.putDirectly += direct.length;
      direct = [];
    };
    for (const line of plan.lines) {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (message.vehicle_id !== plan.viaApi) {
        direct.push(line);
        continue;
      }
      await flush();
      arrival = Number(message.ingested_at);
      const { ingested_at: _stamped, ...record } = message;
      await post(JSON.stringify({ records: [record] }), key);
    }
    await flush();
  } finally {
    await api.close();
  }
  fs.writeFileSync(plan.summaryFile, JSON.stringify(summary));
}

/** What run.py asks of the Kafka way in: the topic, and its messages in the order they are produced. */
export interface KafkaTopicsPlan {
  readonly envName: string;
  readonly endpoint: string;
  readonly summaryFile: string;
  readonly topic: string;
  /** A JSON list of {key, value (text, or null for a tombstone), timestamp (epoch ms)}. */
  readonly messagesFile: string;
}

/**
 * A Kafka broker (tools/stand-ins/kafka.ts) with the topic, as a fleet's systems fill it: the
 * messages produced with their own timestamps (the broker's arrival of each, days ago), then one
 * delivery of the topic as deployed (tools/stand-ins/firehose-msk.ts: the delivery's prefixes and
 * buffer interval, the record check's deployed handler, moto's raw bucket). Writes what it saw.
 */
export async function kafkaTopics(plan: KafkaTopicsPlan): Promise<void> {
  const config = loadConfig(plan.envName);
  const names = platformNames(plan.envName);
  const topic = config.ingestion.kafka.topics.find((t) => t.topic === plan.topic);
  if (!topic) throw new Error(`topic ${plan.topic} is not one of ${plan.envName}'s (ingestion.kafka.topics)`);
  useMoto(config.region, plan.endpoint);
  const settings = kafkaRecordCheckSettingsOf(config.ingestion.kafka, config.resourcePrefix, names.buckets.raw, LOCAL_ACCOUNT);
  const handler = (await loadHandler('../../lambda/kafka-record-check/handler', {
    ...settingsEnvironment(KAFKA_RECORD_CHECK_SETTINGS, kafkaRecordCheckSettings, settings),
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  })) as unknown as (event: MskFirehoseEvent) => Promise<{ records: MskFirehoseResultRecord[] }>;
  const messages = JSON.parse(fs.readFileSync(plan.messagesFile, 'utf8')) as { key: string; value: string | null; timestamp: number }[];
  const broker = await startKafka({ partitions: 3 });
  try {
    const kafka = broker.client('local-run');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: plan.topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic: plan.topic, messages: messages.slice(i, i + 500).map((m) => ({ key: m.key, value: m.value, timestamp: String(m.timestamp) })) });
    }
    await producer.disconnect();
    const { prefix, errorOutputPrefix } = kafkaDeliveryPrefixes(contractOf(loadContracts(), topic.dataset), topic.topic);
    const delivery = await deliverKafkaTopic({
      kafka,
      topic: plan.topic,
      deliveryStreamName: kafkaDeliveryName(config.resourcePrefix, plan.topic),
      s3: new S3Client({ forcePathStyle: true, region: config.region }),
      bucket: names.buckets.raw,
      prefix,
      errorOutputPrefix,
      bufferIntervalSeconds: config.ingestion.kafka.bufferIntervalSeconds,
      transform: handler,
    });
    // What the quarantine holds: each refused record's first reason, by field.
    const refusedBy: Record<string, number> = {};
    const s3 = new S3Client({ forcePathStyle: true, region: config.region });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: names.buckets.raw, Prefix: `raw/${contractOf(loadContracts(), topic.dataset).source}/_quarantine/kafka-${topic.topic}/` }));
    for (const object of listed.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: names.buckets.raw, Key: object.Key! }))).Body!.transformToString();
      for (const line of body.split('\n').filter((l) => l !== '')) {
        const reason = (JSON.parse(line) as { reasons: string[] }).reasons[0];
        const field = reason.slice(0, reason.indexOf(':'));
        refusedBy[field] = (refusedBy[field] ?? 0) + 1;
      }
    }
    fs.writeFileSync(plan.summaryFile, JSON.stringify({ ...delivery, refusedBy }));
  } finally {
    await broker.stop();
  }
}

async function main(): Promise<void> {
  const [command, argument] = process.argv.slice(2);
  if (command === 'names') {
    process.stdout.write(JSON.stringify(platformNames(argument ?? 'dev')));
  } else if (command === 'pull' && argument) {
    await pull(JSON.parse(fs.readFileSync(argument, 'utf8')) as PullPlan);
  } else if (command === 'ingest-api' && argument) {
    await ingestApi(JSON.parse(fs.readFileSync(argument, 'utf8')) as IngestApiPlan);
  } else if (command === 'kafka-topics' && argument) {
    await kafkaTopics(JSON.parse(fs.readFileSync(argument, 'utf8')) as KafkaTopicsPlan);
  } else if (command === 'partner-files' && argument) {
    await partnerFiles(JSON.parse(fs.readFileSync(argument, 'utf8')) as PartnerFilesPlan);
  } else if (command === 'alerts' && argument) {
    await runLiveAlerts(JSON.parse(fs.readFileSync(argument, 'utf8')) as AlertsPlan);
  } else {
    throw new Error('usage: platform.ts names <env> | platform.ts pull <plan.json> | platform.ts partner-files <plan.json> | platform.ts ingest-api <plan.json> | platform.ts kafka-topics <plan.json> | platform.ts alerts <plan.json>');
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
