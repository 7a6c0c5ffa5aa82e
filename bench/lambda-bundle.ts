/**
 * Benchmark of a Lambda bundle: size and module init time of the handler as the platform bundles
 * it (ESM, minified, tree-shaken: LAMBDA_BUNDLING) against the same handler bundled naively
 * (CommonJS, not minified, no tree-shaking: the whole SDK and every dependency kept), measured
 * side by side in one run, alternating, each import in a fresh Node.js process.
 *
 * Usage: npx ts-node --transpile-only bench/lambda-bundle.ts [name=weather-pull] [runs=21]
 */
import { settingsEnvironment } from '../lambda/shared/settings';
import { WEATHER_PULL_SETTINGS, weatherPullSettings } from '../lambda/weather-pull/settings';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync, BuildOptions } from 'esbuild';
import { LAMBDA_BUNDLING, lambdaEntry } from '../lib/paths';

const name = process.argv[2] ?? 'weather-pull';
const runs = Number(process.argv[3] ?? 21);
const entry = lambdaEntry(name);
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));

const common: BuildOptions = { entryPoints: [entry], bundle: true, platform: 'node', write: true, logLevel: 'error' };
const shipped = path.join(outDir, 'shipped', 'index.mjs');
buildSync({
  ...common,
  outfile: shipped,
  format: 'esm',
  target: LAMBDA_BUNDLING.target,
  minify: LAMBDA_BUNDLING.minify,
  sourcemap: true,
  mainFields: LAMBDA_BUNDLING.mainFields,
  banner: { js: LAMBDA_BUNDLING.banner! },
});
const naive = path.join(outDir, 'naive', 'index.js');
buildSync({ ...common, outfile: naive, format: 'cjs', minify: false, treeShaking: false, sourcemap: false });

/** The handler reads its settings at load time; these satisfy it without reaching anything. */
const env = {
  ...process.env,
  ...settingsEnvironment(WEATHER_PULL_SETTINGS, weatherPullSettings, {
    bucket: 'bench',
    apiBaseUrl: 'http://127.0.0.1:9',
    cities: [{ id: 'madrid', name: 'Madrid', latitude: 40.4, longitude: -3.7 }],
    requestTimeoutMs: 1000,
    maxAttempts: 1,
    retryBaseDelayMs: 200,
    retryMaxDelayMs: 5000,
    concurrency: 4,
  }),
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

function initMs(file: string): number {
  const script = `const t = process.hrtime.bigint(); import(${JSON.stringify(file)}).then(() => process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6)));`;
  return Number(execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { env, encoding: 'utf8' }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { shipped: [] as number[], naive: [] as number[] };
initMs(shipped); // warm the file cache once for both
initMs(naive);
for (let i = 0; i < runs; i++) {
  times.shipped.push(initMs(shipped));
  times.naive.push(initMs(naive));
}
const kb = (f: string) => fs.statSync(f).size / 1024;
const result = {
  handler: name,
  runs,
  shipped: { bundleKiB: +kb(shipped).toFixed(1), initMsMedian: +median(times.shipped).toFixed(1) },
  naive: { bundleKiB: +kb(naive).toFixed(1), initMsMedian: +median(times.naive).toFixed(1) },
};
const ratio = result.shipped.initMsMedian / result.naive.initMsMedian;
console.log(`bundle ${name}: shipped ${result.shipped.bundleKiB} KiB (ESM, minified, tree-shaken) vs naive ${result.naive.bundleKiB} KiB (CJS, whole SDK, not minified)`);
console.log(`module init ${name} (median of ${runs}, fresh process each): shipped ${result.shipped.initMsMedian} ms vs naive ${result.naive.initMsMedian} ms, ratio ${ratio.toFixed(2)} (target <= 0.33)`);
console.log(JSON.stringify({ bench: "lambda-bundle", ...result, initRatio: +ratio.toFixed(3) }));
fs.rmSync(outDir, { recursive: true, force: true });
