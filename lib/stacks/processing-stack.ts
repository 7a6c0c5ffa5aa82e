import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LakeZone } from '../config/naming';
import { contractOf, DatasetContract, processedTableName, rawDayPath } from '../contracts';
import { DAY_ARGUMENT, glueJobs, JobDeclaration, jobAt, jobsAt, loadJobs, processedDatasets } from '../registry';
import { dqdlRuleset } from '../contracts/dqdl';
import { EtlOrchestration } from '../constructs/etl-orchestration';
import { GLUE_METRICS_NAMESPACE, GlueEtlJobs } from '../constructs/glue-etl-jobs';
import { LakeAccess, QUARANTINE_PREFIX } from '../constructs/lake-access';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { dataRemovalPolicy } from '../constructs/removal';
import { REPO_ROOT } from '../constructs/scheduled-pull-function';
import { acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ProcessingStackProps extends PlatformStackProps {
  readonly zoneBuckets: Record<LakeZone, s3.IBucket>;
  readonly processedKey: kms.IKey;
  readonly logsKey: kms.IKey;
  readonly access: LakeAccess;
  readonly workgroupName: string;
  readonly monitoring: PlatformMonitoring;
  readonly contracts: readonly DatasetContract[];
}

/** The Iceberg catalog name the Glue scripts use (glue-scripts/lakehouse/spark.py). */
const CATALOG = 'lake';
const QUERIES_DIR = path.join(REPO_ROOT, 'queries');

/**
 * The batch processing of the lake: Glue ETL per source into processed Iceberg tables, the
 * telemetry_metrics aggregation, Iceberg maintenance, the daily orchestration, alerts on failed
 * jobs and executions, and the analysts' named queries.
 */
export class ProcessingStack extends PlatformStack {
  readonly etl: GlueEtlJobs;
  readonly orchestration: EtlOrchestration;
  readonly namedQueries: athena.CfnNamedQuery[] = [];

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const processedDb = names.glueDatabase('processed');
    const aggregatedDb = names.glueDatabase('aggregated');
    const processedTable = (dataset: string) => `${CATALOG}.${processedDb}.${processedTableName(contractOf(props.contracts, dataset))}`;
    const quarantineRoot = props.zoneBuckets.processed.s3UrlForObject(QUARANTINE_PREFIX);
    const registry = loadJobs(props.contracts);
    const aggregation = jobAt(registry, 'aggregation');
    const metricsTable = `${CATALOG}.${aggregatedDb}.${aggregation.outputs[0]}`;
    const icebergTables = [...processedDatasets(registry, props.contracts).map((c) => processedTable(c.dataset)), metricsTable];

    // Each job's arguments follow from its kind of pipeline and its datasets (lib/registry/jobs.json).
    const argumentsOf = (job: JobDeclaration): Record<string, string> => {
      const dataset = job.outputs[0];
      const sourceArguments = () => ({
        '--raw_path': props.zoneBuckets.raw.s3UrlForObject(rawDayPath(contractOf(props.contracts, dataset), `{${DAY_ARGUMENT}}`)),
        '--table': processedTable(dataset),
        '--quarantine_root': quarantineRoot,
      });
      switch (job.pipeline) {
        case 'cdc':
          return { '--dataset': dataset, ...sourceArguments() };
        case 'telematics':
          return sourceArguments();
        case 'weather':
          return { ...sourceArguments(), '--cities': config.ingestion.weather.cities.map((c) => c.name).join(',') };
        case 'aggregation':
          return {
            '--processed_database': processedDb,
            '--metrics_table': metricsTable,
            '--lateness_horizon_days': String(config.processing.latenessHorizonDays),
            // The daily run; the state machine's backfill branch passes the range's first day.
            '--backfill_from': 'none',
          };
        case 'maintenance':
          return { '--tables': icebergTables.join(','), '--snapshot_retention_days': String(config.processing.snapshotRetentionDays) };
        default:
          throw new Error(`${job.name}: a ${job.pipeline} job does not run on Glue`);
      }
    };

    this.etl = new GlueEtlJobs(this, 'Etl', {
      namePrefix: config.resourcePrefix,
      role: iam.Role.fromRoleName(this, 'EtlRole', props.access.etlRole.roleName, { mutable: true }),
      warehouse: props.zoneBuckets.processed.s3UrlForObject('processed/'),
      tempBucket: props.zoneBuckets.processed,
      dataKey: props.processedKey,
      logsKey: props.logsKey,
      workerType: config.processing.workerType,
      maxWorkers: config.processing.maxWorkers,
      timeoutMinutes: config.processing.jobTimeoutMinutes,
      jobs: Object.fromEntries(glueJobs(registry).map((job) => [job.name, { script: job.script, arguments: argumentsOf(job) }])),
    });

    const jobs = this.etl.jobs;
    this.orchestration = new EtlOrchestration(this, 'Orchestration', {
      namePrefix: config.resourcePrefix,
      sourceJobs: jobsAt(registry, 'sources').map((j) => jobs[j.name]),
      aggregationJob: jobs[aggregation.name],
      maintenanceJob: jobs[jobAt(registry, 'maintenance').name],
      dayArgument: DAY_ARGUMENT,
      schedule: config.processing.schedule,
      logsKey: props.logsKey,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: dataRemovalPolicy(config),
    });

    // The rulesets the jobs evaluate, published in the catalog for each processed Iceberg table.
    for (const contract of processedDatasets(registry, props.contracts)) {
      const dataset = contract.dataset;
      new glue.CfnDataQualityRuleset(this, `Rules-${dataset}`, {
        name: `${config.resourcePrefix}-${dataset}`,
        description: `Data-quality rules of ${processedDb}.${processedTableName(contract)}, from its contract`,
        ruleset: dqdlRuleset(contract),
        targetTable: { databaseName: processedDb, tableName: processedTableName(contract) },
      });
    }

    for (const file of fs.readdirSync(QUERIES_DIR).filter((f) => f.endsWith('.sql')).sort()) {
      const name = file.replace(/\.sql$/, '');
      this.namedQueries.push(
        new athena.CfnNamedQuery(this, `Query-${name}`, {
          name: `${config.resourcePrefix}-${name.replace(/_/g, '-')}`,
          description: fs.readFileSync(path.join(QUERIES_DIR, file), 'utf8').split('\n')[0].replace(/^--\s*/, ''),
          database: aggregatedDb,
          workGroup: props.workgroupName,
          queryString: fs.readFileSync(path.join(QUERIES_DIR, file), 'utf8').trim(),
        }),
      );
    }

    props.monitoring.alertOnEvent('glue-job-failed', {
      description: 'A Glue job of the lakehouse failed or timed out',
      eventPattern: {
        source: ['aws.glue'],
        detailType: ['Glue Job State Change'],
        detail: { state: ['FAILED', 'TIMEOUT', 'ERROR'], jobName: Object.values(jobs).map((j) => j.name!) },
      },
    });
    props.monitoring.alertOnEvent('daily-etl-failed', {
      description: 'The daily ETL pipeline failed, timed out or was aborted (see its execution for the error and cause)',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [this.orchestration.stateMachine.stateMachineArn] },
      },
    });
    props.monitoring.addAlarm('kpi-dates-beyond-horizon', {
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
        `Data changed for KPI dates older than the lateness horizon (${config.processing.latenessHorizonDays} days): their telemetry_metrics rows are stale. ` +
        'The aggregate-metrics log line lists them (dates_beyond_horizon); recompute them with a backfill (README, "Late data and backfills").',
      thresholdReason: 'one stale KPI date is already a wrong number in front of an analyst; the daily run reports it again until a backfill clears it.',
    });
    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS]);
  }
}
