import { App } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Stack } from 'aws-cdk-lib';
import { PlatformMonitoring } from '../lib/constructs/platform-monitoring';
import { ENVIRONMENTS, resourcesOf, synthesize } from './helpers/platform';

describe.each(ENVIRONMENTS)('monitoring (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.monitoring;

  test('one dashboard named after the environment', () => {
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: config.resourcePrefix });
  });

  test('every alarm notifies the alert topic and states the reason for its threshold', () => {
    const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    const topicId = Object.keys(resourcesOf(t, 'AWS::SNS::Topic'))[0];
    for (const a of alarms) {
      expect(JSON.stringify(a.Properties.AlarmActions)).toContain(topicId);
      expect(a.Properties.AlarmDescription).toMatch(/Threshold \d+: .{20,}/);
    }
  });

  test('every alert rule retries its delivery for a day, then dead-letters it into an encrypted queue that is alarmed', () => {
    const rules = Object.values(resourcesOf(t, 'AWS::Events::Rule')).map((r) => r.Properties);
    const queueId = Object.keys(resourcesOf(t, 'AWS::SQS::Queue')).find((id) => id.startsWith('MonitoringAlertDeliveryDeadLetters'))!;
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      for (const target of rule.Targets) {
        expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
        expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
      }
    }
    const queue = resourcesOf(t, 'AWS::SQS::Queue')[queueId].Properties;
    expect(JSON.stringify(queue.KmsMasterKeyId)).toMatch(/Keysalerts/);
    const alarm = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties).find((a) => a.AlarmName === `${config.resourcePrefix}-alert-delivery-failed`)!;
    expect(alarm).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    expect(alarm.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]);
  });

  test('failed Athena queries page at the configured hourly threshold', () => {
    const alarm = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).find((a) => a.Properties.AlarmName === `${config.resourcePrefix}-athena-failed-queries`)!;
    expect(alarm.Properties.Threshold).toBe(config.monitoring.athenaFailedQueriesPerHour);
    expect(alarm.Properties.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    const stat = alarm.Properties.Metrics[0].MetricStat;
    expect(stat).toMatchObject({ Period: 3600, Stat: 'SampleCount', Metric: { Namespace: 'AWS/Athena', MetricName: 'TotalExecutionTime' } });
    const dimensions = [...stat.Metric.Dimensions].sort((x: any, y: any) => x.Name.localeCompare(y.Name));
    expect(dimensions).toEqual([
      { Name: 'QueryState', Value: 'FAILED' },
      { Name: 'QueryType', Value: 'DML' },
      { Name: 'WorkGroup', Value: `${config.resourcePrefix}-analytics` },
    ]);
  });
});

describe('monitoring API', () => {
  const app = new App();
  const stack = new Stack(app, 'MonitoringApi');
  const monitoring = new PlatformMonitoring(stack, 'Monitoring', { namePrefix: 'x', alertsKey: new kms.Key(stack, 'Key'), alertEmails: [] });
  const metric = new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors' });

  test('refuses an alarm whose threshold has no reason', () => {
    expect(() =>
      monitoring.addAlarm('no-reason', {
        metric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description: 'Errors.',
        thresholdReason: ' ',
      }),
    ).toThrow(/needs its reason/);
  });

  test('event alerts go to the alert topic', () => {
    monitoring.alertOnEvent('glue-failed', { description: 'Glue job failed', eventPattern: { source: ['aws.glue'], detailType: ['Glue Job State Change'] } });
    const template = Template.fromStack(stack);
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0] as any;
    expect(rule.Properties.EventPattern).toEqual({ source: ['aws.glue'], 'detail-type': ['Glue Job State Change'] });
    expect(JSON.stringify(rule.Properties.Targets)).toContain('MonitoringAlertTopic');
  });
});
