import { Duration } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { LAKE_ZONES, LakeZone } from '../config/naming';
import { DatasetContract } from '../contracts';
import { LakeAccess } from '../constructs/lake-access';
import { LakeCatalog } from '../constructs/lake-catalog';
import { LakeStorage } from '../constructs/lake-storage';
import { BACKUPS_OFF_REASON, backUpDataOfRecord, PlatformBackup } from '../constructs/platform-backup';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { QueryWorkgroup } from '../constructs/query-workgroup';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface LakehouseStackProps extends PlatformStackProps {
  readonly keys: PlatformKeys;
  readonly monitoring: PlatformMonitoring;
  readonly contracts: readonly DatasetContract[];
  /** The daily backup (security stack); none where config turns backups off. */
  readonly backup?: PlatformBackup;
}

/** The lake's buckets, the Glue databases and raw tables, the Athena workgroup, and the roles that use them. */
export class LakehouseStack extends PlatformStack {
  /** The three zone buckets, the query-results bucket and their access-log bucket. */
  readonly storage: LakeStorage;
  /** The raw, processed and aggregated Glue databases, and a projected table per raw dataset. */
  readonly catalog: LakeCatalog;
  /** The analysts' Athena workgroup (engine v3, encrypted results, scan cutoff). */
  readonly workgroup: QueryWorkgroup;
  /** Every role that touches the lake; other stacks use them through `rawWriterIn` and `etlRoleIn`. */
  readonly access: LakeAccess;

  constructor(scope: Construct, id: string, props: LakehouseStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const perZone = <T>(f: (zone: LakeZone) => T) => Object.fromEntries(LAKE_ZONES.map((z) => [z, f(z)])) as Record<LakeZone, T>;
    const databaseNames = perZone((z) => names.glueDatabase(z));

    this.storage = new LakeStorage(this, 'Storage', {
      zoneBucketNames: perZone((z) => names.zoneBucket(z)),
      zoneKeys: { raw: props.keys.raw, processed: props.keys.processed, aggregated: props.keys.aggregated },
      queryResultsKey: props.keys.queryResults,
      lifecycle: config.lifecycle,
      rawRecovery: props.backup
        ? `The system of record, backed up daily by AWS Backup into the locked vault ${props.backup.vaultName}, each recovery point kept ` +
          `${config.backup.retentionDays} days; a backup, unlike a replica, does not copy a deletion or an overwrite (decision 118).`
        : BACKUPS_OFF_REASON,
      removalPolicy: this.removalPolicy,
    });
    backUpDataOfRecord(this, props.backup, {
      selectionName: names.resource('raw-zone'),
      resources: [backup.BackupResource.fromArn(this.storage.zoneBuckets.raw.bucketArn)],
      store: this.storage.zoneBuckets.raw,
    });
    this.catalog = new LakeCatalog(this, 'Catalog', {
      databaseNames,
      zoneBuckets: this.storage.zoneBuckets,
      contracts: props.contracts,
      rawProjectionStartDate: config.catalog.rawProjectionStartDate,
    });
    this.workgroup = new QueryWorkgroup(this, 'Workgroup', {
      workgroupName: names.analyticsWorkgroup(),
      resultsBucket: this.storage.queryResultsBucket,
      resultsKey: props.keys.queryResults,
      bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
      removalPolicy: this.removalPolicy,
    });
    this.access = new LakeAccess(this, 'Access', {
      zoneBuckets: this.storage.zoneBuckets,
      queryResultsBucket: this.storage.queryResultsBucket,
      databaseNames,
      workgroupArn: this.workgroup.workgroupArn,
      contracts: props.contracts,
      analystPrincipalArns: this.config.security.analystPrincipalArns,
    });
    this.addMonitoring(props.monitoring);
  }

  private addMonitoring(monitoring: PlatformMonitoring): void {
    for (const zone of LAKE_ZONES) {
      monitoring.facade.monitorS3Bucket({ bucket: this.storage.zoneBuckets[zone], alarmFriendlyName: `${zone}-zone` });
    }
    const failedQueries = new cloudwatch.Metric({
      namespace: 'AWS/Athena',
      metricName: 'TotalExecutionTime',
      dimensionsMap: { WorkGroup: this.workgroup.workgroupName, QueryState: 'FAILED', QueryType: 'DML' },
      statistic: cloudwatch.Stats.SAMPLE_COUNT,
      period: Duration.hours(1),
      label: 'Failed Athena queries per hour',
    });
    monitoring.addAlarm('athena-failed-queries', {
      metric: failedQueries,
      threshold: this.config.monitoring.athenaFailedQueriesPerHour,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: 'Athena queries in the analytics workgroup are failing.',
      thresholdReason:
        'an analyst mistyping a query fails a few per hour; this many in one hour points at a broken table, ' +
        'a revoked permission or a key problem that every query hits (set per environment by its usage).',
    });
  }
}
