import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ShardPlan } from '../config/capacity';
import { PlatformMonitoring } from './platform-monitoring';
import { StatefulConstruct } from './removal';

export type StreamName = 'telemetry' | 'sensorReadings' | 'deviceUpdates';

export interface TelemetryStreamsProps {
  readonly namePrefix: string;
  readonly encryptionKey: kms.IKey;
  readonly capacityMode: 'provisioned' | 'on-demand';
  /** Derived shard counts (lib/config/capacity.ts), used in provisioned mode. */
  readonly shards: Record<StreamName, ShardPlan>;
  readonly retentionHours: number;
  readonly removalPolicy: RemovalPolicy;
}

/** Stream names after the environment prefix: `<resourcePrefix>-<physical name>`. */
export const STREAM_PHYSICAL_NAMES: Record<StreamName, string> = {
  telemetry: 'telemetry',
  sensorReadings: 'sensor-readings',
  deviceUpdates: 'device-updates',
};

/**
 * The three Kinesis data streams: vehicle telemetry (from the IoT rule), sensor readings
 * (Dataset A, from the sensor pull) and device registry updates (Dataset B). KMS-encrypted with
 * the streams key; shards derived from the declared load, or on-demand; retention per environment.
 */
export class TelemetryStreams extends StatefulConstruct {
  readonly streams: Record<StreamName, kinesis.Stream>;

  constructor(scope: Construct, id: string, props: TelemetryStreamsProps) {
    super(scope, id, props);
    const streams = {} as Record<StreamName, kinesis.Stream>;
    for (const name of Object.keys(STREAM_PHYSICAL_NAMES) as StreamName[]) {
      const provisioned = props.capacityMode === 'provisioned';
      streams[name] = new kinesis.Stream(this, name, {
        streamName: `${props.namePrefix}-${STREAM_PHYSICAL_NAMES[name]}`,
        encryption: kinesis.StreamEncryption.KMS,
        encryptionKey: props.encryptionKey,
        streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
        shardCount: provisioned ? props.shards[name].shards : undefined,
        retentionPeriod: Duration.hours(props.retentionHours),
        removalPolicy: props.removalPolicy,
      });
      Validations.of(streams[name]).acknowledge({
        id: 'AwsSolutions-KDS3',
        reason:
          'The platform encrypts every store with a customer-managed key per trust boundary (docs/decisions.md): the ' +
          "streams key's policy and grants decide which roles read stream data, and its use is audited on its own.",
      });
    }
    this.streams = streams;
  }
}

/**
 * Per stream: consumers falling behind (iterator age at half the retention) and writes throttled
 * in three periods in a row.
 */
export function monitorTelemetryStreams(monitoring: PlatformMonitoring, streams: TelemetryStreams, retentionHours: number): void {
  const retentionMs = retentionHours * 3_600_000;
  for (const [name, stream] of Object.entries(streams.streams) as [StreamName, kinesis.Stream][]) {
    monitoring.addAlarm(`${name}-iterator-age`, {
      metric: stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }),
      threshold: retentionMs / 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `Kinesis ${name}: consumers are falling behind; records will expire unread.`,
      thresholdReason: 'half the retention period: the consumer still has the other half to catch up before records expire.',
    });
    monitoring.addAlarm(`${name}-write-throttling`, {
      metric: stream.metricWriteProvisionedThroughputExceeded({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      description: `Kinesis ${name}: writes are throttled; the load exceeds the stream's capacity.`,
      thresholdReason: 'producers retry a throttled record, so one burst is harmless; throttling in three 5-minute periods in a row means the declared load (config streaming.expectedLoad) is too low.',
    });
  }
}
