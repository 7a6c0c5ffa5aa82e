import { Construct } from 'constructs';
import { LAKE_ZONES } from '../config/naming';
import { AuditTrail } from '../constructs/audit-trail';
import { DmsServiceRoles } from '../constructs/dms-service-roles';
import { PlatformBackup } from '../constructs/platform-backup';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** KMS keys, the audit trail of the lake's data events, and the account-level DMS roles. */
export class SecurityStack extends PlatformStack {
  /** The platform's KMS keys, one per trust boundary; every other stack receives them as one object. */
  readonly keys: PlatformKeys;
  /** The account-level roles DMS finds by name (created here, or expected, per environment). */
  readonly dmsServiceRoles: DmsServiceRoles;
  /** CloudTrail data events of the lake's buckets, into a bucket of its own. */
  readonly auditTrail: AuditTrail;
  /** AWS Backup's vault and daily plan for the data of record; none where config turns backups off (dev). */
  readonly backup?: PlatformBackup;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const trailName = names.resource('lake-audit');
    const dataEventsTrailName = names.resource('lake-data-events');

    this.keys = new PlatformKeys(this, 'Keys', {
      aliasPrefix: config.resourcePrefix,
      pendingWindowDays: config.security.keyPendingWindowDays,
      removalPolicy: this.removalPolicy,
      trailNames: [trailName, dataEventsTrailName],
    });
    this.dmsServiceRoles = new DmsServiceRoles(this, 'DmsServiceRoles', { create: config.security.createDmsServiceRoles });
    this.auditTrail = new AuditTrail(this, 'AuditTrail', {
      trailName,
      dataEventsTrailName,
      logsKey: this.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      encryptionKey: this.keys.logs,
      dataEventBucketNames: LAKE_ZONES.map((zone) => names.zoneBucket(zone)),
      retentionDays: config.security.trailRetentionDays,
      objectLock: config.security.trailObjectLock,
      noncurrentVersionExpirationDays: config.lifecycle.noncurrentVersionExpirationDays,
      abortIncompleteMultipartUploadDays: config.lifecycle.abortIncompleteMultipartUploadDays,
      removalPolicy: this.removalPolicy,
    });
    if (config.backup.enabled) {
      this.backup = new PlatformBackup(this, 'Backup', {
        vaultName: names.resource('backup'),
        planName: names.resource('daily-backup'),
        keyAlias: `alias/${config.resourcePrefix}/backup`,
        keyPendingWindowDays: config.security.keyPendingWindowDays,
        retentionDays: config.backup.retentionDays,
        schedule: config.backup.schedule,
        vaultLock: config.backup.vaultLock,
      });
    }
  }
}
