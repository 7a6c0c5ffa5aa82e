import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { KinesisClient, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { parquetReadObjects } from 'hyparquet';
import { batchesOf, UndeliveredRecordsError } from '../../lambda/shared/kinesis-put';
import { dataKey, pullSensors, pullWindow, quarantineKey, SensorPullSettings } from '../../lambda/sensor-pull/core';
import { createStream, motoKinesis, streamContents } from '../../tools/stand-ins/kinesis';
import { createBucket, Moto, motoS3, startMoto } from '../../tools/stand-ins/moto';
import { makeReadings, Reading, SensorApiServer, startSensorApi } from '../../tools/stand-ins/sensor-api-server';

const BUCKET = 'tlh-test-raw';
const STREAM = 'tlh-test-sensor-readings';
const NOW = new Date('2026-11-21T10:10:30Z'); // window [10:00, 10:10)

describe('sensor-pull (unit)', () => {
  test('window: the minutes before the run, keys deterministic per window', () => {
    const { from, to } = pullWindow(NOW, 10);
    expect([from.toISOString(), to.toISOString()]).toEqual(['2026-11-21T10:00:00.000Z', '2026-11-21T10:10:00.000Z']);
    expect(dataKey(from, to)).toBe('raw/sensors/sensor_readings/ingest_date=2026-11-21/pull-20261121T100000Z-20261121T101000Z.parquet');
    expect(quarantineKey(from, to)).toBe('raw/sensors/_quarantine/sensor_readings/ingest_date=2026-11-21/pull-20261121T100000Z-20261121T101000Z.ndjson');
  });

  test('PutRecords batches stay within 500 records and 5 MiB, in order', () => {
    const small = Array.from({ length: 1_234 }, (_, i) => ({ Data: Buffer.alloc(100), PartitionKey: `k${i}` }));
    expect(batchesOf(small).map((b) => b.length)).toEqual([500, 500, 234]);
    // 20 KiB records: 5 MiB holds 255 of them with their keys
    const large: PutRecordsRequestEntry[] = Array.from({ length: 600 }, (_, i) => ({ Data: Buffer.alloc(20_480), PartitionKey: `k${String(i).padStart(3, '0')}` }));
    const batches = batchesOf(large);
    expect(batches.map((b) => b.length)).toEqual([255, 255, 90]);
    for (const b of batches) expect(b.reduce((n, e) => n + e.Data!.byteLength + e.PartitionKey!.length, 0)).toBeLessThanOrEqual(5 * 1_048_576);
    expect(batches.flat().map((e) => e.PartitionKey)).toEqual(large.map((e) => e.PartitionKey));
  });
});

describe('sensor-pull against moto S3 + Kinesis and a local sensor API (integration)', () => {
  let moto: Moto;
  let api: SensorApiServer;
  let s3: S3Client;
  let kinesis: KinesisClient;

  const settings = (overrides: Partial<SensorPullSettings> = {}): SensorPullSettings => ({
    bucket: BUCKET,
    streamName: STREAM,
    apiBaseUrl: api.baseUrl,
    windowMinutes: 10,
    requestTimeoutMs: 2_000,
    http: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    putRecords: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  });

  const METRIC_NAMES = ['PagesFetched', 'ReadingsWritten', 'ReadingsQuarantined', 'ReadingsRepeated', 'PutRecordsCalls', 'RecordsRetried', 'RecordsUndelivered'];
  /** The metrics a run published, whether it succeeded or threw (the handler publishes them in a finally). */
  let published: Record<string, number | undefined> = {};

  async function run(now = NOW, client = kinesis) {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'sensor-pull' });
    const counted = new Set<string>();
    try {
      const report = await pullSensors(settings(), now, {
        s3,
        kinesis: client,
        logger: new Logger({ logLevel: 'SILENT' }),
        metrics: { addMetric: (name, _unit, value) => (counted.add(name), metrics.addMetric(name, MetricUnit.Count, value)) },
      });
      return { report, metrics: emitted() };
    } finally {
      published = emitted();
    }
    function emitted() {
      const emf = counted.size ? (metrics.serializeMetrics() as unknown as Record<string, number>) : {};
      return Object.fromEntries(METRIC_NAMES.filter((n) => counted.has(n)).map((n) => [n, emf[n]]));
    }
  }

  async function objects(): Promise<string[]> {
    return ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key!).sort();
  }
  async function parquetRows(key: string): Promise<Record<string, unknown>[]> {
    const bytes = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray();
    return (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer })) as Record<string, unknown>[];
  }
  const ids = (rows: { reading_id?: unknown }[]) => rows.map((r) => String(r.reading_id)).sort();

  /**
   * Injects a fault moto cannot produce: on the next `calls` PutRecords calls, the entries picked
   * are withheld from moto and reported back as failed with `errorCode`, exactly as Kinesis
   * reports a partial failure. The stream then really lacks them.
   */
  function failRecords(client: KinesisClient, calls: number, pick: (index: number) => boolean, errorCode = 'ProvisionedThroughputExceededException') {
    let remaining = calls;
    client.middlewareStack.add(
      (next) => async (args: any) => {
        if (remaining === 0 || !args.input?.Records) return next(args);
        remaining--;
        const all = args.input.Records as PutRecordsRequestEntry[];
        const failed = new Set(all.map((_, i) => i).filter(pick));
        const result: any = await next({ ...args, input: { ...args.input, Records: all.filter((_, i) => !failed.has(i)) } });
        let k = 0;
        result.output.Records = all.map((_, i) => (failed.has(i) ? { ErrorCode: errorCode, ErrorMessage: 'injected by the test' } : result.output.Records[k++]));
        result.output.FailedRecordCount = failed.size;
        return result;
      },
      { step: 'initialize', name: `injectPartialFailure${Math.random()}` },
    );
  }

  beforeAll(async () => {
    moto = await startMoto();
    api = await startSensorApi();
    s3 = motoS3(moto.endpoint);
    kinesis = motoKinesis(moto.endpoint);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    api.requests.length = 0;
    await createBucket(s3, BUCKET);
    await createStream(kinesis, STREAM, 2);
  });

  test('overlapping windows: each pull writes its own file and stream records; the overlap arrives twice', async () => {
    // one reading every 30 s from 09:55 to 10:14:30
    api.setReadings(makeReadings('2026-11-21T09:55:00Z', 40, 30));
    const first = await run(new Date('2026-11-21T10:10:30Z')); // 10:00 - 10:10: readings 10..29
    const second = await run(new Date('2026-11-21T10:15:10Z')); // 10:05 - 10:15: readings 20..39
    expect([first.report.readings, second.report.readings]).toEqual([20, 20]);
    expect(await objects()).toEqual(
      [first.report.dataKey, second.report.dataKey, quarantineKey(first.report.from, first.report.to), quarantineKey(second.report.from, second.report.to)].sort(),
    );
    expect(ids(await parquetRows(first.report.dataKey))).toEqual(Array.from({ length: 20 }, (_, i) => `r-${String(10 + i).padStart(6, '0')}`));
    const stream = await streamContents(kinesis, STREAM);
    expect(stream).toHaveLength(40);
    const counts = new Map<string, number>();
    for (const r of stream) counts.set(String(r.reading_id), (counts.get(String(r.reading_id)) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n === 2).map(([id]) => id).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `r-${String(20 + i).padStart(6, '0')}`),
    );
  });

  test('the Parquet file holds exactly the contract columns with their values', async () => {
    const readings = makeReadings('2026-11-21T10:00:00Z', 3, 60);
    api.setReadings(readings);
    const { report } = await run();
    const rows = await parquetRows(report.dataKey);
    expect(rows).toEqual(readings.map((r) => ({ ...r, ts: new Date(r.ts) })));
  });

  test('malformed readings are quarantined with their reasons, never written or streamed', async () => {
    const readings: Reading[] = makeReadings('2026-11-21T10:00:00Z', 5, 60);
    readings[1] = { ...readings[1], value: 'NaN' as unknown as number };
    readings[3] = { ...readings[3], metric: 'colour', ts: 'yesterday' };
    delete (readings[4] as Partial<Reading>).sensor_id;
    api.setReadings(readings);
    const { report, metrics } = await run();
    expect(report).toMatchObject({ readings: 2, quarantined: 3 });
    expect(await objects()).toEqual([report.dataKey, quarantineKey(report.from, report.to)].sort());
    const quarantine = (await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: quarantineKey(report.from, report.to) }))).Body!.transformToString())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(quarantine.map((q) => [q.record.reading_id, q.reasons, q.page, q.index])).toEqual([
      ['r-000001', ['value: expected a finite number'], 1, 1],
      ['r-000003', ['ts: expected a UTC timestamp', "metric: 'colour' is not one of temperature, pressure, vibration, humidity, fuel_level"], 1, 3],
      ['r-000004', ['sensor_id: required'], 1, 4],
    ]);
    expect(ids(await parquetRows(report.dataKey))).toEqual(['r-000000', 'r-000002']);
    expect(ids(await streamContents(kinesis, STREAM))).toEqual(['r-000000', 'r-000002']);
    expect(metrics).toMatchObject({ ReadingsWritten: 2, ReadingsQuarantined: 3 });
  });

  test('an oversized pull is paged and batched: 2,345 readings, 3 pages, 5 PutRecords calls', async () => {
    api.setReadings(makeReadings('2026-11-21T10:00:00Z', 2_345, 0.25));
    const { report, metrics } = await run();
    expect(report.pages).toBe(3);
    expect(metrics).toEqual({ PagesFetched: 3, ReadingsWritten: 2_345, ReadingsQuarantined: 0, ReadingsRepeated: 0, PutRecordsCalls: 5, RecordsRetried: 0, RecordsUndelivered: 0 });
    const stream = await streamContents(kinesis, STREAM);
    expect(stream).toHaveLength(2_345);
    expect(new Set(stream.map((r) => r.reading_id)).size).toBe(2_345);
  });

  test('a PutRecords partial failure resends only the failed entries; each record lands once', async () => {
    api.setReadings(makeReadings('2026-11-21T10:00:00Z', 600, 0.5));
    const client = motoKinesis(moto.endpoint);
    failRecords(client, 1, (i) => i % 100 === 7); // 5 of the first batch of 500
    const { metrics } = await run(NOW, client);
    expect(metrics).toMatchObject({ PutRecordsCalls: 3, RecordsRetried: 5 });
    const stream = await streamContents(kinesis, STREAM);
    expect(stream).toHaveLength(600);
    expect(new Set(stream.map((r) => r.reading_id)).size).toBe(600);
  });

  test('records still failing after every attempt fail the invocation; its retry rewrites the same file', async () => {
    api.setReadings(makeReadings('2026-11-21T10:00:00Z', 10, 30));
    const client = motoKinesis(moto.endpoint);
    failRecords(client, 3, (i) => i < 2, 'InternalFailure');
    await expect(run(NOW, client)).rejects.toThrow(new UndeliveredRecordsError(2, { InternalFailure: 2 }).message);
    expect(published).toMatchObject({ ReadingsWritten: 10, RecordsUndelivered: 2 }); // counted although the run failed
    const afterFailure = await objects();
    const { from, to } = pullWindow(NOW, 10);
    expect(afterFailure).toEqual([dataKey(from, to), quarantineKey(from, to)].sort());
    expect(await streamContents(kinesis, STREAM)).toHaveLength(8);
    await run(); // the invocation's retry, no fault this time
    expect(await objects()).toEqual(afterFailure);
    const stream = await streamContents(kinesis, STREAM);
    // at least once: the 8 that landed first arrive again; Flink keeps the first of each reading_id
    expect(stream).toHaveLength(18);
    expect(new Set(stream.map((r) => r.reading_id)).size).toBe(10);
  });

  test('an API answer that breaks the page schema fails the pull and writes nothing', async () => {
    api.failNext({ status: 200, body: { items: [] } });
    await expect(run()).rejects.toThrow(/page 1 does not match the API schema: readings/);
    expect(await objects()).toEqual([]);
    expect(await streamContents(kinesis, STREAM)).toEqual([]);
  });

  test('HTTP 503 then success: the page is retried', async () => {
    api.setReadings(makeReadings('2026-11-21T10:00:00Z', 4, 60));
    api.failNext({ status: 503, body: {} });
    const { report } = await run();
    expect(report.readings).toBe(4);
    expect(api.requests).toHaveLength(2);
  });

  // --- hostile input: one bad reading never blocks its window, nothing passes silently wrong ---

  async function quarantineOf(report: { from: Date; to: Date }): Promise<any[]> {
    const text = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: quarantineKey(report.from, report.to) }))).Body!.transformToString();
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
  const reading = (id: string, ts: string, value = 1): Reading => ({ reading_id: id, sensor_id: 's-1', ts, metric: 'temperature', value, unit: 'C' });
  /** The API's pages as they are (the stand-in's own windowing left out): a hostile API. */
  const pages = (...pageReadings: unknown[][]) =>
    api.failNext(...pageReadings.map((readings, i) => ({ status: 200, body: { readings, next_page_token: i < pageReadings.length - 1 ? String(i + 1) : null } })));

  test('impossible times (25:00, 30 February) are quarantined and the rest of the window lands', async () => {
    const good = makeReadings('2026-11-21T10:00:00Z', 3, 60);
    pages([good[0], reading('r-25h', '2026-11-21T25:00:00Z'), good[1], reading('r-feb30', '2026-02-30T10:00:00Z'), good[2]]);
    const { report, metrics } = await run();
    expect(report).toMatchObject({ readings: 3, quarantined: 2 });
    expect((await quarantineOf(report)).map((q) => [q.record.reading_id, q.reasons])).toEqual([
      ['r-25h', ["ts: '2026-11-21T25:00:00Z' is not a real date and time"]],
      ['r-feb30', ["ts: '2026-02-30T10:00:00Z' is not a real date and time"]],
    ]);
    expect(ids(await parquetRows(report.dataKey))).toEqual(ids(good));
    expect(ids(await streamContents(kinesis, STREAM))).toEqual(ids(good));
    expect(metrics).toMatchObject({ ReadingsWritten: 3, ReadingsQuarantined: 2 });
  });

  test('reading ids Kinesis would refuse, and a reading over 1 MiB, are quarantined; the others are streamed', async () => {
    const good = makeReadings('2026-11-21T10:00:00Z', 2, 60);
    const huge = { ...reading('r-huge', '2026-11-21T10:05:00Z'), unit: 'x'.repeat(1_100_000) };
    pages([reading('', '2026-11-21T10:01:00Z'), good[0], reading('k'.repeat(257), '2026-11-21T10:02:00Z'), huge, reading('ü'.repeat(256), '2026-11-21T10:03:00Z'), good[1]]);
    const { report } = await run();
    const quarantined = await quarantineOf(report);
    expect(quarantined.map((q) => [String(q.record.reading_id).length, q.reasons])).toEqual([
      [0, ['reading_id: empty; Kinesis partition keys are 1 to 256 characters']],
      [257, ['reading_id: 257 characters; Kinesis partition keys are at most 256']],
      [6, [expect.stringMatching(/^record: 1100\d{3} bytes with its partition key; a Kinesis record is at most 1048576 bytes$/)]],
    ]);
    // 256 characters (512 bytes in UTF-8) is within the limit
    expect((await streamContents(kinesis, STREAM)).map((r) => String(r.reading_id).length).sort((x, y) => x - y)).toEqual([8, 8, 256]);
    expect(report.readings).toBe(3);
  });

  test('a null, a number and an array among the readings are quarantined with their page and index', async () => {
    const good = makeReadings('2026-11-21T10:00:00Z', 2, 60);
    pages([good[0], null, 42], [['a'], good[1]]);
    const { report } = await run();
    expect((await quarantineOf(report)).map((q) => [q.page, q.index, q.record, q.reasons])).toEqual([
      [1, 1, null, ['not a JSON object but null']],
      [1, 2, 42, ['not a JSON object but a number']],
      [2, 0, ['a'], ['not a JSON object but an array']],
    ]);
    expect(report).toMatchObject({ pages: 2, readings: 2, quarantined: 3 });
  });

  test('one rule for a repeated reading_id, within a page and across pages: the first kept; same ts dropped and counted; another ts quarantined', async () => {
    const [a, b] = makeReadings('2026-11-21T10:00:00Z', 2, 60);
    const aLater = { ...a, ts: '2026-11-21T10:07:00Z', value: 99 };
    pages([a, b, a], [a, aLater, b]); // the API repeats a page's readings, and one id with another ts
    const { report, metrics } = await run();
    expect(report).toMatchObject({ readings: 2, quarantined: 1, repeated: 3 });
    expect((await quarantineOf(report)).map((q) => [q.record.ts, q.reasons])).toEqual([
      ['2026-11-21T10:07:00Z', [`reading_id: repeated with another ts; the first occurrence, with ts ${a.ts}, is kept`]],
    ]);
    expect((await parquetRows(report.dataKey)).map((r) => [r.reading_id, (r.ts as Date).toISOString()])).toEqual([[a.reading_id, a.ts], [b.reading_id, b.ts]]);
    expect(await streamContents(kinesis, STREAM)).toHaveLength(2);
    expect(metrics).toMatchObject({ ReadingsRepeated: 3, ReadingsQuarantined: 1 });
  });

  test('readings far outside the asked window (2020, 2099) are quarantined, not streamed to move the watermark', async () => {
    const good = makeReadings('2026-11-21T10:00:00Z', 1, 60);
    pages([reading('r-2020', '2020-01-01T00:00:00Z'), good[0], reading('r-2099', '2099-01-01T00:00:00Z'), reading('r-edge', '2026-11-21T10:10:00Z')]);
    const { report } = await run();
    expect((await quarantineOf(report)).map((q) => [q.record.reading_id, q.reasons])).toEqual(
      ['r-2020', 'r-2099', 'r-edge'].map((id, i) => [id, [`ts: ${['2020-01-01T00:00:00Z', '2099-01-01T00:00:00Z', '2026-11-21T10:10:00Z'][i]} is outside the pulled window 2026-11-21T10:00:00.000Z .. 2026-11-21T10:10:00.000Z`]]),
    );
    expect(ids(await streamContents(kinesis, STREAM))).toEqual(ids(good));
  });

  test('a batch that stays refused does not stop the later batches; the error counts every undelivered record', async () => {
    api.setReadings(makeReadings('2026-11-21T10:00:00Z', 1_200, 0.25)); // 3 batches: 500, 500, 200
    const client = motoKinesis(moto.endpoint);
    let call = 0;
    client.middlewareStack.add(
      (next) => async (args: any) => {
        // A fault moto cannot produce: the first batch's calls fail as a whole, every attempt.
        if (args.input?.Records && ++call <= 3) throw Object.assign(new Error('injected by the test'), { name: 'InternalFailure' });
        return next(args);
      },
      { step: 'initialize', name: 'failFirstBatch' },
    );
    await expect(run(NOW, client)).rejects.toThrow(new UndeliveredRecordsError(500, { InternalFailure: 500 }).message);
    expect(await streamContents(kinesis, STREAM)).toHaveLength(700);
    expect(published).toMatchObject({ ReadingsWritten: 1_200, RecordsUndelivered: 500, PutRecordsCalls: 5 });
  });

  test('a clean rerun of a window empties the quarantine an earlier run of it wrote', async () => {
    const good = makeReadings('2026-11-21T10:00:00Z', 2, 60);
    pages([good[0], reading('r-bad', 'yesterday'), good[1]]);
    const first = await run();
    expect(await quarantineOf(first.report)).toHaveLength(1);
    api.setReadings(good);
    const again = await run();
    expect(await quarantineOf(again.report)).toEqual([]);
    expect(again.metrics).toMatchObject({ ReadingsQuarantined: 0, ReadingsWritten: 2 });
  });

  test('429: the page is retried (test/lambda/http-json.test.ts: how long it waits)', async () => {
    api.setReadings(makeReadings('2026-11-21T10:00:00Z', 2, 60));
    api.failNext({ status: 429, body: { error: 'slow down' } });
    const { report } = await run();
    expect(report.readings).toBe(2);
    expect(api.requests).toHaveLength(2);
  });
});
