import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LakeZone } from '../config/naming';
import { DatasetContract } from '../contracts';
import { DataQualityRulesets } from '../constructs/data-quality-rulesets';
import { EtlOrchestration, monitorDailyEtl } from '../constructs/etl-orchestration';
import { GlueEtlJobs } from '../constructs/glue-etl-jobs';
import { LakeAccess, QUARANTINE_PREFIX } from '../constructs/lake-access';
import { NamedQueries } from '../constructs/named-queries';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { PATHS } from '../paths';
import { DAY_ARGUMENT, glueJobs, JobDeclaration, jobAt, jobsAt, keptTables, processedDatasets, rawReadDatasets } from '../registry';
import { aggregatedIcebergTable, JobArgumentContext, jobArguments, keptIcebergTable, processedIcebergTable } from '../registry/arguments';
import { WarehouseLoadTarget } from '../constructs/warehouse-load';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ProcessingStackProps extends PlatformStackProps {
  readonly keys: PlatformKeys;
  readonly zoneBuckets: Record<LakeZone, s3.IBucket>;
  readonly access: LakeAccess;
  readonly workgroupName: string;
  readonly monitoring: PlatformMonitoring;
  readonly contracts: readonly DatasetContract[];
  /** The job registry, checked against the contracts (lib/registry/jobs.json). */
  readonly jobs: readonly JobDeclaration[];
  /** The warehouse the daily pipeline loads after the aggregation. @default - none (config switches the warehouse off) */
  readonly warehouseLoad?: WarehouseLoadTarget;
}

/**
 * The batch processing of the lake, every part derived from the job registry
 * (lib/registry/jobs.json): Glue ETL per source into processed Iceberg tables, the
 * telemetry_metrics aggregation, Iceberg maintenance, the daily orchestration, the data-quality
 * rulesets, alerts on failed jobs and executions, and the analysts' named queries.
 */
export class ProcessingStack extends PlatformStack {
  /** One Glue job per registry entry that runs on Glue, by job name. */
  readonly etl: GlueEtlJobs;
  /** The daily state machine (sources, aggregation, maintenance and the warehouse load; or a backfill) and its schedule. */
  readonly orchestration: EtlOrchestration;
  /** A Glue Data Quality ruleset per processed table, from its contract. */
  readonly rulesets: DataQualityRulesets;
  /** The Athena named queries of queries/*.sql. */
  readonly namedQueries: NamedQueries;

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const { keys, zoneBuckets, contracts } = props;
    const registry = props.jobs;
    const processed = processedDatasets(registry, contracts);
    const aggregation = jobAt(registry, 'aggregation');
    const tables = { contracts, processedDatabase: names.glueDatabase('processed'), aggregatedDatabase: names.glueDatabase('aggregated') };
    const argumentContext: JobArgumentContext = {
      ...tables,
      rawUrl: (key) => zoneBuckets.raw.s3UrlForObject(key),
      processedUrl: (key) => zoneBuckets.processed.s3UrlForObject(key),
      quarantineRoot: zoneBuckets.processed.s3UrlForObject(QUARANTINE_PREFIX),
      weatherCities: config.ingestion.weather.cities.map((c) => c.name),
      latenessHorizonDays: config.processing.latenessHorizonDays,
      snapshotRetentionDays: config.processing.snapshotRetentionDays,
      icebergTables: [
        ...processed.map((c) => processedIcebergTable(tables, c.dataset)),
        ...keptTables(registry).map((table) => keptIcebergTable(tables, table)),
        ...aggregation.outputs.map((table) => aggregatedIcebergTable(tables, table)),
      ],
    };

    this.etl = new GlueEtlJobs(this, 'Etl', {
      namePrefix: config.resourcePrefix,
      role: props.access.etlRoleIn(this),
      warehouse: zoneBuckets.processed.s3UrlForObject('processed/'),
      tempBucket: zoneBuckets.processed,
      dataKey: keys.processed,
      logsKey: keys.logs,
      workerType: config.processing.workerType,
      maxWorkers: config.processing.maxWorkers,
      timeoutMinutes: config.processing.jobTimeoutMinutes,
      jobs: Object.fromEntries(glueJobs(registry).map((job) => [job.name, { script: job.script, arguments: jobArguments(job, argumentContext) }])),
    });

    const jobs = this.etl.jobs;
    this.orchestration = new EtlOrchestration(this, 'Orchestration', {
      namePrefix: config.resourcePrefix,
      sourceJobs: jobsAt(registry, 'sources').map((j) => jobs[j.name]),
      aggregationJob: jobs[aggregation.name],
      maintenanceJob: jobs[jobAt(registry, 'maintenance').name],
      dayArgument: DAY_ARGUMENT,
      schedule: config.processing.schedule,
      logsKey: keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      warehouseLoad: props.warehouseLoad,
      removalPolicy: this.removalPolicy,
    });
    this.rulesets = new DataQualityRulesets(this, 'Rules', { namePrefix: config.resourcePrefix, databaseName: tables.processedDatabase, contracts: processed });
    this.namedQueries = new NamedQueries(this, 'Queries', {
      namePrefix: config.resourcePrefix,
      directory: PATHS.queries,
      database: tables.aggregatedDatabase,
      workGroup: props.workgroupName,
    });

    monitorDailyEtl(props.monitoring, this.orchestration, Object.values(jobs), config.processing.latenessHorizonDays, rawReadDatasets(registry));
    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS]);
  }
}
