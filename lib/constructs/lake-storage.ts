import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LAKE_ZONES, LakeZone } from '../config/naming';
import { SecureBucket } from './secure-bucket';
import { StatefulConstruct } from './removal';

export interface LakeStorageProps {
  /** Physical name of each zone's bucket (the audit trail selects them by name). */
  readonly zoneBucketNames: Record<LakeZone, string>;
  /** Key of each zone. */
  readonly zoneKeys: Record<LakeZone, kms.IKey>;
  /** Key of the Athena results bucket. */
  readonly queryResultsKey: kms.IKey;
  readonly lifecycle: {
    readonly rawToInfrequentAccessDays: number;
    readonly rawToGlacierDays: number;
    readonly noncurrentVersionExpirationDays: number;
    readonly abortIncompleteMultipartUploadDays: number;
    readonly athenaResultsExpirationDays: number;
    readonly accessLogExpirationDays: number;
  };
  /** How the raw zone, the platform's system of record, comes back if lost (its backup). */
  readonly rawRecovery: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The lake's buckets: one per zone (raw, processed, aggregated), one for Athena results and one
 * that receives the server access logs of all of them.
 *
 * Only the raw zone moves to colder storage: it is the replayable record of what arrived and is
 * read rarely after the first ETL run. Processed and aggregated hold Iceberg tables that the
 * analysts query; Iceberg's own snapshot expiry, not a lifecycle rule, removes their old files.
 */
export class LakeStorage extends StatefulConstruct {
  readonly zoneBuckets: Record<LakeZone, s3.Bucket>;
  readonly queryResultsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LakeStorageProps) {
    super(scope, id, props);
    const common = {
      noncurrentVersionExpirationDays: props.lifecycle.noncurrentVersionExpirationDays,
      abortIncompleteMultipartUploadDays: props.lifecycle.abortIncompleteMultipartUploadDays,
      removalPolicy: props.removalPolicy,
    };
    this.accessLogsBucket = new SecureBucket(this, 'AccessLogs', {
      ...common,
      accessLogTarget: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.lifecycle.accessLogExpirationDays) }],
      recovery: "Who read or wrote the lake's objects, kept for troubleshooting; the data-events trail is the audit record of data access.",
    }).bucket;

    const zoneRules: Record<LakeZone, s3.LifecycleRule[]> = {
      raw: [
        {
          id: 'raw-to-colder-storage',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.lifecycle.rawToInfrequentAccessDays) },
            { storageClass: s3.StorageClass.GLACIER, transitionAfter: Duration.days(props.lifecycle.rawToGlacierDays) },
          ],
        },
      ],
      processed: [],
      aggregated: [],
    };
    const buckets = {} as Record<LakeZone, s3.Bucket>;
    for (const zone of LAKE_ZONES) {
      buckets[zone] = new SecureBucket(this, zoneConstructId(zone), {
        ...common,
        bucketName: props.zoneBucketNames[zone],
        encryptionKey: props.zoneKeys[zone],
        // Each zone's readers hold only their zones' keys (lake-access.ts): a write under another key is refused.
        refuseOtherKeys: true,
        serverAccessLogsBucket: this.accessLogsBucket,
        lifecycleRules: zoneRules[zone],
        recovery: zone === 'raw' ? props.rawRecovery : DERIVED_ZONE_RECOVERY,
      }).bucket;
    }
    this.zoneBuckets = buckets;

    this.queryResultsBucket = new SecureBucket(this, 'QueryResults', {
      ...common,
      encryptionKey: props.queryResultsKey,
      refuseOtherKeys: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      lifecycleRules: [{ id: 'expire-query-results', expiration: Duration.days(props.lifecycle.athenaResultsExpirationDays) }],
      recovery: "Athena's query results, which expire: a lost result is computed again by running its query.",
    }).bucket;
  }
}

const DERIVED_ZONE_RECOVERY =
  'Derived data: the ETL jobs rebuild this zone from the raw zone, the system of record (DESIGN.md), which is backed up where the data is real.';

function zoneConstructId(zone: LakeZone): string {
  return `${zone[0].toUpperCase()}${zone.slice(1)}Zone`;
}
