import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ScheduledEvent } from 'aws-lambda';
import { settingsEnvironment, settingsFromEnvironment } from '../../lambda/shared/settings';
import { WEATHER_PULL_SETTINGS, weatherPullSettings } from '../../lambda/weather-pull/settings';
import { createBucket, Moto, MOTO_CREDENTIALS, MOTO_REGION, motoS3, startMoto } from '../../tools/stand-ins/moto';
import { openMeteoDay, startWeatherApi, WeatherApiServer } from '../../tools/stand-ins/weather-api-server';

/** The deployed entry point: settings from the environment, a scheduled event, real S3 (moto). */
describe('weather-pull handler', () => {
  let moto: Moto;
  let api: WeatherApiServer;
  const saved = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto();
    api = await startWeatherApi();
    Object.assign(process.env, {
      ...settingsEnvironment(WEATHER_PULL_SETTINGS, weatherPullSettings, {
        bucket: 'handler-raw',
        apiBaseUrl: api.baseUrl,
        cities: [
          { id: 'madrid', name: 'Madrid', latitude: 40.4168, longitude: -3.7038 },
          { id: 'bilbao', name: 'Bilbao', latitude: 43.263, longitude: -2.935 },
        ],
        requestTimeoutMs: 500,
        maxAttempts: 2,
        retryBaseDelayMs: 10,
        retryMaxDelayMs: 50,
        concurrency: 2,
      }),
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const s3 = motoS3(moto.endpoint);
    await createBucket(s3, 'handler-raw');
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await api?.close();
    await moto?.stop();
  });

  const event = { time: '2026-11-21T10:05:00Z' } as ScheduledEvent;

  test('settings the deployment wrote wrong fail at start, naming the field', () => {
    expect(() => settingsFromEnvironment(WEATHER_PULL_SETTINGS, weatherPullSettings, {})).toThrow('WEATHER_PULL_SETTINGS is not set');
    const broken = JSON.parse(process.env[WEATHER_PULL_SETTINGS]!);
    broken.concurrency = 0;
    delete broken.cities[0].id;
    expect(() => settingsFromEnvironment(WEATHER_PULL_SETTINGS, weatherPullSettings, { [WEATHER_PULL_SETTINGS]: JSON.stringify(broken) })).toThrow(
      /^WEATHER_PULL_SETTINGS: cities\.0\.id: .*; concurrency: /,
    );
  });

  test('writes every city and returns the window; fails naming the city that failed', async () => {
    const { handler } = await import('../../lambda/weather-pull/handler');
    api.script(40.4168, [{ body: openMeteoDay('2026-11-21', 40.4168, -3.7038) }]);
    api.script(43.263, [{ body: openMeteoDay('2026-11-21', 43.263, -2.935) }]);
    await expect(handler(event)).resolves.toEqual({ day: '2026-11-21', cities: 2 });

    api.script(43.263, [{ status: 503, body: {} }]);
    await expect(handler(event)).rejects.toThrow('weather-pull: 1 of 2 cities failed: Bilbao (HTTP 503 (after 2 attempts))');

    const s3 = motoS3(moto.endpoint);
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'handler-raw' }))).Contents!.map((o) => o.Key).sort();
    expect(keys).toEqual([
      'raw/weather/_quarantine/weather/ingest_date=2026-11-21/bilbao.ndjson',
      'raw/weather/_quarantine/weather/ingest_date=2026-11-21/madrid.ndjson',
      'raw/weather/weather/ingest_date=2026-11-21/bilbao.ndjson',
      'raw/weather/weather/ingest_date=2026-11-21/madrid.ndjson',
    ]);
  });
});
