import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  DefaultDashboardFactory,
  MonitoringFacade,
  SingleWidgetDashboardSegment,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';

export interface PlatformMonitoringProps {
  /** Prefix of alarm, topic and dashboard names, e.g. `tlh-dev`. */
  readonly namePrefix: string;
  /** Key of the alert topic; its policy must let CloudWatch and EventBridge use it. */
  readonly alertsKey: kms.IKey;
  readonly alertEmails: readonly string[];
}

export interface PlatformAlarmProps {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** @default NOT_BREACHING: no data means nothing happened */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /** What is wrong when the alarm fires, for the person paged. */
  readonly description: string;
  /** Why the threshold is where it is; recorded in the alarm description next to the number. */
  readonly thresholdReason: string;
}

export interface PlatformEventAlertProps {
  readonly description: string;
  readonly eventPattern: events.EventPattern;
}

/**
 * The platform's monitoring API: an encrypted alert topic with its e-mail subscriptions, one
 * CloudWatch dashboard, and three calls through which every other stack adds what it needs.
 *
 * - `facade`: cdk-monitoring-constructs for the services it covers (Lambda, Kinesis, Firehose,
 *   Glue, Step Functions, ...); its alarms already notify the alert topic.
 * - `addAlarm`: a metric alarm for what the facade does not cover (DMS, IoT, custom metrics).
 *   The threshold's reason is mandatory and lands in the alarm description.
 * - `alertOnEvent`: an EventBridge rule (DMS failure, Glue job FAILED, ...) to the alert topic.
 *
 * Alarms and rules are created here, in the monitoring stack, which therefore depends on the
 * stacks it watches and deploys after them; no stack depends on monitoring, so there is no cycle.
 */
export class PlatformMonitoring extends Construct {
  readonly alertTopic: sns.Topic;
  readonly facade: MonitoringFacade;
  readonly dashboard: cloudwatch.Dashboard;
  /** The events an alert rule could not deliver to the topic, after EventBridge's retries. */
  readonly alertDeliveryDeadLetters: sqs.Queue;
  private readonly namePrefix: string;
  private readonly alarmAction: cwActions.SnsAction;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix;
    this.alertTopic = new sns.Topic(this, 'AlertTopic', {
      topicName: `${props.namePrefix}-alerts`,
      displayName: `Telemetry lakehouse alerts (${props.namePrefix})`,
      masterKey: props.alertsKey,
      enforceSSL: true,
    });
    for (const email of props.alertEmails) {
      this.alertTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    this.alarmAction = new cwActions.SnsAction(this.alertTopic);

    const dashboardFactory = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: props.namePrefix,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: props.namePrefix,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.alertTopic }),
      },
      metricFactoryDefaults: {},
      dashboardFactory,
    });
    const dashboard = this.facade.createdDashboard();
    if (!dashboard) throw new Error('the dashboard factory did not create the dashboard');
    this.dashboard = dashboard;

    // An alert that EventBridge could not hand to the topic (a key or topic policy broken, SNS
    // down past the retries) lands here instead of vanishing, and is itself alarmed.
    this.alertDeliveryDeadLetters = new sqs.Queue(this, 'AlertDeliveryDeadLetters', {
      queueName: `${props.namePrefix}-alert-delivery-dead-letters`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.alertsKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.alertDeliveryDeadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the dead-letter destination of the alert rules' targets: the queue of last resort has no further queue.",
    });
    this.addAlarm('alert-delivery-failed', {
      metric: this.alertDeliveryDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: 'An alert event could not be delivered to the alert topic after EventBridge retried it for a day; it waits in the dead-letter queue.',
      thresholdReason:
        'every dead-lettered alert is one nobody received. This alarm notifies the same topic, which may be what is failing: its state shows on the dashboard and in the CloudWatch console either way.',
    });
  }

  /** A metric alarm that notifies the alert topic (in alarm and back to OK). */
  addAlarm(id: string, props: PlatformAlarmProps): cloudwatch.Alarm {
    if (props.thresholdReason.trim().length === 0) throw new Error(`${id}: an alarm threshold needs its reason`);
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.namePrefix}-${id}`,
      alarmDescription: `${props.description} Threshold ${props.threshold}: ${props.thresholdReason}`,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: props.comparisonOperator,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      datapointsToAlarm: props.datapointsToAlarm,
      treatMissingData: props.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.alarmAction);
    alarm.addOkAction(this.alarmAction);
    this.addWidgets(new cloudwatch.AlarmWidget({ alarm, title: props.description, width: 12, height: 6 }));
    return alarm;
  }

  /** An EventBridge rule that forwards matching events to the alert topic. */
  alertOnEvent(id: string, props: PlatformEventAlertProps): events.Rule {
    return new events.Rule(this, id, {
      ruleName: `${this.namePrefix}-${id}`,
      description: props.description,
      eventPattern: props.eventPattern,
      // EventBridge's own limits, written out: retried for a day, then dead-lettered (alarmed above).
      targets: [new targets.SnsTopic(this.alertTopic, { deadLetterQueue: this.alertDeliveryDeadLetters, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });
  }

  /** Widgets appended to the platform dashboard, each as its own row. */
  addWidgets(...widgets: cloudwatch.IWidget[]): void {
    for (const widget of widgets) this.facade.addSegment(new SingleWidgetDashboardSegment(widget));
  }

}
