import { CfnResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { GLUE_METRICS_NAMESPACE } from '../config/metrics';
import { allowRedundantDependency } from '../nag/acknowledgements';
import { PlatformMonitoring } from './platform-monitoring';
import { encryptedLogGroup } from './log-groups';
import { StatefulConstruct } from './removal';
import { grantWarehouseLoad, WarehouseLoadTarget, warehouseLoadStep } from './warehouse-load';

export interface EtlOrchestrationProps {
  readonly namePrefix: string;
  /** Jobs that run in parallel first (one per source). */
  readonly sourceJobs: glue.CfnJob[];
  /** Then the aggregation, then Iceberg maintenance. */
  readonly aggregationJob: glue.CfnJob;
  readonly maintenanceJob: glue.CfnJob;
  /**
   * The warehouse to load after the aggregation, beside the maintenance (both read what the
   * aggregation wrote; neither waits for the other). @default - no warehouse (config switches it off)
   */
  readonly warehouseLoad?: WarehouseLoadTarget;
  /** The day argument every job takes (`--<dayArgument> yyyy-MM-dd`). */
  readonly dayArgument: string;
  readonly schedule: string;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The daily pipeline as a Step Functions state machine: the source jobs in parallel, then the
 * aggregation, then Iceberg maintenance and, where there is a warehouse, its load beside it
 * (warehouse-load.ts); each Glue step a synchronous run (.sync) retried once with backoff, for the
 * day given in the input ({"day": "yyyy-MM-dd"}) or, on the schedule, yesterday. A backfill
 * ({"from": "yyyy-MM-dd", "to": "yyyy-MM-dd"}) runs the aggregation alone, recomputing every KPI
 * date of the range from the processed tables (which already hold every late change), then the
 * warehouse load, which takes those dates from the aggregation's ledger.
 * A failure ends in a Fail state carrying the error and cause; the monitoring stack turns the
 * execution's FAILED event into an alert. Logging of ALL events to an encrypted log group, X-Ray.
 */
export class EtlOrchestration extends StatefulConstruct {
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: EtlOrchestrationProps) {
    super(scope, id, props);
    const day = `--${props.dayArgument}`;
    const run = (job: glue.CfnJob, id = job.name!, args: Record<string, string> = { [day]: sfn.JsonPath.stringAt('$.day') }) => {
      const task = new tasks.GlueStartJobRun(this, id, {
        glueJobName: job.name!,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        arguments: sfn.TaskInput.fromObject(args),
        resultPath: sfn.JsonPath.DISCARD,
      });
      task.addRetry({ errors: ['States.ALL'], maxAttempts: 1, interval: Duration.minutes(2), backoffRate: 2 });
      return task;
    };
    const failed = new sfn.Fail(this, 'PipelineFailed', { errorPath: '$.failure.Error', causePath: '$.failure.Cause' });
    const sources = new sfn.Parallel(this, 'SourceJobs', { resultPath: sfn.JsonPath.DISCARD });
    for (const job of props.sourceJobs) sources.branch(run(job));
    sources.addCatch(failed, { resultPath: '$.failure' });
    const aggregate = run(props.aggregationJob).addCatch(failed, { resultPath: '$.failure' });
    const maintain = run(props.maintenanceJob);

    const backfill = run(props.aggregationJob, `${props.aggregationJob.name}-backfill`, {
      [day]: sfn.JsonPath.stringAt('$.to'),
      '--backfill_from': sfn.JsonPath.stringAt('$.from'),
    }).addCatch(failed, { resultPath: '$.failure' });
    const done = new sfn.Succeed(this, 'Done');

    const defaultDay = new sfn.Pass(this, 'ScheduledRunProcessesYesterday', { result: sfn.Result.fromString('yesterday'), resultPath: '$.day' });
    const chooseDay = new sfn.Choice(this, 'DayGiven')
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.from'), sfn.Condition.isPresent('$.to')), backfill)
      .when(sfn.Condition.isPresent('$.day'), sources)
      .otherwise(defaultDay.next(sources));
    // After the aggregation: maintenance and, with a warehouse, its load of the recomputed dates,
    // side by side (both read what the aggregation wrote; neither needs the other). A backfill's
    // dates reach the warehouse the same way: the load takes every date the aggregation's ledger
    // lists since the last load.
    sources.next(aggregate);
    if (props.warehouseLoad) {
      const afterAggregation = new sfn.Parallel(this, 'AfterAggregation', { resultPath: sfn.JsonPath.DISCARD });
      afterAggregation.branch(maintain).branch(warehouseLoadStep(this, 'WarehouseLoad', props.warehouseLoad));
      aggregate.next(afterAggregation.addCatch(failed, { resultPath: '$.failure' })).next(done);
      backfill.next(warehouseLoadStep(this, 'WarehouseLoadAfterBackfill', props.warehouseLoad).addCatch(failed, { resultPath: '$.failure' })).next(done);
    } else {
      aggregate.next(maintain.addCatch(failed, { resultPath: '$.failure' })).next(done);
      backfill.next(done);
    }

    const logGroup = encryptedLogGroup(this, 'Logs', `/aws/vendedlogs/states/${props.namePrefix}-daily-etl`, props);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `${props.namePrefix}-daily-etl`,
      definitionBody: sfn.DefinitionBody.fromChainable(chooseDay),
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      timeout: Duration.hours(6),
    });
    if (props.warehouseLoad) grantWarehouseLoad(this.stateMachine.role as iam.Role, props.warehouseLoad);
    allowRedundantDependency(this.stateMachine.node.defaultChild as CfnResource);
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Step Functions log delivery and X-Ray tracing APIs (logs:CreateLogDelivery..., xray:PutTraceSegments...) authorize only on "*".',
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs ${props.namePrefix}-daily-etl for the previous day`,
      schedule: events.Schedule.expression(props.schedule),
      targets: [new targets.SfnStateMachine(this.stateMachine, { input: events.RuleTargetInput.fromObject({}) })],
    });
  }
}

/**
 * Alerts of the daily pipeline: any of its Glue jobs failing or timing out, the execution failing,
 * KPI dates whose data changed beyond the lateness horizon (stale until a backfill), and a raw
 * object a job could not read and left out (per dataset that reads raw objects).
 */
export function monitorDailyEtl(
  monitoring: PlatformMonitoring,
  orchestration: EtlOrchestration,
  jobs: readonly glue.CfnJob[],
  latenessHorizonDays: number,
  rawReadDatasets: readonly string[],
): void {
  for (const dataset of rawReadDatasets) {
    monitoring.addAlarm(`unreadable-raw-objects-${dataset.replace(/_/g, '-')}`, {
      metric: new cloudwatch.Metric({
        namespace: GLUE_METRICS_NAMESPACE,
        metricName: 'unreadable_objects',
        dimensionsMap: { Dataset: dataset },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.days(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description:
        `The ${dataset} job left raw objects it could not read out of its batch (cut short, or not the writer's format). ` +
        `They are listed with the reason under quarantine/${dataset}/unreadable_objects/; replace or remove each, then rerun the day.`,
      thresholdReason: 'one unreadable object is records the processed zone lacks until someone replaces it; the rerun clears the count.',
    });
  }
  monitoring.alertOnEvent('glue-job-failed', {
    description: 'A Glue job of the lakehouse failed or timed out',
    eventPattern: {
      source: ['aws.glue'],
      detailType: ['Glue Job State Change'],
      detail: { state: ['FAILED', 'TIMEOUT', 'ERROR'], jobName: jobs.map((j) => j.name!) },
    },
  });
  monitoring.alertOnEvent('daily-etl-failed', {
    description: 'The daily ETL pipeline failed, timed out or was aborted (see its execution for the error and cause)',
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [orchestration.stateMachine.stateMachineArn] },
    },
  });
  monitoring.addAlarm('kpi-dates-beyond-horizon', {
    metric: new cloudwatch.Metric({
      namespace: GLUE_METRICS_NAMESPACE,
      metricName: 'dates_beyond_horizon',
      dimensionsMap: { Dataset: 'telemetry_metrics' },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.days(1),
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description:
      `Data changed for KPI dates older than the lateness horizon (${latenessHorizonDays} days): their telemetry_metrics rows are stale. ` +
      'The aggregate-metrics log line lists them (dates_beyond_horizon); recompute them with a backfill (README, "Late data and backfills").',
    thresholdReason: 'one stale KPI date is already a wrong number in front of an analyst; the daily run reports it again until a backfill clears it.',
  });
}
