/**
 * The TypeScript half of the local platform run (tools/local-run/run.py drives it):
 *
 *   names <env>        prints, as JSON, the names the environment's stacks give the lake buckets,
 *                      Glue databases and streams, and the settings of the pull functions;
 *   pull <plan.json>   starts the local weather and sensor API stand-ins with the run's data and
 *                      invokes the deployed handlers (lambda/<name>/handler.ts) against moto, at
 *                      the simulated times of their schedules; writes a summary JSON file.
 *
 * Usage: ts-node --transpile-only tools/local-run/platform.ts names dev
 *        ts-node --transpile-only tools/local-run/platform.ts pull <plan.json>
 */
import * as fs from 'fs';
import { App, Stack } from 'aws-cdk-lib';
import { loadConfig } from '../../lib/config';
import { LAKE_ZONES, PlatformNames } from '../../lib/config/naming';
import { sensorPullEnvironment, weatherPullEnvironment } from '../../lib/config/pull-functions';
import { STREAM_PHYSICAL_NAMES } from '../../lib/constructs/telemetry-streams';
import { Reading, startSensorApi } from '../stand-ins/sensor-api-server';
import { startWeatherApi } from '../stand-ins/weather-api-server';

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
    flink: config.streaming.flink,
    snapshotRetentionDays: config.processing.snapshotRetentionDays,
    latenessHorizonDays: config.processing.latenessHorizonDays,
  };
}

/**
 * The environment the stack gives a pull function, with the run's bucket and stream, and, for the
 * run, the local API stand-in in place of the configured API (the settings' one URL; nothing else
 * differs from the deployed environment).
 */
export function pullEnvironment(
  fn: 'weather-pull' | 'sensor-pull',
  envName: string,
  targets: { rawBucket: string; readingsStream: string },
  localApiBaseUrl?: string,
): Record<string, string> {
  const config = loadConfig(envName);
  const common = { rawBucket: targets.rawBucket, account: LOCAL_ACCOUNT };
  if (fn === 'weather-pull') {
    const weather = { ...config.ingestion.weather, apiBaseUrl: localApiBaseUrl ?? config.ingestion.weather.apiBaseUrl };
    return weatherPullEnvironment({ ...config, ingestion: { ...config.ingestion, weather } }, common);
  }
  const sensorPull = { ...config.streaming.sensorPull, apiBaseUrl: localApiBaseUrl ?? config.streaming.sensorPull.apiBaseUrl };
  return sensorPullEnvironment({ ...config, streaming: { ...config.streaming, sensorPull } }, { ...common, readingsStream: targets.readingsStream });
}

/** What run.py asks of a pull: where moto is, the data the API stand-ins serve, and when to run. */
export interface PullPlan {
  readonly envName: string;
  readonly endpoint: string;
  readonly summaryFile: string;
  readonly weather?: {
    /** Per city latitude (as a string) and day (yyyy-MM-dd), the Open-Meteo answer. */
    readonly answersFile: string;
    /** Invocation times (ISO 8601): just after midnight, each pulls the whole previous day. */
    readonly invocations: readonly string[];
  };
  readonly sensors?: {
    readonly readingsFile: string;
    readonly invocations: readonly string[];
  };
}

interface InvocationSummary {
  invocations: number;
  failures: { time: string; error: string }[];
  results: unknown[];
}

type Handler = (event: { time: string }) => Promise<unknown>;

async function invokeAll(handler: Handler, times: readonly string[]): Promise<InvocationSummary> {
  const summary: InvocationSummary = { invocations: 0, failures: [], results: [] };
  for (const time of times) {
    summary.invocations += 1;
    try {
      summary.results.push(await handler({ time }));
    } catch (error) {
      summary.failures.push({ time, error: `${(error as Error).name}: ${(error as Error).message}` });
    }
  }
  return summary;
}

/** Sets a function's environment, then loads its handler: handlers read their settings at load. */
async function loadHandler(modulePath: string, environment: Record<string, string>): Promise<Handler> {
  Object.assign(process.env, environment);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(modulePath) as { handler: Handler }).handler;
}

export async function pull(plan: PullPlan): Promise<void> {
  const config = loadConfig(plan.envName);
  const names = platformNames(plan.envName);
  const targets = { rawBucket: names.buckets.raw, readingsStream: names.streams.sensorReadings };
  Object.assign(process.env, {
    AWS_REGION: config.region,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL_S3: plan.endpoint,
    AWS_ENDPOINT_URL_KINESIS: plan.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
  });
  const summary: Record<string, InvocationSummary> = {};

  if (plan.weather) {
    const api = await startWeatherApi();
    try {
      const answers = JSON.parse(fs.readFileSync(plan.weather.answersFile, 'utf8')) as Record<string, Record<string, unknown>>;
      for (const [latitude, days] of Object.entries(answers)) {
        for (const [day, body] of Object.entries(days)) api.answerDay(Number(latitude), day, { body });
      }
      const handler = await loadHandler('../../lambda/weather-pull/handler', pullEnvironment('weather-pull', plan.envName, targets, api.baseUrl));
      summary.weather = await invokeAll(handler, plan.weather.invocations);
    } finally {
      await api.close();
    }
  }
  if (plan.sensors) {
    const api = await startSensorApi();
    try {
      api.setReadings(JSON.parse(fs.readFileSync(plan.sensors.readingsFile, 'utf8')) as Reading[]);
      const handler = await loadHandler('../../lambda/sensor-pull/handler', pullEnvironment('sensor-pull', plan.envName, targets, api.baseUrl));
      summary.sensors = await invokeAll(handler, plan.sensors.invocations);
    } finally {
      await api.close();
    }
  }
  fs.writeFileSync(plan.summaryFile, JSON.stringify(summary));
}

async function main(): Promise<void> {
  const [command, argument] = process.argv.slice(2);
  if (command === 'names') {
    process.stdout.write(JSON.stringify(platformNames(argument ?? 'dev')));
  } else if (command === 'pull' && argument) {
    await pull(JSON.parse(fs.readFileSync(argument, 'utf8')) as PullPlan);
  } else {
    throw new Error('usage: platform.ts names <env> | platform.ts pull <plan.json>');
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
