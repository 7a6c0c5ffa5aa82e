/**
 * Pull time per city: the weather-pull core against the local Open-Meteo stand-in and moto_server
 * S3, both on 127.0.0.1, for N cities at the handler's concurrency. Prints figures; asserts nothing.
 *
 * Usage: npx ts-node --transpile-only bench/weather-pull.ts [cities=48] [rounds=5]
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { pullWeather } from '../lambda/weather-pull/core';
import { createBucket, motoS3, startMoto } from '../tools/stand-ins/moto';
import { openMeteoDay, startWeatherApi } from '../tools/stand-ins/weather-api-server';

async function main(): Promise<void> {
  const cityCount = Number(process.argv[2] ?? 48);
  const rounds = Number(process.argv[3] ?? 5);
  const now = new Date('2026-11-22T00:05:00Z'); // a full day: 24 rows per city
  const moto = await startMoto();
  const api = await startWeatherApi();
  try {
    const s3 = motoS3(moto.endpoint);
    await createBucket(s3, 'bench');
    const cities = Array.from({ length: cityCount }, (_, i) => ({ id: `city-${i}`, name: `City ${i}`, latitude: -60 + i * 0.5, longitude: i * 0.25 }));
    for (const c of cities) api.script(c.latitude, [{ body: openMeteoDay('2026-11-21', c.latitude, c.longitude) }]);
    const settings = {
      bucket: 'bench',
      apiBaseUrl: api.baseUrl,
      cities,
      requestTimeoutMs: 5_000,
      maxAttempts: 1,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 5_000,
      concurrency: 4,
    };
    const deps = { s3, logger: new Logger({ logLevel: 'SILENT' }), metrics: { addMetric: () => undefined } };
    const durations: number[] = [];
    for (let r = 0; r <= rounds; r++) {
      const start = performance.now();
      const report = await pullWeather(settings, now, deps);
      const ms = performance.now() - start;
      if (report.results.some((x) => !x.ok)) throw new Error(`a city failed: ${JSON.stringify(report.results.find((x) => !x.ok))}`);
      if (r > 0) durations.push(ms); // round 0 warms connections and JIT
    }
    const median = [...durations].sort((a, b) => a - b)[Math.floor(durations.length / 2)];
    console.log(`weather-pull: ${cityCount} cities x 24 hours, concurrency 4, median of ${rounds} runs: ${median.toFixed(0)} ms total, ${(median / cityCount).toFixed(1)} ms per city (local API + moto S3)`);
    console.log(JSON.stringify({ bench: 'weather-pull', cities: cityCount, rounds, totalMsMedian: +median.toFixed(1), msPerCity: +(median / cityCount).toFixed(2) }));
  } finally {
    await api.close();
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
