import Ajv from 'ajv';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { recordProblems } from '../lambda/shared/contract-records';
import { contractOf, loadContracts } from '../lib/contracts';
import { rawRecordJsonSchema, recordBatchJsonSchema } from '../lib/contracts/record-schema';
import { MAX_RECORDS_PER_REQUEST, PUT_RECORDS_RESPONSE_TEMPLATE } from '../lib/constructs/telemetry-ingest-api';
import { createStream, motoKinesis, streamContents } from '../tools/stand-ins/kinesis';
import { IngestApiStandIn, renderTemplate, startIngestApi } from '../tools/stand-ins/ingest-api';
import { Moto, startMoto } from '../tools/stand-ins/moto';
import { loadConfig } from '../lib/config';
import { environmentConfigSchema } from '../lib/config/schema';
import { joinedText, resourcesOf, synthesize } from './helpers/platform';

const contracts = loadContracts();
const telematics = contractOf(contracts, 'telematics');
const weather = contractOf(contracts, 'weather');
const compile = (schema: Record<string, unknown>) => {
  const { $schema: _draft, ...rest } = schema;
  return new Ajv({ allErrors: true, strict: false }).compile(rest);
};
const reading = (i: number, overrides: Record<string, unknown> = {}) => ({
  vehicle_id: 'globex-7',
  ts: 1_793_600_000_000 + i * 1_000,
  latitude: 52.1,
  longitude: 4.3,
  speed_kmh: 61.5,
  odometer_km: 1000 + i,
  fuel_used_l: 100 + i / 10,
  load_kg: 8000,
  engine_temp_c: 88,
  ...overrides,
});

describe("the contract's JSON schema says what the record check says", () => {
  // Good and hostile records of both JSON datasets; the schema and lambda/shared/contract-records must agree on each.
  const corpus: [string, Record<string, unknown>][] = [
    ['telematics', { ...reading(0), ingested_at: 1_793_600_000_500 }],
    ['telematics', { ...reading(0), ingested_at: 1_793_600_000_500, latitude: null, load_kg: null }],
    ['telematics', { ...reading(0), ingested_at: 1 }],
    ['telematics', { ...reading(0), ingested_at: 1, speed_kmh: 251 }],
    ['telematics', { ...reading(0), ingested_at: 1, speed_kmh: -0.1 }],
    ['telematics', { ...reading(0), ingested_at: 1, ts: 1.5 }],
    ['telematics', { ...reading(0), ingested_at: 1, ts: 2 ** 60 }],
    ['telematics', { ...reading(0), ingested_at: 1, ts: '1793600000000' }],
    ['telematics', { ...reading(0), ingested_at: 1, odometer_km: null }],
    ['telematics', { ...reading(0), ingested_at: 1, vehicle_id: 7 }],
    ['telematics', { ...reading(0), ingested_at: 1, extra: true }],
    ['telematics', { ...reading(0), ingested_at: 1, odometer_km: Infinity }],
    ['telematics', { ...reading(0) }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02T06:00:00Z', temperature_c: 7.5, condition: 'rain' }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02T06:00:00.250Z', temperature_c: 7.5, condition: 'rain', weather_code: null }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02 06:00:00', temperature_c: 7.5, condition: 'rain' }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02T06:00:00+01:00', temperature_c: 7.5, condition: 'rain' }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02T06:00:00Z', temperature_c: 7.5, condition: 'sleet' }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02T06:00:00Z', temperature_c: 7.5, condition: null }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02T06:00:00Z', temperature_c: 7.5, condition: 'rain', weather_code: 2 ** 31 }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02T06:00:00Z', temperature_c: 7.5, condition: 'rain', weather_code: 3.5 }],
    ['weather', { city: 'Madrid', observation_hour: '2026-11-02T06:00:00Z', temperature_c: 61, condition: 'rain' }],
  ];

  test.each(corpus.map(([dataset, record], i) => [i, dataset, record] as const))('record %i (%s)', (_i, dataset, record) => {
    const contract = dataset === 'telematics' ? telematics : weather;
    const valid = compile(rawRecordJsonSchema(contract))(record);
    expect(valid).toBe(recordProblems(contract, record).length === 0);
  });

  test('the one difference, written down: a pattern cannot know 30 February, which the Glue job then quarantines', () => {
    const record = { city: 'Madrid', observation_hour: '2026-02-30T06:00:00Z', temperature_c: 7.5, condition: 'rain' };
    expect(compile(rawRecordJsonSchema(weather))(record)).toBe(true);
    expect(recordProblems(weather, record)).toEqual(["observation_hour: '2026-02-30T06:00:00Z' is not a real date and time"]);
  });

  test('a batch is 1 to 500 records without the fields the integration adds; the partition key is bounded', () => {
    const validate = compile(recordBatchJsonSchema(telematics, MAX_RECORDS_PER_REQUEST, { omit: ['ingested_at'], maxLengths: { vehicle_id: 256 } }));
    expect(validate({ records: [reading(0)] })).toBe(true);
    expect(validate({ records: [] })).toBe(false);
    expect(validate({ records: Array.from({ length: 501 }, (_, i) => reading(i)) })).toBe(false);
    expect(validate({ records: [{ ...reading(0), ingested_at: 1 }] })).toBe(false);
    expect(validate({ records: [reading(0, { vehicle_id: 'v'.repeat(257) })] })).toBe(false);
    expect(validate([reading(0)])).toBe(false);
    expect(validate({ records: [reading(0)], more: 1 })).toBe(false);
  });
});

describe('the ingestion API as deployed: its model, its Velocity templates and Kinesis (API Gateway stand-in, moto)', () => {
  const STREAM = 'tlh-test-telemetry';
  const KEY = 'globex-test-key';
  const NOW = 1_793_650_000_123;
  let moto: Moto;
  let kinesis: KinesisClient;
  let api: IngestApiStandIn;

  beforeAll(async () => {
    moto = await startMoto();
    kinesis = motoKinesis(moto.endpoint);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await moto?.stop();
  });
  beforeEach(async () => {
    await api?.close();
    await moto.reset();
    await createStream(kinesis, STREAM, 2);
    api = await startIngestApi({ contract: telematics, partitionKeyField: 'vehicle_id', receivedAtField: 'ingested_at', streamName: STREAM, kinesis, apiKeys: { [KEY]: 'globex-logistics' }, now: () => NOW });
  });

  const post = async (body: unknown, key: string | null = KEY) => {
    const response = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  test('a batch is put on the stream record for record, each stamped with its arrival as the IoT rule stamps a device, and answered per record', async () => {
    const records = [reading(0), reading(1, { vehicle_id: 'globex-"quoted"-\'truck\'-ü', latitude: null }), reading(2)];
    const { status, body } = await post({ records });
    expect(status).toBe(200);
    expect(body.received).toBe(3);
    expect(body.failed).toBe(0);
    expect(body.results.map((r: any) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(body.results.every((r: any) => /^\d+$/.test(r.sequenceNumber))).toBe(true);
    const onStream = await streamContents(kinesis, STREAM);
    const byTs = (a: any, b: any) => a.ts - b.ts;
    expect(onStream.sort(byTs)).toEqual(records.map((r) => ({ ...r, ingested_at: NOW })).sort(byTs));
  });

  test.each([
    ['no API key', { records: [reading(0)] }, null, 403, 'FORBIDDEN'],
    ['an unknown API key', { records: [reading(0)] }, 'not-a-key', 403, 'FORBIDDEN'],
    ['a body that is not JSON', '{"records": [', KEY, 400, 'INVALID_RECORDS'],
    ['no records', { records: [] }, KEY, 400, 'INVALID_RECORDS'],
    ['501 records', { records: Array.from({ length: 501 }, (_, i) => reading(i)) }, KEY, 400, 'INVALID_RECORDS'],
    ['a record out of range', { records: [reading(0), reading(1, { speed_kmh: 900 })] }, KEY, 400, 'INVALID_RECORDS'],
    ['a record that sets its own arrival time', { records: [{ ...reading(0), ingested_at: 1 }] }, KEY, 400, 'INVALID_RECORDS'],
    ['a vehicle id Kinesis cannot take as a key', { records: [reading(0, { vehicle_id: 'v'.repeat(300) })] }, KEY, 400, 'INVALID_RECORDS'],
  ])('%s is refused whole, and nothing reaches the stream', async (_what, body, key, status, code) => {
    const answer = await post(body, key);
    expect([answer.status, answer.body.code]).toEqual([status, code]);
    expect(await streamContents(kinesis, STREAM)).toEqual([]);
  });

  test('a stream that is not there is the platform\'s fault: 502 STREAM_REFUSED, and the partner is told', async () => {
    await api.close();
    api = await startIngestApi({ contract: telematics, partitionKeyField: 'vehicle_id', receivedAtField: 'ingested_at', streamName: 'no-such-stream', kinesis, apiKeys: { [KEY]: 'p' } });
    const answer = await post({ records: [reading(0)] });
    expect([answer.status, answer.body.code]).toEqual([502, 'STREAM_REFUSED']);
  });

  test('records Kinesis refused one by one (throttled shards, which moto never does) are answered failed, in order, with its code', () => {
    // Kinesis's own answer shape (PutRecords API reference): the only mock here, for a fault moto cannot produce.
    const answer = {
      FailedRecordCount: 1,
      Records: [
        { SequenceNumber: '4959', ShardId: 'shardId-000000000000' },
        { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000001 in stream "x".' },
      ],
    };
    expect(JSON.parse(renderTemplate(PUT_RECORDS_RESPONSE_TEMPLATE, answer))).toEqual({
      received: 2,
      failed: 1,
      results: [
        { status: 'accepted', sequenceNumber: '4959' },
        { status: 'failed', error: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard shardId-000000000001 in stream "x".' },
      ],
    });
  });
});

describe('the ingestion API stack (dev)', () => {
  const { templates, config } = synthesize('dev');
  const t = templates.ingestion;
  const httpsApi = config.ingestion.httpsApi;

  test('POST /telemetry: an API key, the body validated against the contract model, straight to Kinesis PutRecords with a role of its own', () => {
    const [method] = Object.values(resourcesOf(t, 'AWS::ApiGateway::Method')).filter((m) => m.Properties.HttpMethod === 'POST');
    expect(method.Properties.ApiKeyRequired).toBe(true);
    expect(method.Properties.RequestValidatorId).toBeDefined();
    expect(method.Properties.Integration.Type).toBe('AWS');
    expect(joinedText(method.Properties.Integration.Uri)).toMatch(/:kinesis:action\/PutRecords$/);
    const [model] = Object.values(resourcesOf(t, 'AWS::ApiGateway::Model'));
    expect(model.Properties.Schema.properties.records.maxItems).toBe(500);
    expect(Object.keys(model.Properties.Schema.properties.records.items.properties)).not.toContain('ingested_at');
    const role = Object.entries(resourcesOf(t, 'AWS::IAM::Role')).find(([id]) => id.includes('TelemetryIngestApiIntegrationRole'))!;
    expect(role[1].Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'apigateway.amazonaws.com' });
    const statements = Object.values(resourcesOf(t, 'AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(role[0])).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((s: any) => s.Action).flat().sort()).toEqual(['kinesis:PutRecords', 'kms:GenerateDataKey']);
  });

  test('one API key and usage plan per partner, with its rate, burst and daily quota; the stage throttled and access-logged', () => {
    const plans = Object.values(resourcesOf(t, 'AWS::ApiGateway::UsagePlan'));
    expect(plans.map((p) => p.Properties.Throttle)).toEqual(httpsApi.partners.map((p) => ({ RateLimit: p.rateLimit, BurstLimit: p.burstLimit })));
    expect(plans.map((p) => p.Properties.Quota)).toEqual(httpsApi.partners.map((p) => ({ Limit: p.dailyQuota, Period: 'DAY' })));
    expect(Object.values(resourcesOf(t, 'AWS::ApiGateway::ApiKey'))).toHaveLength(httpsApi.partners.length);
    const [stage] = Object.values(resourcesOf(t, 'AWS::ApiGateway::Stage'));
    expect(stage.Properties.AccessLogSetting.Format).toContain('$context.identity.apiKeyId');
    expect(stage.Properties.MethodSettings[0]).toMatchObject({ ThrottlingRateLimit: httpsApi.throttle.rateLimit, ThrottlingBurstLimit: httpsApi.throttle.burstLimit });
  });

  test('alarms on whole requests refused by the stream and on a sender that keeps failing', () => {
    const descriptions = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm')).map((a) => joinedText(a.Properties.AlarmDescription));
    expect(descriptions.some((d) => d.startsWith('Telemetry ingestion API: whole requests refused'))).toBe(true);
    expect(descriptions.some((d) => d.startsWith('Telemetry ingestion API: requests refused as invalid'))).toBe(true);
  });
});

describe('the ingestion API: configuration that is refused', () => {
  const problems = (httpsApi: object) => {
    const dev = loadConfig('dev');
    const parsed = environmentConfigSchema.safeParse({ ...dev, ingestion: { ...dev.ingestion, httpsApi: { ...dev.ingestion.httpsApi, ...httpsApi } } });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('enabled without a partner, a partner faster than the stage, a repeated partner', () => {
    expect(problems({ partners: [] })).toEqual(['ingestion.httpsApi.partners: an enabled ingestion API needs at least one partner']);
    const partner = { name: 'fast-partner', rateLimit: 500, burstLimit: 10, dailyQuota: 10 };
    expect(problems({ partners: [partner] })).toEqual(["ingestion.httpsApi.partners: a partner's rateLimit cannot exceed the stage's"]);
    const ok = { ...partner, rateLimit: 1 };
    expect(problems({ partners: [ok, ok] })).toEqual(['ingestion.httpsApi.partners: partner names must be unique: each names an API key and a usage plan']);
  });

  test('staging and prod have no partner yet: no API', () => {
    for (const env of ['staging', 'prod'] as const) expect(loadConfig(env).ingestion.httpsApi.enabled).toBe(false);
  });
});
