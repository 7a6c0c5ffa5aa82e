/**
 * sensor-pull throughput: readings per second end to end (local sensor API -> core -> moto S3 and
 * moto Kinesis on 127.0.0.1), and PutRecords calls per 10,000 readings. To tell moto's cost from
 * the handler's, the same pull also runs with in-process S3 and Kinesis stand-ins that accept
 * every call at once: that run is the handler's own cost (API paging, validation, Parquet, batching).
 *
 * Usage: npx ts-node --transpile-only bench/sensor-pull.ts [readings=10000] [rounds=5]
 */
import { S3Client } from '@aws-sdk/client-s3';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Logger } from '@aws-lambda-powertools/logger';
import { pullSensors, SensorPullSettings } from '../lambda/sensor-pull/core';
import { createStream, motoKinesis } from '../tools/stand-ins/kinesis';
import { createBucket, motoS3, startMoto } from '../tools/stand-ins/moto';
import { makeReadings, startSensorApi } from '../tools/stand-ins/sensor-api-server';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Stand-ins that accept every call immediately, for the handler-only run. */
function acceptingS3(): S3Client {
  return { send: async () => ({}) } as unknown as S3Client;
}
function acceptingKinesis(): KinesisClient {
  return {
    send: async (command: PutRecordsCommand) => ({ FailedRecordCount: 0, Records: command.input.Records!.map(() => ({ SequenceNumber: '1', ShardId: 's' })) }),
  } as unknown as KinesisClient;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  const rounds = Number(process.argv[3] ?? 5);
  const moto = await startMoto();
  const api = await startSensorApi();
  try {
    const now = new Date('2026-11-21T10:10:00Z');
    api.setReadings(makeReadings('2026-11-21T10:00:00Z', count, 600 / count));
    const s3 = motoS3(moto.endpoint);
    await createBucket(s3, 'bench');
    const kinesis = motoKinesis(moto.endpoint);
    await createStream(kinesis, 'bench', 4);
    const settings: SensorPullSettings = {
      bucket: 'bench',
      streamName: 'bench',
      apiBaseUrl: api.baseUrl,
      windowMinutes: 10,
      requestTimeoutMs: 30_000,
      http: { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 1_000 },
      putRecords: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    };
    const run = async (s3Client: S3Client, kinesisClient: KinesisClient) => {
      let calls = 0;
      const metrics = { addMetric: (name: string, _u: 'Count', value: number) => void (name === 'PutRecordsCalls' && (calls = value)) };
      const start = performance.now();
      const report = await pullSensors(settings, now, { s3: s3Client, kinesis: kinesisClient, logger: new Logger({ logLevel: 'SILENT' }), metrics });
      const ms = performance.now() - start;
      if (report.readings !== count) throw new Error(`expected ${count} readings, got ${report.readings}`);
      return { ms, calls };
    };
    const endToEnd: number[] = [];
    const handlerOnly: number[] = [];
    let calls = 0;
    await run(s3, kinesis); // warm-up: connections, JIT
    await run(acceptingS3(), acceptingKinesis());
    for (let r = 0; r < rounds; r++) {
      const e = await run(s3, kinesis);
      endToEnd.push(e.ms);
      calls = e.calls;
      handlerOnly.push((await run(acceptingS3(), acceptingKinesis())).ms);
    }
    const e2e = median(endToEnd);
    const own = median(handlerOnly);
    const perTenThousand = (calls * 10_000) / count;
    console.log(`sensor-pull: ${count} readings, median of ${rounds}`);
    console.log(`  end to end into moto (S3 + Kinesis): ${e2e.toFixed(0)} ms = ${Math.round((count / e2e) * 1000)} readings/s (target >= 20,000)`);
    console.log(`  handler's own cost (API paging, validation, Parquet, batching; S3/Kinesis accept at once): ${own.toFixed(0)} ms = ${Math.round((count / own) * 1000)} readings/s, ${((own * 1000) / count).toFixed(1)} us per reading`);
    console.log(`  time in moto: ${(e2e - own).toFixed(0)} ms (${(((e2e - own) / e2e) * 100).toFixed(0)} % of end to end)`);
    console.log(`  PutRecords calls per 10,000 readings: ${perTenThousand} (floor: 20)`);
    console.log(JSON.stringify({ bench: 'sensor-pull', readings: count, rounds, endToEndMs: +e2e.toFixed(1), readingsPerSecond: Math.round((count / e2e) * 1000), handlerOnlyMs: +own.toFixed(1), handlerReadingsPerSecond: Math.round((count / own) * 1000), putRecordsCallsPer10k: perTenThousand }));
  } finally {
    await api.close();
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
