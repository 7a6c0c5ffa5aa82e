import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from '../config/metrics';
import { PullCountAlarm } from '../registry/pulls';
import { PlatformMonitoring } from './platform-monitoring';
import { ScheduledPullFunction } from './scheduled-pull-function';

/**
 * Alarms of a scheduled pull: a failed invocation (some source or city was not written; the
 * async retry may still succeed), and an event in its dead-letter queue (every retry failed: data
 * for that window is missing until someone re-runs it). Plus its duration on the dashboard.
 */

export function monitorScheduledPull(monitoring: PlatformMonitoring, id: string, pull: ScheduledPullFunction, counts: readonly PullCountAlarm[] = []): void {
  for (const count of counts) {
    monitoring.addAlarm(`${id}-${count.metricName.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`, {
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: count.metricName,
        dimensionsMap: { service: id },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.hours(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `${id}: ${count.description}`,
      thresholdReason: count.thresholdReason,
    });
  }
  monitoring.addAlarm(`${id}-errors`, {
    metric: pull.function.metricErrors({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: `${id}: an invocation failed (see the function's log for the failed sources).`,
    thresholdReason: 'any failed run leaves a gap in the raw zone until a retry succeeds; it is rare enough that each one is worth a look.',
  });
  monitoring.addAlarm(`${id}-dead-letters`, {
    metric: pull.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: `${id}: an invocation exhausted its retries and is in the dead-letter queue; re-run that window.`,
    thresholdReason: 'one message means one window of data will stay missing without a manual re-run.',
  });
  monitoring.addWidgets(
    new cloudwatch.GraphWidget({
      title: `${id}: duration`,
      left: [pull.function.metricDuration({ statistic: cloudwatch.Stats.p(99) }), pull.function.metricDuration({ statistic: cloudwatch.Stats.AVERAGE })],
      width: 12,
    }),
  );
}
