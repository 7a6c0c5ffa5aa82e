import { Duration, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { grantDataApiStatements } from './warehouse-data-api';

/** The warehouse the daily pipeline loads (the warehouse stack's workgroup and database). */
export interface WarehouseLoadTarget {
  readonly workgroupName: string;
  readonly workgroupArn: string;
  readonly databaseName: string;
  /** The load's statements, one transaction (lib/warehouse-sql.ts, warehouseLoadStatements). */
  readonly statements: readonly string[];
}

/** The database role the load runs under: the state machine's role carries it in its RedshiftDbRoles tag (migration V006). */
export const WAREHOUSE_LOADER_DB_ROLE = 'warehouse_loader';
/** The IAM tag Redshift Serverless reads for the database roles of an IAM identity that signs in. */
export const REDSHIFT_DB_ROLES_TAG = 'RedshiftDbRoles';
/** Seconds between two looks at the running load. */
const POLL_SECONDS = 30;

/**
 * The warehouse's daily load as states of the daily pipeline, through the Redshift Data API with
 * no function: BatchExecuteStatement runs every statement in one transaction (the dates the lake
 * recomputed since the last load, their star rows, the watermark), then DescribeStatement is
 * polled until it ends. A failed or aborted load (which wrote nothing) fails the branch with
 * WarehouseLoadFailed and the service's answer as its cause; the whole branch is retried (a
 * serialization conflict with a concurrent load, a transient error), then the pipeline fails and
 * the daily-etl-failed rule alerts on-call.
 *
 * The load signs in as the state machine's role (IAMR:<role name>), which gets the loader's
 * database role from its tag; it may run statements on this workgroup only and look only at the
 * statements its own sessions started.
 */
export function warehouseLoadStep(scope: Construct, id: string, target: WarehouseLoadTarget): sfn.Parallel {
  // Custom states rather than CallAwsService: its policy would allow DescribeStatement on every
  // statement of the account without the owner condition; grantWarehouseLoad carries the grants.
  const transient = [{ ErrorEquals: ['RedshiftData.ActiveStatementsExceededException', 'RedshiftData.InternalServerException'], IntervalSeconds: 10, MaxAttempts: 3, BackoffRate: 2 }];
  const submit = new sfn.CustomState(scope, `${id}Start`, {
    stateJson: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:redshiftdata:batchExecuteStatement',
      Parameters: { WorkgroupName: target.workgroupName, Database: target.databaseName, Sqls: target.statements, StatementName: 'warehouse-daily-load' },
      ResultSelector: { 'Id.$': '$.Id' },
      ResultPath: '$.warehouseLoad',
      Retry: transient,
    },
  });
  const describe = new sfn.CustomState(scope, `${id}Describe`, {
    stateJson: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:redshiftdata:describeStatement',
      Parameters: { 'Id.$': '$.warehouseLoad.Id' },
      ResultSelector: { 'Id.$': '$.Id', 'Status.$': '$.Status', 'Described.$': '$' },
      ResultPath: '$.warehouseLoad',
      Retry: transient,
    },
  });
  const wait = new sfn.Wait(scope, `${id}Wait`, { time: sfn.WaitTime.duration(Duration.seconds(POLL_SECONDS)) });
  const failed = new sfn.Fail(scope, `${id}Failed`, {
    error: 'WarehouseLoadFailed',
    causePath: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.warehouseLoad.Described')),
  });
  const loaded = new sfn.Succeed(scope, `${id}Loaded`);
  const ended = new sfn.Choice(scope, `${id}Ended`)
    .when(sfn.Condition.stringEquals('$.warehouseLoad.Status', 'FINISHED'), loaded)
    .when(sfn.Condition.or(sfn.Condition.stringEquals('$.warehouseLoad.Status', 'FAILED'), sfn.Condition.stringEquals('$.warehouseLoad.Status', 'ABORTED')), failed)
    .otherwise(wait);
  wait.next(describe).next(ended);

  const step = new sfn.Parallel(scope, id, { resultPath: sfn.JsonPath.DISCARD, comment: 'The warehouse load: one transaction through the Redshift Data API, polled to its end' });
  step.branch(submit.next(wait));
  step.addRetry({ errors: ['WarehouseLoadFailed', 'States.TaskFailed'], maxAttempts: 2, interval: Duration.minutes(2), backoffRate: 2 });
  return step;
}

/** What the state machine's role needs for the load, and the tag that gives it the loader's database role. */
export function grantWarehouseLoad(role: iam.Role, target: WarehouseLoadTarget): void {
  Tags.of(role).add(REDSHIFT_DB_ROLES_TAG, WAREHOUSE_LOADER_DB_ROLE);
  grantDataApiStatements(role, target.workgroupArn, ['redshift-data:BatchExecuteStatement']);
  // Without a secret the Data API signs in with temporary credentials of the caller's IAM identity.
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['redshift-serverless:GetCredentials'], resources: [target.workgroupArn] }));
}
