/**
 * Live alerts throughput: readings per second through the alerts function's core against moto's
 * DynamoDB on 127.0.0.1, and DynamoDB writes per 10,000 readings, for prod's stream settings
 * (batches of `batchSize` in tumbling windows) against the same batches with no window (the state
 * read and saved every batch). The fleet reports at prod's cadence, one reading a second, and
 * vehicle 0 overheats once, so alert writes are counted beside the state writes. A third run uses
 * a client that accepts every call at once: the function's own cost, without moto's.
 *
 * Usage: npx ts-node --transpile-only bench/telemetry-alerts.ts [vehicles=100] [minutes=5]
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../lib/config';
import { AlertsDeps, handleRecords, StreamRecord, WindowState } from '../lambda/telemetry-alerts/core';
import { countingClient } from '../tools/local-run/live-alerts';
import { createAlertsTable, motoDynamoDb } from '../tools/stand-ins/dynamodb';
import { startMoto } from '../tools/stand-ins/moto';

const T0 = Date.parse('2026-11-21T10:00:00Z');

/** The fleet's readings in arrival order, one a second per vehicle; vehicle 0 runs hot for a minute from minute 2. */
function fleetReadings(vehicles: number, minutes: number): (StreamRecord & { at: number })[] {
  const records: (StreamRecord & { at: number })[] = [];
  let sequence = 0;
  for (let s = 0; s < minutes * 60; s++) {
    for (let v = 0; v < vehicles; v++) {
      const hot = v === 0 && s >= 120 && s < 180;
      const message = {
        vehicle_id: `veh-${v}`,
        ts: T0 + s * 1000,
        speed_kmh: 72,
        odometer_km: 1000 * v + s * 0.02,
        fuel_used_l: 100 * v + s * 0.006,
        engine_temp_c: hot ? 113 + (s % 5) : 88 + ((s + v) % 7),
        ingested_at: T0 + s * 1000 + 500,
      };
      records.push({ sequenceNumber: String(++sequence), data: Buffer.from(JSON.stringify(message)).toString('base64'), at: message.ts });
    }
  }
  return records;
}

/** Every record through the core as the mapping delivers them: windows of `windowSeconds` (0: none), batches of `batchSize`. */
async function drive(records: (StreamRecord & { at: number })[], deps: AlertsDeps, batchSize: number, windowSeconds: number): Promise<number> {
  // Grouping into windows is the event source mapping's work, not the function's: outside the timing.
  const windowMs = Math.max(windowSeconds, 1) * 1000;
  const byWindow = new Map<number, StreamRecord[]>();
  for (const r of records) {
    const w = windowSeconds === 0 ? 0 : Math.floor(r.at / windowMs);
    const group = byWindow.get(w) ?? [];
    group.push({ sequenceNumber: r.sequenceNumber, data: r.data });
    byWindow.set(w, group);
  }
  const start = performance.now();
  for (const batchRecords of byWindow.values()) {
    let state: WindowState = {};
    for (let i = 0; i < batchRecords.length; i += batchSize) {
      const window = windowSeconds === 0 ? undefined : { state, final: i + batchSize >= batchRecords.length };
      const response = await handleRecords(batchRecords.slice(i, i + batchSize), deps, window);
      if (response.batchItemFailures.length > 0) throw new Error('a batch failed');
      state = response.state ?? {};
    }
  }
  return performance.now() - start;
}

/** A document client that accepts every call at once: reads find nothing, writes succeed. */
function acceptingClient(): DynamoDBDocumentClient {
  return { send: async () => ({}) } as unknown as DynamoDBDocumentClient;
}

async function main(): Promise<void> {
  const vehicles = Number(process.argv[2] ?? 100);
  const minutes = Number(process.argv[3] ?? 5);
  const config = loadConfig('prod');
  const { stream, closedRetentionDays, ...rules } = config.alerts;
  const records = fleetReadings(vehicles, minutes);
  const moto = await startMoto();
  try {
    const client = motoDynamoDb(moto.endpoint);
    let n = 0;
    const run = async (windowSeconds: number, base?: DynamoDBDocumentClient) => {
      const tableName = `bench-${++n}`;
      if (!base) await createAlertsTable(client, tableName);
      const writes: Record<string, number> = {};
      const counts: Record<string, number> = {};
      const deps: AlertsDeps = {
        table: { client: countingClient(base ?? client, writes), tableName, closedRetentionDays },
        rules,
        publish: async () => undefined,
        count: (metric, value) => void (counts[metric] = (counts[metric] ?? 0) + value),
        log: () => undefined,
      };
      const ms = await drive(records, deps, stream.batchSize, windowSeconds);
      const total = Object.values(writes).reduce((a, b) => a + b, 0);
      return { ms, perSecond: Math.round((records.length / ms) * 1000), writesPer10k: Math.round((total * 10_000) / records.length), writes, opened: counts.AlertsOpened ?? 0 };
    };
    await run(stream.tumblingWindowSeconds, acceptingClient()); // warm-up: JIT
    const windowed = await run(stream.tumblingWindowSeconds);
    const perBatch = await run(0);
    const own = await run(stream.tumblingWindowSeconds, acceptingClient());
    if (windowed.opened !== 1 || perBatch.opened !== 1) throw new Error(`expected one overheating alert in each run, got ${windowed.opened} and ${perBatch.opened}`);
    console.log(`telemetry-alerts: ${records.length.toLocaleString('en')} readings (${vehicles} vehicles x ${minutes} min at 1 Hz), prod's batch size ${stream.batchSize}`);
    console.log(`  tumbling window ${stream.tumblingWindowSeconds} s, against moto: ${windowed.perSecond.toLocaleString('en')} readings/s; DynamoDB writes per 10,000 readings: ${windowed.writesPer10k} (${JSON.stringify(windowed.writes)})`);
    console.log(`  no window (state saved every batch), against moto: ${perBatch.perSecond.toLocaleString('en')} readings/s; writes per 10,000 readings: ${perBatch.writesPer10k} (${JSON.stringify(perBatch.writes)})`);
    console.log(`  the function's own cost (DynamoDB accepts at once): ${own.perSecond.toLocaleString('en')} readings/s`);
    console.log(
      JSON.stringify({
        bench: 'telemetry-alerts',
        readings: records.length,
        vehicles,
        minutes,
        batchSize: stream.batchSize,
        tumblingWindowSeconds: stream.tumblingWindowSeconds,
        readingsPerSecond: windowed.perSecond,
        writesPer10k: windowed.writesPer10k,
        perBatchReadingsPerSecond: perBatch.perSecond,
        perBatchWritesPer10k: perBatch.writesPer10k,
        handlerReadingsPerSecond: own.perSecond,
      }),
    );
  } finally {
    await moto.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
