import { CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeCompliance, allowRedundantDependency } from '../nag/acknowledgements';
import { encryptedLogGroup } from './log-groups';
import { PlatformMonitoring } from './platform-monitoring';
import { SecureBucket } from './secure-bucket';
import { StatefulConstruct } from './removal';

/** Where the audit metrics are counted (CloudWatch Logs metric filters on the management trail). */
export const AUDIT_METRICS_NAMESPACE = 'TelemetryLakehouse/Audit';

/**
 * The account activity that pages someone (the CIS AWS Foundations monitoring controls): each a
 * metric filter on the management trail's log group and an alarm on its first occurrence.
 */
export const AUDIT_FINDINGS = [
  { id: 'unauthorized-api-calls', metricName: 'UnauthorizedApiCalls', description: 'API calls refused for lack of permission', pattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }' },
  { id: 'root-account-used', metricName: 'RootAccountUsage', description: 'the root user acted', pattern: '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }' },
  {
    id: 'iam-policy-changed', metricName: 'IamPolicyChanges', description: 'an IAM policy was created, changed, attached or detached',
    pattern: '{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy)) }',
  },
  { id: 'kms-key-disabled-or-deleted', metricName: 'KmsKeyDisabledOrDeleted', description: 'a KMS key was disabled or scheduled for deletion', pattern: '{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }' },
  {
    id: 's3-bucket-policy-changed', metricName: 'S3BucketPolicyChanges', description: "a bucket's ACL, policy, CORS, lifecycle or replication was changed",
    pattern: '{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }',
  },
  { id: 'trail-changed', metricName: 'CloudTrailChanges', description: 'a trail was created, changed, deleted, started or stopped', pattern: '{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }' },
  {
    id: 'security-group-changed', metricName: 'SecurityGroupChanges', description: 'a security group or one of its rules was created, changed or deleted',
    pattern: '{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || ($.eventName = ModifySecurityGroupRules) }',
  },
] as const;

export interface AuditTrailProps {
  /** The trail of the account's management events (read and write), also sent to CloudWatch Logs. */
  readonly trailName: string;
  /** The trail of the lake's S3 data events, kept apart so they do not flood CloudWatch Logs. */
  readonly dataEventsTrailName: string;
  /** Key that encrypts the trail's log files (its policy must allow this trail). */
  readonly encryptionKey: kms.IKey;
  /** Names of the buckets whose object-level (data) events are recorded, read and write. */
  readonly dataEventBucketNames: readonly string[];
  readonly retentionDays: number;
  /** Object Lock (governance) on the log files for `retentionDays`. */
  readonly objectLock: boolean;
  /** Encrypts the management trail's log group. */
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly noncurrentVersionExpirationDays: number;
  readonly abortIncompleteMultipartUploadDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Two CloudTrail trails into a bucket of their own, with file integrity validation: one of the
 * account's management events, read and write (a read such as GetSecretValue is who saw a
 * password), also delivered to an encrypted CloudWatch Logs group whose metric filters count the
 * activity that pages someone (AUDIT_FINDINGS); and one of who read and wrote which object in the
 * lake (S3 data events), kept out of CloudWatch Logs, where every Glue read would be a log event.
 *
 * The lake buckets are named, not referenced: they live in the lakehouse stack, which depends on
 * the keys of the stack that holds this trail, so a reference would be a cycle.
 */
export class AuditTrail extends StatefulConstruct {
  /** The management events trail (S3 and CloudWatch Logs). */
  readonly trail: cloudtrail.Trail;
  /** The lake's S3 data events trail. */
  readonly dataEventsTrail: cloudtrail.Trail;
  readonly logGroup: logs.LogGroup;
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
      recovery: "Who read or changed the audit bucket's objects, kept for troubleshooting; the trails themselves record every API call on it.",
    }).bucket;
    this.bucket = new SecureBucket(this, 'Logs', {
      ...lifecycle,
      recovery:
        "CloudTrail's log files: the trail's digest files prove each one complete and unaltered, and management events are also in " +
        'CloudWatch Logs' +
        (props.objectLock ? '; each file is locked (Object Lock, governance) for the retention, so no ordinary principal can delete or overwrite it.' : '.'),
      objectLockDays: props.objectLock ? props.retentionDays : undefined,
      encryptionKey: props.encryptionKey,
      serverAccessLogsBucket: this.accessLogsBucket,
      lifecycleRules: [{ id: 'expire-trail-logs', expiration: Duration.days(props.retentionDays) }],
    }).bucket;

    this.logGroup = encryptedLogGroup(this, 'ManagementEvents', undefined, { logsKey: props.logsKey, logRetention: props.logRetention, removalPolicy: props.removalPolicy });
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: props.trailName,
      bucket: this.bucket,
      encryptionKey: props.encryptionKey,
      enableFileValidation: true,
      includeGlobalServiceEvents: true,
      isMultiRegionTrail: true,
      managementEvents: cloudtrail.ReadWriteType.ALL,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: this.logGroup,
    });
    // CDK makes the trail depend on its CloudWatch Logs role, which its properties already reference.
    allowRedundantDependency(this.trail.node.defaultChild as CfnResource);
    for (const finding of AUDIT_FINDINGS) {
      new logs.MetricFilter(this, `Filter-${finding.id}`, {
        logGroup: this.logGroup,
        filterPattern: logs.FilterPattern.literal(finding.pattern),
        metricNamespace: AUDIT_METRICS_NAMESPACE,
        metricName: finding.metricName,
        metricValue: '1',
      });
    }

    this.dataEventsTrail = new cloudtrail.Trail(this, 'DataEventsTrail', {
      trailName: props.dataEventsTrailName,
      bucket: this.bucket,
      encryptionKey: props.encryptionKey,
      enableFileValidation: true,
      includeGlobalServiceEvents: false,
      isMultiRegionTrail: false,
      managementEvents: cloudtrail.ReadWriteType.NONE,
      sendToCloudWatchLogs: false,
    });
    acknowledgeCompliance(
      this.dataEventsTrail,
      'CloudTrailCloudWatchLogsEnabled',
      "Object-level data events of the lake (every read and write, millions a day at fleet scale) go to the encrypted, validated audit bucket, read with Athena when needed; the alarmed metric filters watch management events, which the management trail sends to CloudWatch Logs (decision 112).",
    );
    const stack = Stack.of(this);
    this.dataEventsTrail.addS3EventSelector(
      props.dataEventBucketNames.map((name, i) => ({ bucket: s3.Bucket.fromBucketName(stack, `DataEventBucket${i}`, name) })),
      { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false },
    );
  }
}

/** An alarm on the first occurrence of each audit finding (metric filters of the management trail). */
export function monitorAuditTrail(monitoring: PlatformMonitoring): void {
  for (const finding of AUDIT_FINDINGS) {
    monitoring.addAlarm(`audit-${finding.id}`, {
      metric: new cloudwatch.Metric({ namespace: AUDIT_METRICS_NAMESPACE, metricName: finding.metricName, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `Account activity to look at: ${finding.description} (management trail).`,
      thresholdReason: 'each occurrence is worth a look; a deployment makes some of its own (policies, security groups), and one outside a deployment is the one to chase.',
    });
  }
}
