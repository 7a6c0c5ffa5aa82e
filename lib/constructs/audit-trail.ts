import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SecureBucket } from './secure-bucket';
import { StatefulConstruct } from './removal';

export interface AuditTrailProps {
  readonly trailName: string;
  /** Key that encrypts the trail's log files (its policy must allow this trail). */
  readonly encryptionKey: kms.IKey;
  /** Names of the buckets whose object-level (data) events are recorded, read and write. */
  readonly dataEventBucketNames: readonly string[];
  readonly retentionDays: number;
  readonly noncurrentVersionExpirationDays: number;
  readonly abortIncompleteMultipartUploadDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A CloudTrail trail that records who read and wrote which object in the lake (S3 data events),
 * plus write management events, into a bucket of its own with file integrity validation.
 *
 * The lake buckets are named, not referenced: they live in the lakehouse stack, which depends on
 * the keys of the stack that holds this trail, so a reference would be a cycle.
 */
export class AuditTrail extends StatefulConstruct {
  readonly trail: cloudtrail.Trail;
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id, props);
    const lifecycle = {
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays,
      abortIncompleteMultipartUploadDays: props.abortIncompleteMultipartUploadDays,
      removalPolicy: props.removalPolicy,
    };
    this.accessLogsBucket = new SecureBucket(this, 'AccessLogs', {
      ...lifecycle,
      accessLogTarget: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.retentionDays) }],
    }).bucket;
    this.bucket = new SecureBucket(this, 'Logs', {
      ...lifecycle,
      encryptionKey: props.encryptionKey,
      serverAccessLogsBucket: this.accessLogsBucket,
      lifecycleRules: [{ id: 'expire-trail-logs', expiration: Duration.days(props.retentionDays) }],
    }).bucket;

    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: props.trailName,
      bucket: this.bucket,
      encryptionKey: props.encryptionKey,
      enableFileValidation: true,
      includeGlobalServiceEvents: true,
      isMultiRegionTrail: true,
      managementEvents: cloudtrail.ReadWriteType.WRITE_ONLY,
      sendToCloudWatchLogs: false,
    });
    const stack = Stack.of(this);
    this.trail.addS3EventSelector(
      props.dataEventBucketNames.map((name, i) => ({ bucket: s3.Bucket.fromBucketName(stack, `DataEventBucket${i}`, name) })),
      { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false },
    );
  }
}
