import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { recordProblems } from '../../lambda/shared/contract-records';
import { backoffDelayMs } from '../../lambda/shared/retry';
import {
  CATCH_UP_HOURS,
  dataKey,
  pullWeather,
  pullWindow,
  quarantineKey,
  rowsOf,
  WeatherPullError,
  WeatherPullSettings,
} from '../../lambda/weather-pull/core';
import { conditionOf, openMeteoResponse } from '../../lambda/weather-pull/open-meteo';
import { contractOf, loadContracts } from '../../lib/contracts';
import { createBucket, freePort, Moto, motoS3, startMoto } from '../../tools/stand-ins/moto';
import { expectedTemperature, openMeteoDay, startWeatherApi, WeatherApiServer } from '../../tools/stand-ins/weather-api-server';

const BUCKET = 'tlh-test-raw';
const DAY = '2026-11-21';
const NOW = new Date(`${DAY}T10:05:00Z`); // complete hours: 00:00 to 09:00
const MADRID = { id: 'madrid', name: 'Madrid', latitude: 40.4168, longitude: -3.7038 };
const BARCELONA = { id: 'barcelona', name: 'Barcelona', latitude: 41.3874, longitude: 2.1686 };
const SAO_PAULO = { id: 'sao-paulo', name: 'São Paulo', latitude: -23.5505, longitude: -46.6333 };

describe('weather-pull core (unit)', () => {
  test('the window is the day of the last complete hour and its complete hours', () => {
    expect(pullWindow(NOW)).toEqual({ day: DAY, hours: Array.from({ length: 10 }, (_, h) => `${DAY}T${String(h).padStart(2, '0')}:00:00Z`) });
    const justAfterMidnight = pullWindow(new Date('2026-11-22T00:05:00Z'));
    expect(justAfterMidnight.day).toBe(DAY);
    expect(justAfterMidnight.hours).toHaveLength(24);
    expect(justAfterMidnight.hours[23]).toBe(`${DAY}T23:00:00Z`);
  });

  test('keys are deterministic per city id and day', () => {
    expect(dataKey(DAY, SAO_PAULO.id)).toBe(`raw/weather/weather/ingest_date=${DAY}/sao-paulo.ndjson`);
    expect(quarantineKey(DAY, MADRID.id)).toBe(`raw/weather/_quarantine/weather/ingest_date=${DAY}/madrid.ndjson`);
  });

  test.each([
    [0, 'clear'],
    [2, 'cloudy'],
    [45, 'fog'],
    [53, 'drizzle'],
    [63, 'rain'],
    [81, 'rain'],
    [75, 'snow'],
    [95, 'thunderstorm'],
    [42, null],
    [null, null],
  ])('WMO code %p is %p', (code, condition) => {
    expect(conditionOf(code)).toBe(condition);
  });

  test('rows: a missing hour is reported, a null temperature and an unknown code are quarantined with reasons', () => {
    const answer = openMeteoResponse.parse(
      openMeteoDay(DAY, MADRID.latitude, MADRID.longitude, { omitHours: [4], overrides: { 2: { temperature: null }, 7: { code: 42 } } }),
    );
    const rows = rowsOf(MADRID, answer, pullWindow(NOW));
    expect(rows.missingHours).toEqual([`${DAY}T04:00:00Z`]);
    expect(rows.valid.map((r) => r.observation_hour)).toEqual([0, 1, 3, 5, 6, 8, 9].map((h) => `${DAY}T0${h}:00:00Z`));
    expect(rows.quarantined).toEqual([
      { reasons: ['temperature_c: required'], record: expect.objectContaining({ observation_hour: `${DAY}T02:00:00Z`, temperature_c: null }) },
      {
        reasons: ['condition: required', 'weather_code: 42 is not a WMO code'],
        record: expect.objectContaining({ observation_hour: `${DAY}T07:00:00Z`, weather_code: 42, condition: null }),
      },
    ]);
    expect(rows.valid[0]).toEqual({
      city: 'Madrid',
      observation_hour: `${DAY}T00:00:00Z`,
      temperature_c: 5,
      precipitation_mm: 0.5,
      wind_speed_kmh: 10,
      weather_code: 61,
      condition: 'rain',
      latitude: MADRID.latitude,
      longitude: MADRID.longitude,
    });
  });

  test('records are validated against the contract: types, ranges, allowed values, unknown fields', () => {
    const contract = contractOf(loadContracts(), 'weather');
    expect(
      recordProblems(contract, {
        city: 'Madrid',
        observation_hour: '2026-11-21 10:00',
        temperature_c: 99,
        precipitation_mm: -1,
        weather_code: 1.5,
        condition: 'sunny',
        extra: true,
      }),
    ).toEqual([
      'observation_hour: expected an ISO-8601 UTC timestamp',
      'temperature_c: 99 is above the maximum 60',
      'precipitation_mm: -1 is below the minimum 0',
      'weather_code: expected a 32-bit integer',
      "condition: 'sunny' is not one of clear, cloudy, fog, drizzle, rain, snow, thunderstorm",
      'extra: not in the contract',
    ]);
  });

  test('backoff is exponential, capped, and jittered below the ceiling', () => {
    const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 500 };
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, policy, () => 0.999999))).toEqual([99, 199, 399, 499]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });
});

describe('weather-pull against moto S3 and a local weather API (integration)', () => {
  let moto: Moto;
  let api: WeatherApiServer;
  let s3: S3Client;

  const settings = (overrides: Partial<WeatherPullSettings> = {}): WeatherPullSettings => ({
    bucket: BUCKET,
    apiBaseUrl: api.baseUrl,
    cities: [MADRID, BARCELONA],
    requestTimeoutMs: 300,
    maxAttempts: 3,
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 40,
    concurrency: 4,
    ...overrides,
  });
  const s3Client = (endpoint: string) => motoS3(endpoint, { maxAttempts: 2 });

  /** Every object in the bucket with its parsed NDJSON lines, by key. */
  async function bucketContents(): Promise<Record<string, unknown[]>> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const contents: Record<string, unknown[]> = {};
    for (const o of listed.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }))).Body!.transformToString();
      contents[o.Key!] = body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    }
    return contents;
  }

  function run(overrides: Partial<WeatherPullSettings> = {}, client: S3Client = s3) {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'weather-pull' });
    const report = pullWeather(settings(overrides), NOW, {
      s3: client,
      logger: new Logger({ serviceName: 'weather-pull', logLevel: 'SILENT' }),
      metrics: { addMetric: (name, _unit, value) => metrics.addMetric(name, MetricUnit.Count, value) },
    });
    return report.then((r) => ({ report: r, metrics: metricValues(metrics) }));
  }

  function metricValues(metrics: Metrics): Record<string, number> {
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    const names = ['CitiesFetched', 'CitiesFailed', 'RowsWritten', 'RowsQuarantined', 'HoursMissing', 'HoursKept'];
    return Object.fromEntries(names.map((n) => [n, emf[n] as number]));
  }

  const goodDay = (city: typeof MADRID, options = {}) => ({ body: openMeteoDay(DAY, city.latitude, city.longitude, options) });

  beforeAll(async () => {
    moto = await startMoto();
    api = await startWeatherApi();
    s3 = s3Client(moto.endpoint);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    api.requests.clear();
    await createBucket(s3, BUCKET);
  });

  /** The objects a written city leaves: its day's data and its quarantine (empty or not). */
  const written = (...cities: (typeof MADRID)[]) => cities.flatMap((c) => [dataKey(DAY, c.id), quarantineKey(DAY, c.id)]).sort();

  test('success: one object per city holding the complete hours, and an empty quarantine', async () => {
    api.script(MADRID.latitude, [goodDay(MADRID)]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report, metrics } = await run();
    expect(report.results.map((r) => [r.city, r.ok, r.rowsWritten])).toEqual([
      ['Madrid', true, 10],
      ['Barcelona', true, 10],
    ]);
    const contents = await bucketContents();
    expect(Object.keys(contents).sort()).toEqual(written(MADRID, BARCELONA));
    const madrid = contents[dataKey(DAY, MADRID.id)] as Record<string, unknown>[];
    expect(madrid.map((r) => r.temperature_c)).toEqual(Array.from({ length: 10 }, (_, h) => expectedTemperature(h)));
    expect(madrid.every((r) => r.city === 'Madrid')).toBe(true);
    expect(contents[quarantineKey(DAY, MADRID.id)]).toEqual([]);
    expect(metrics).toEqual({ CitiesFetched: 2, CitiesFailed: 0, RowsWritten: 20, RowsQuarantined: 0, HoursMissing: 0, HoursKept: 0 });
    // the request asked for the window's day in UTC, with the contract's variables
    const url = api.requests.get(String(MADRID.latitude))![0];
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ start_date: DAY, end_date: DAY, timezone: 'GMT' });
  });

  test('HTTP 500 then success: retried, written once', async () => {
    api.script(MADRID.latitude, [{ status: 500, body: { error: true } }, goodDay(MADRID)]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report } = await run();
    expect(report.results.every((r) => r.ok)).toBe(true);
    expect(api.requests.get(String(MADRID.latitude))).toHaveLength(2);
    expect(Object.keys(await bucketContents()).sort()).toEqual(written(MADRID, BARCELONA));
  });

  test('a city that always times out fails after its attempts; the other is written', async () => {
    api.script(MADRID.latitude, [{ ...goodDay(MADRID), delayMs: 1_000 }]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report, metrics } = await run();
    const madrid = report.results.find((r) => r.city === 'Madrid')!;
    expect(madrid).toMatchObject({ ok: false, error: 'timed out after 300 ms (after 3 attempts)' });
    expect(api.requests.get(String(MADRID.latitude))).toHaveLength(3);
    expect(Object.keys(await bucketContents())).toEqual(written(BARCELONA));
    expect(metrics.CitiesFailed).toBe(1);
  });

  test('malformed JSON fails the city at once (not retried) and writes nothing for it', async () => {
    api.script(MADRID.latitude, [{ body: '{"latitude": 40.4, "hourly": {"time": [}' }]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report } = await run();
    expect(report.results.find((r) => r.city === 'Madrid')).toMatchObject({ ok: false, error: expect.stringMatching(/^malformed JSON in the response/) });
    expect(api.requests.get(String(MADRID.latitude))).toHaveLength(1);
    expect(Object.keys(await bucketContents())).toEqual(written(BARCELONA));
  });

  test('a body cut short without Content-Length is retried, not taken for malformed JSON', async () => {
    const whole = JSON.stringify(goodDay(MADRID).body);
    api.script(MADRID.latitude, [{ body: whole, cutAfter: 200 }, goodDay(MADRID)]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report } = await run();
    expect(report.results.find((r) => r.city === 'Madrid')).toMatchObject({ ok: true, rowsWritten: 10 });
    expect(api.requests.get(String(MADRID.latitude))).toHaveLength(2);
  });

  test('an answer that breaks the API schema fails the city with the schema problem', async () => {
    api.script(MADRID.latitude, [{ body: { latitude: 40.4, longitude: -3.7, hourly: { time: [`${DAY}T00:00`], temperature_2m: [] } } }]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report } = await run();
    expect(report.results.find((r) => r.city === 'Madrid')!.error).toMatch(/^answer does not match the Open-Meteo schema: hourly.precipitation/);
    expect(Object.keys(await bucketContents())).toEqual(written(BARCELONA));
  });

  test('an answer in local time (a UTC offset) is refused, never written an hour off', async () => {
    const local = { ...(goodDay(MADRID).body as object), utc_offset_seconds: 3600, timezone: 'Europe/Madrid' };
    api.script(MADRID.latitude, [{ body: local }]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report } = await run();
    expect(report.results.find((r) => r.city === 'Madrid')).toMatchObject({
      ok: false,
      error: 'answer is in local time (utc_offset_seconds 3600, timezone Europe/Madrid), not the GMT asked for; refused',
    });
    expect(Object.keys(await bucketContents())).toEqual(written(BARCELONA));
  });

  test('an hour given twice with different values is quarantined with its reason; given twice alike, it is one row', async () => {
    const day = goodDay(MADRID).body as any;
    const twice = (h: number, temperature: number) => {
      day.hourly.time.push(`${DAY}T0${h}:00`);
      day.hourly.temperature_2m.push(temperature);
      day.hourly.precipitation.push(day.hourly.precipitation[h]);
      day.hourly.wind_speed_10m.push(day.hourly.wind_speed_10m[h]);
      day.hourly.weather_code.push(day.hourly.weather_code[h]);
    };
    twice(3, 30); // another temperature for 03:00
    twice(6, expectedTemperature(6)); // the same values for 06:00
    api.script(MADRID.latitude, [{ body: day }]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report } = await run();
    expect(report.results.find((r) => r.city === 'Madrid')).toMatchObject({ ok: true, rowsWritten: 9, rowsQuarantined: 2, missingHours: [] });
    const contents = await bucketContents();
    expect((contents[dataKey(DAY, MADRID.id)] as any[]).map((r) => r.observation_hour.slice(11, 13))).toEqual(['00', '01', '02', '04', '05', '06', '07', '08', '09']);
    expect((contents[quarantineKey(DAY, MADRID.id)] as any[]).map((q) => [q.record.temperature_c, q.reasons])).toEqual([
      [expectedTemperature(3), ['observation_hour: given 2 times with different values']],
      [30, ['observation_hour: given 2 times with different values']],
    ]);
  });

  test('a later run that gets fewer hours keeps the hours the day already holds', async () => {
    api.script(MADRID.latitude, [goodDay(MADRID)]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    await run();
    // the next run's answer lacks every hour but 00:00, and refuses 01:00 (a null temperature)
    api.script(MADRID.latitude, [goodDay(MADRID, { omitHours: Array.from({ length: 22 }, (_, h) => h + 2), overrides: { 0: { temperature: 7 }, 1: { temperature: null } } })]);
    const { report, metrics } = await run();
    expect(report.results.find((r) => r.city === 'Madrid')).toMatchObject({ ok: true, rowsWritten: 10, rowsQuarantined: 1, hoursKept: 9, missingHours: [] });
    const madrid = (await bucketContents())[dataKey(DAY, MADRID.id)] as any[];
    expect(madrid.map((r) => r.temperature_c)).toEqual([7, ...Array.from({ length: 9 }, (_, h) => expectedTemperature(h + 1))]); // 00:00 updated, the rest kept
    expect(metrics).toMatchObject({ HoursKept: 9, HoursMissing: 0, RowsQuarantined: 1 });
  });

  test('a schema-valid answer with a missing hour and a null value: rows written, hour reported, row quarantined', async () => {
    api.script(MADRID.latitude, [goodDay(MADRID, { omitHours: [5], overrides: { 8: { temperature: null } } })]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const { report, metrics } = await run();
    expect(report.results.find((r) => r.city === 'Madrid')).toMatchObject({ ok: true, rowsWritten: 8, rowsQuarantined: 1, missingHours: [`${DAY}T05:00:00Z`] });
    const contents = await bucketContents();
    expect(Object.keys(contents).sort()).toEqual(written(MADRID, BARCELONA));
    expect((contents[dataKey(DAY, MADRID.id)] as any[]).map((r) => r.observation_hour.slice(11, 13))).toEqual(['00', '01', '02', '03', '04', '06', '07', '09']);
    expect(contents[quarantineKey(DAY, MADRID.id)]).toEqual([
      { reasons: ['temperature_c: required'], record: expect.objectContaining({ city: 'Madrid', observation_hour: `${DAY}T08:00:00Z` }) },
    ]);
    expect(metrics).toEqual({ CitiesFetched: 2, CitiesFailed: 0, RowsWritten: 18, RowsQuarantined: 1, HoursMissing: 1, HoursKept: 0 });
  });

  test('a clean rerun empties the quarantine of an earlier run: no row is both data and quarantined', async () => {
    api.script(MADRID.latitude, [goodDay(MADRID, { overrides: { 8: { temperature: null } } })]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    await run();
    expect((await bucketContents())[quarantineKey(DAY, MADRID.id)]).toHaveLength(1);
    api.script(MADRID.latitude, [goodDay(MADRID)]);
    await run();
    const contents = await bucketContents();
    expect(contents[quarantineKey(DAY, MADRID.id)]).toEqual([]);
    expect(contents[dataKey(DAY, MADRID.id)]).toHaveLength(10);
  });

  test('the data write failing after the quarantine write: the city fails, and its quarantined rows are still counted', async () => {
    api.script(MADRID.latitude, [goodDay(MADRID, { overrides: { 8: { temperature: null } } })]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const client = s3Client(moto.endpoint);
    // A fault moto cannot produce: S3 refusing the data objects' PUTs only.
    client.middlewareStack.add(
      (next) => async (args: any) => {
        if (args.input?.Key?.startsWith('raw/weather/weather/') && args.input?.Body !== undefined) throw Object.assign(new Error('injected by the test'), { name: 'ServiceUnavailable' });
        return next(args);
      },
      { step: 'initialize', name: 'refuseDataPuts' },
    );
    const { report, metrics } = await run({}, client);
    expect(report.results.find((r) => r.city === 'Madrid')).toMatchObject({ ok: false, rowsQuarantined: 1, error: 'S3 failed: ServiceUnavailable: injected by the test' });
    expect(metrics).toMatchObject({ CitiesFailed: 2, RowsQuarantined: 1 });
    expect(Object.keys(await bucketContents()).sort()).toEqual([quarantineKey(DAY, BARCELONA.id), quarantineKey(DAY, MADRID.id)].sort());
  });

  test('one city failing: the others are written and the error names the failed city and the API\'s reason', async () => {
    const cities = [MADRID, BARCELONA, SAO_PAULO];
    api.script(MADRID.latitude, [goodDay(MADRID)]);
    api.script(BARCELONA.latitude, [{ status: 400, body: { error: true, reason: 'bad coordinates' } }]);
    api.script(SAO_PAULO.latitude, [goodDay(SAO_PAULO)]);
    const { report } = await run({ cities });
    const failures = report.results.filter((r) => !r.ok);
    expect(new WeatherPullError(failures, 3).message).toBe('weather-pull: 1 of 3 cities failed: Barcelona (HTTP 400 (not retried): {"error":true,"reason":"bad coordinates"})');
    expect(Object.keys(await bucketContents()).sort()).toEqual(written(MADRID, SAO_PAULO));
  });

  test('S3 down: every city fails naming the write, and the bucket stays empty', async () => {
    api.script(MADRID.latitude, [goodDay(MADRID)]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    const deadS3 = s3Client(`http://127.0.0.1:${await freePort()}`);
    const { report, metrics } = await run({}, deadS3);
    expect(report.results.map((r) => r.ok)).toEqual([false, false]);
    for (const r of report.results) expect(r.error).toMatch(/^S3 failed: /);
    expect(metrics).toEqual({ CitiesFetched: 0, CitiesFailed: 2, RowsWritten: 0, RowsQuarantined: 0, HoursMissing: 0, HoursKept: 0 });
    expect(await bucketContents()).toEqual({});
  });

  test('an outage across midnight: the 00:05 run fails, and the next run, once the API is back, fills the day before', async () => {
    const NEXT = '2026-11-22';
    const at = (time: string) =>
      pullWeather(settings({ cities: [MADRID] }), new Date(time), {
        s3,
        logger: new Logger({ serviceName: 'weather-pull', logLevel: 'SILENT' }),
        metrics: { addMetric: () => undefined },
      });
    const answer = (day: string, reply: object) => api.answerDay(MADRID.latitude, day, reply);
    answer(DAY, { body: openMeteoDay(DAY, MADRID.latitude, MADRID.longitude) });
    const evening = await at(`${DAY}T23:05:00Z`);
    expect(evening.catchUp).toBeUndefined();
    // The API goes down before midnight: the run that takes the day's last hour fails.
    answer(DAY, { status: 503, body: { error: true } });
    answer(NEXT, { status: 503, body: { error: true } });
    const midnight = await at(`${NEXT}T00:05:00Z`);
    expect(midnight.results.map((r) => r.ok)).toEqual([false]);
    expect(midnight.catchUp).toBeUndefined(); // 00:05's own window is the day before
    const hoursOf = async (day: string) =>
      ((await bucketContents())[dataKey(day, MADRID.id)] as Record<string, unknown>[]).map((r) => String(r.observation_hour).slice(11, 13));
    expect(await hoursOf(DAY)).toHaveLength(23);
    // Back at 01:00: the 01:05 run pulls its own day and the whole day before again.
    answer(DAY, { body: openMeteoDay(DAY, MADRID.latitude, MADRID.longitude) });
    answer(NEXT, { body: openMeteoDay(NEXT, MADRID.latitude, MADRID.longitude) });
    const next = await at(`${NEXT}T01:05:00Z`);
    expect([next.window.day, next.catchUp?.window.day]).toEqual([NEXT, DAY]);
    expect([...next.results, ...next.catchUp!.results].every((r) => r.ok)).toBe(true);
    expect(await hoursOf(DAY)).toEqual(Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')));
    expect(await hoursOf(NEXT)).toEqual(['00']);
    // Past the catch-up hours, a run pulls its own day only.
    expect((await at(`${NEXT}T${String(CATCH_UP_HOURS).padStart(2, '0')}:05:00Z`)).catchUp).toBeUndefined();
  });

  test('a retried run overwrites the same keys with the same bytes instead of duplicating', async () => {
    api.script(MADRID.latitude, [goodDay(MADRID)]);
    api.script(BARCELONA.latitude, [goodDay(BARCELONA)]);
    await run();
    const first = await bucketContents();
    await run();
    expect(await bucketContents()).toEqual(first);
    expect(Object.keys(first)).toHaveLength(4);
  });
});
