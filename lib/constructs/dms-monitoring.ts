import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DmsReplicationParts } from './dms-replication';
import { PlatformMonitoring } from './platform-monitoring';

/**
 * Alarms and alerts of one DMS replication: CDC latency at the source (reading the log) and at
 * the target (writing the raw zone), and every state change of the replication (started,
 * stopped, failed) as an event alert. A CDC replication should run forever, so any state change
 * is news to the on-call engineer, and matching all of them cannot miss a failure name.
 */
export function monitorDmsReplication(
  monitoring: PlatformMonitoring,
  id: string,
  replication: DmsReplicationParts,
  latencyThresholdSeconds: number,
  /** What the replication fills, as the alarm names it. */
  target = 'the raw zone',
): void {
  const isServerless = replication.replicationConfig !== undefined;
  const resourceArn = isServerless ? replication.replicationConfig!.ref : replication.replicationTask!.ref;

  for (const side of ['Source', 'Target'] as const) {
    monitoring.addAlarm(`${id}-cdc-latency-${side.toLowerCase()}`, {
      metric: cdcLatency(replication, side),
      threshold: latencyThresholdSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      description: `DMS ${id}: CDC latency at the ${side.toLowerCase()} is high; ${target} is falling behind the database.`,
      thresholdReason:
        'three 5-minute periods above it rule out a large transaction or a batch flush (an S3 target writes CDC files every ' +
        'cdcMaxBatchInterval); sustained, it means the replication cannot keep up or is stuck (per environment, config).',
    });
  }
  monitoring.alertOnEvent(`${id}-state-change`, {
    description: `DMS ${id}: the replication changed state (stopped, failed, restarted)`,
    eventPattern: {
      source: ['aws.dms'],
      detailType: [isServerless ? 'DMS Replication State Change' : 'DMS Replication Task State Change'],
      resources: [resourceArn],
    },
  });
}

function cdcLatency(replication: DmsReplicationParts, side: 'Source' | 'Target'): cloudwatch.IMetric {
  const metricName = `CDCLatency${side}`;
  const period = Duration.minutes(5);
  if (replication.replicationTask) {
    return new cloudwatch.Metric({
      namespace: 'AWS/DMS',
      metricName,
      dimensionsMap: {
        ReplicationInstanceIdentifier: replication.replicationInstance!.replicationInstanceIdentifier!,
        ReplicationTaskIdentifier: replication.replicationTask.resourceIdentifier!,
      },
      statistic: 'Maximum',
      period,
    });
  }
  // DMS Serverless publishes per replication configuration. Its documentation names the
  // dimension ReplicationConfigIdentifier in some places and ReplicationConfigId in others, so
  // the alarm takes the larger of both: a mismatch cannot leave it silently without data.
  const identifier = replication.replicationConfig!.replicationConfigIdentifier;
  const byDimension = (dimension: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/DMS', metricName, dimensionsMap: { [dimension]: identifier }, statistic: 'Maximum', period });
  return new cloudwatch.MathExpression({
    expression: 'MAX([FILL(a, 0), FILL(b, 0)])',
    usingMetrics: { a: byDimension('ReplicationConfigIdentifier'), b: byDimension('ReplicationConfigId') },
    label: `${metricName} (seconds)`,
    period,
  });
}
