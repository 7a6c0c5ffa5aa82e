/**
 * Kinesis capacity from declared load, against the documented service limits, so a reviewer can
 * see why an environment has the shards it has.
 */

/** Write limits of one provisioned shard (Kinesis Data Streams quotas). */
export const SHARD_WRITE_LIMITS = { bytesPerSecond: 1_048_576, recordsPerSecond: 1_000 } as const;

/** Limits of one PutRecords call. */
export const PUT_RECORDS_LIMITS = { records: 500, bytes: 5 * 1_048_576 } as const;

/** One Kinesis record: its data plus partition key at most 1 MiB; the partition key 1 to 256 Unicode characters. */
export const KINESIS_RECORD_LIMITS = { bytes: 1_048_576, partitionKeyChars: 256 } as const;

export interface StreamLoad {
  /** Peak records per second written to the stream. */
  readonly recordsPerSecond: number;
  /** Average size of one record, in bytes (data plus partition key). */
  readonly bytesPerRecord: number;
}

export interface ShardPlan {
  readonly shards: number;
  /** Which write limit decides the count. */
  readonly limitedBy: 'bytes' | 'records';
  /** Shards each limit alone asks for, before headroom. */
  readonly byBytes: number;
  readonly byRecords: number;
}

/**
 * Shards for `load` with `headroom` (1.5 = 50 % spare for bursts and uneven partition keys):
 * ceil(max(bytes/s / 1 MiB/s, records/s / 1000) x headroom), at least 1.
 */
export function shardsFor(load: StreamLoad, headroom: number): ShardPlan {
  if (!(headroom >= 1)) throw new Error(`headroom must be at least 1, got ${headroom}`);
  if (!(load.recordsPerSecond > 0) || !(load.bytesPerRecord > 0)) {
    throw new Error(`load must be positive, got ${load.recordsPerSecond} records/s of ${load.bytesPerRecord} bytes`);
  }
  const byBytes = (load.recordsPerSecond * load.bytesPerRecord) / SHARD_WRITE_LIMITS.bytesPerSecond;
  const byRecords = load.recordsPerSecond / SHARD_WRITE_LIMITS.recordsPerSecond;
  const shards = Math.max(1, Math.ceil(Math.max(byBytes, byRecords) * headroom - 1e-9));
  return { shards, limitedBy: byBytes >= byRecords ? 'bytes' : 'records', byBytes, byRecords };
}

/** The telemetry stream's load: every vehicle publishing at its rate. */
export function telemetryLoad(t: { vehicles: number; messagesPerVehiclePerSecond: number; bytesPerMessage: number }): StreamLoad {
  return { recordsPerSecond: t.vehicles * t.messagesPerVehiclePerSecond, bytesPerRecord: t.bytesPerMessage };
}

/** The shards of each telemetry stream, from the environment's declared load and headroom. */
export function streamShardPlans(streaming: {
  expectedLoad: { telemetry: Parameters<typeof telemetryLoad>[0]; sensorReadings: StreamLoad; deviceUpdates: StreamLoad };
  headroom: number;
}): { telemetry: ShardPlan; sensorReadings: ShardPlan; deviceUpdates: ShardPlan } {
  const { expectedLoad: load, headroom } = streaming;
  return {
    telemetry: shardsFor(telemetryLoad(load.telemetry), headroom),
    sensorReadings: shardsFor(load.sensorReadings, headroom),
    deviceUpdates: shardsFor(load.deviceUpdates, headroom),
  };
}
