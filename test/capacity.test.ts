import { loadConfig } from '../lib/config';
import { PUT_RECORDS_LIMITS, SHARD_WRITE_LIMITS, shardsFor, telemetryLoad } from '../lib/config/capacity';

describe('Kinesis capacity from declared load', () => {
  test('the limits are the documented ones', () => {
    expect(SHARD_WRITE_LIMITS).toEqual({ bytesPerSecond: 1_048_576, recordsPerSecond: 1_000 });
    expect(PUT_RECORDS_LIMITS).toEqual({ records: 500, bytes: 5_242_880 });
  });

  test('many small records: the records limit decides', () => {
    // 2,500 records/s of 100 bytes = 0.24 MiB/s but 2.5 x the 1,000 records/s of a shard
    expect(shardsFor({ recordsPerSecond: 2_500, bytesPerRecord: 100 }, 1)).toEqual({ shards: 3, limitedBy: 'records', byBytes: 250_000 / 1_048_576, byRecords: 2.5 });
  });

  test('few large records: the bytes limit decides', () => {
    // 400 records/s of 10 KiB = 3.9 MiB/s, under the records limit
    const plan = shardsFor({ recordsPerSecond: 400, bytesPerRecord: 10_240 }, 1);
    expect(plan.limitedBy).toBe('bytes');
    expect(plan.shards).toBe(4);
  });

  test('headroom multiplies before rounding up, and a quiet stream still gets one shard', () => {
    expect(shardsFor({ recordsPerSecond: 1_000, bytesPerRecord: 100 }, 1).shards).toBe(1);
    expect(shardsFor({ recordsPerSecond: 1_000, bytesPerRecord: 100 }, 1.5).shards).toBe(2);
    expect(shardsFor({ recordsPerSecond: 2_000, bytesPerRecord: 100 }, 1.5).shards).toBe(3);
    expect(shardsFor({ recordsPerSecond: 0.5, bytesPerRecord: 100 }, 1.5).shards).toBe(1);
  });

  test('bad inputs fail with a message instead of a nonsense shard count', () => {
    expect(() => shardsFor({ recordsPerSecond: 10, bytesPerRecord: 10 }, 0.5)).toThrow(/headroom must be at least 1/);
    expect(() => shardsFor({ recordsPerSecond: 0, bytesPerRecord: 10 }, 1)).toThrow(/load must be positive/);
  });

  test('prod telemetry: 3,000 vehicles x 1 msg/s x 600 bytes = 3,000 records/s -> 3 shards by records, 5 with 1.5 headroom', () => {
    const prod = loadConfig('prod').streaming;
    const load = telemetryLoad(prod.expectedLoad.telemetry);
    expect(load).toEqual({ recordsPerSecond: 3_000, bytesPerRecord: 600 });
    expect(shardsFor(load, prod.headroom)).toMatchObject({ shards: 5, limitedBy: 'records', byRecords: 3 });
  });
});
