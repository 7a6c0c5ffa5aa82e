/**
 * The live alerts in the local run (platform.ts `alerts <plan.json>`): the alerts table created in
 * moto as the operations stack declares it, the telemetry stream read shard by shard from moto
 * and handed to the alerts function's core as its event source mapping would (batches of the
 * configured size, tumbling windows of the configured length, the window's state carried between
 * invocations), the silent-vehicle check run at the simulated times of its schedule, the events put
 * on moto's EventBridge. Writes a summary: the table's alerts, the events, the DynamoDB writes.
 */
import * as fs from 'fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { loadConfig } from '../../lib/config';
import { AlertsDeps, handleRecords, StreamRecord, WindowState } from '../../lambda/telemetry-alerts/core';
import { publishEvents } from '../../lambda/telemetry-alerts/events';
import { AlertEvent } from '../../lambda/telemetry-alerts/rules';
import { checkSilentVehicles } from '../../lambda/telemetry-alerts/silence';
import { AlertsTable, STATE_SORT_KEY } from '../../lambda/telemetry-alerts/store';
import { createAlertsTable } from '../stand-ins/dynamodb';
import { MOTO_CREDENTIALS } from '../stand-ins/moto';

export interface AlertsPlan {
  readonly envName: string;
  readonly endpoint: string;
  readonly region: string;
  readonly stream: string;
  readonly tableName: string;
  readonly summaryFile: string;
}

interface ShardRecord extends StreamRecord {
  /** The reading's time (epoch ms), which stands for its arrival: the run replays an hour in seconds. */
  readonly at: number;
}

/** The DynamoDB writes of a run by command, as DynamoDB bills them. */
export function countingClient(client: DynamoDBDocumentClient, writes: Record<string, number>): DynamoDBDocumentClient {
  const counted: DynamoDBDocumentClient = Object.create(client);
  counted.send = (async (command: { constructor: { name: string } }) => {
    const name = command.constructor.name.replace(/Command$/, '');
    if (/^(Put|Update|TransactWrite|Delete|BatchWrite)/.test(name)) writes[name] = (writes[name] ?? 0) + 1;
    return client.send(command as never);
  }) as DynamoDBDocumentClient['send'];
  return counted;
}

async function shardRecords(kinesis: KinesisClient, stream: string): Promise<ShardRecord[][]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const result: ShardRecord[][] = [];
  for (const shard of shards) {
    const records: ShardRecord[] = [];
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? []) {
        const text = Buffer.from(r.Data!).toString('utf8');
        let at = Number.NaN;
        try {
          at = Number((JSON.parse(text) as { ts?: unknown }).ts);
        } catch {
          // not JSON: the function rejects it; it arrives with its neighbours
        }
        records.push({ sequenceNumber: r.SequenceNumber!, data: Buffer.from(text).toString('base64'), at: Number.isFinite(at) ? at : (records.at(-1)?.at ?? 0) });
      }
      if ((out.Records ?? []).length === 0) break;
      iterator = out.NextShardIterator;
    }
    result.push(records);
  }
  return result;
}

export async function runLiveAlerts(plan: AlertsPlan): Promise<void> {
  const config = loadConfig(plan.envName);
  const { stream: mapping, closedRetentionDays, ...rules } = config.alerts;
  const base = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: plan.endpoint, region: plan.region, credentials: MOTO_CREDENTIALS }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  await createAlertsTable(base, plan.tableName);
  const writes: Record<string, number> = {};
  const table: AlertsTable = { client: countingClient(base, writes), tableName: plan.tableName, closedRetentionDays };
  const eventBridge = new EventBridgeClient({ endpoint: plan.endpoint, region: plan.region, credentials: MOTO_CREDENTIALS });
  const published: AlertEvent[] = [];
  const publish = async (events: readonly AlertEvent[]) => {
    await publishEvents(eventBridge, 'default', events);
    published.push(...events);
  };
  const counts: Record<string, number> = {};
  const rejections: unknown[] = [];
  const deps: AlertsDeps = {
    table,
    rules,
    publish,
    count: (metric, value) => void (counts[metric] = (counts[metric] ?? 0) + value),
    log: (message, details) => void rejections.push({ message, ...details }),
  };
  const kinesis = new KinesisClient({ endpoint: plan.endpoint, region: plan.region, credentials: MOTO_CREDENTIALS, requestHandler: new NodeHttpHandler() });
  const shards = await shardRecords(kinesis, plan.stream);
  const all = shards.flat();
  if (all.length === 0) throw new Error(`no records on ${plan.stream}`);

  // Windows by the readings' time, as the mapping's windows by arrival; within a window, batches of
  // the configured size; the silence check at every tick of its schedule before the window it precedes.
  const windowMs = Math.max(mapping.tumblingWindowSeconds, 1) * 1000;
  const checkMs = rules.vehicleSilent.checkEveryMinutes * 60_000;
  const lagSeconds = mapping.tumblingWindowSeconds + mapping.batchingWindowSeconds + 60;
  const first = Math.min(...all.map((r) => r.at));
  const last = Math.max(...all.map((r) => r.at));
  let nextCheck = Math.ceil(first / checkMs) * checkMs;
  let invocations = 0;
  let checks = 0;
  const runChecksUntil = async (until: number) => {
    for (; nextCheck <= until; nextCheck += checkMs) {
      await checkSilentVehicles(table, rules, new Date(nextCheck), lagSeconds, publish);
      checks += 1;
    }
  };
  for (let start = Math.floor(first / windowMs) * windowMs; start <= last; start += windowMs) {
    await runChecksUntil(start);
    for (const records of shards) {
      const inWindow = records.filter((r) => r.at >= start && r.at < start + windowMs).map(({ sequenceNumber, data }) => ({ sequenceNumber, data }));
      let state: WindowState = {};
      for (let i = 0; i < inWindow.length; i += mapping.batchSize) {
        const batch = inWindow.slice(i, i + mapping.batchSize);
        const final = mapping.tumblingWindowSeconds === 0 ? undefined : { state, final: i + mapping.batchSize >= inWindow.length };
        const response = await handleRecords(batch, deps, final);
        invocations += 1;
        if (response.batchItemFailures.length > 0) throw new Error(`batch failed from ${response.batchItemFailures[0].itemIdentifier}: ${JSON.stringify(rejections.at(-1))}`);
        state = response.state ?? {};
      }
    }
  }
  // The schedule goes on after the last reading, until every silence the run planted is due.
  await runChecksUntil(last + (rules.vehicleSilent.silentAfterMinutes * 60 + lagSeconds) * 1000 + checkMs);

  const items = (await base.send(new ScanCommand({ TableName: plan.tableName }))).Items ?? [];
  const alerts = items
    .filter((i) => i.alert_id !== STATE_SORT_KEY)
    .map((i) => ({ vehicle_id: i.vehicle_id, rule: i.rule, severity: i.severity, status: i.status, opened_at: i.opened_at, closed_at: i.closed_at ?? null, peak: i.peak }))
    .sort((a, b) => `${a.vehicle_id}${a.rule}${a.opened_at}`.localeCompare(`${b.vehicle_id}${b.rule}${b.opened_at}`));
  const summary = {
    readings: all.length,
    invocations,
    silenceChecks: checks,
    counts,
    rejections,
    writes,
    writesPer10kReadings: Math.round((Object.values(writes).reduce((a, b) => a + b, 0) * 10_000) / all.length),
    alerts,
    events: published.map((e) => ({ vehicle_id: e.vehicleId, rule: e.rule, kind: e.kind, at: e.at })),
  };
  fs.writeFileSync(plan.summaryFile, JSON.stringify(summary, null, 2));
}
