import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ShardPlan } from '../config/capacity';

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
export class TelemetryStreams extends Construct {
  readonly streams: Record<StreamName, kinesis.Stream>;

  constructor(scope: Construct, id: string, props: TelemetryStreamsProps) {
    super(scope, id);
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
