import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeCompliance, acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';

export interface PlatformBackupProps {
  readonly vaultName: string;
  readonly planName: string;
  /** Alias of the vault's own key, `alias/<prefix>/backup`. */
  readonly keyAlias: string;
  readonly keyPendingWindowDays: number;
  /** Days each daily recovery point is kept. */
  readonly retentionDays: number;
  /** When the daily backup starts, `cron(...)` in UTC. */
  readonly schedule: string;
  readonly vaultLock: 'none' | 'governance' | 'compliance';
}

/**
 * AWS Backup for the platform's data of record: a vault encrypted with a key of its own, locked
 * (config backup.vaultLock) so no recovery point is deleted before its retention, refusing manual
 * deletion of recovery points by policy; a daily plan; and the role AWS Backup assumes to take
 * the backups. The stacks that own the data add it to the plan with `protect()`, in their own
 * stack, so the compliance packs see each resource's selection beside it.
 *
 * The vault and its key are retained whatever the environment's removal policy: a backup must
 * outlive the stack whose data it holds, and a vault with recovery points cannot be deleted anyway.
 */
export class PlatformBackup extends Construct {
  readonly key: kms.Key;
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;
  /** Assumed by AWS Backup to read the protected resources; restores are run with a role chosen at restore time. */
  readonly role: iam.Role;
  readonly vaultName: string;

  constructor(scope: Construct, id: string, props: PlatformBackupProps) {
    super(scope, id);
    this.vaultName = props.vaultName;
    this.key = new kms.Key(this, 'VaultKey', {
      alias: props.keyAlias,
      description: `Encrypts the recovery points in the ${props.vaultName} backup vault`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(props.keyPendingWindowDays),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const lockConfiguration: backup.LockConfiguration | undefined =
      props.vaultLock === 'none'
        ? undefined
        : {
            // Nobody may keep a recovery point for less than the plan's retention.
            minRetention: Duration.days(props.retentionDays),
            // Without a grace period the lock is governance mode; with one, it becomes compliance mode when the grace ends.
            changeableFor: props.vaultLock === 'compliance' ? Duration.days(3) : undefined,
          };
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: props.vaultName,
      encryptionKey: this.key,
      lockConfiguration,
      blockRecoveryPointDeletion: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: props.planName,
      backupVault: this.vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'daily',
          scheduleExpression: events.Schedule.expression(props.schedule),
          startWindow: Duration.hours(1),
          completionWindow: Duration.hours(8),
          deleteAfter: Duration.days(props.retentionDays),
        }),
      ],
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `${props.planName}: AWS Backup reads the raw zone, the registry and the alerts table into ${props.vaultName}`,
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForBackup'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AWSBackupServiceRolePolicyForS3Backup'),
      ],
    });
    this.key.grantEncryptDecrypt(this.role);
    acknowledgeWildcards(this.role, [GRANT_ACTION_GROUPS]);
    for (const policy of ['service-role/AWSBackupServiceRolePolicyForBackup', 'AWSBackupServiceRolePolicyForS3Backup']) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`,
        reason:
          "AWS Backup's own service-role policy: AWS keeps it in step with what each service's backup needs (S3's uses EventBridge " +
          'rules and object versions); the role is only assumable by AWS Backup and reads only what a selection names.',
      });
    }
  }

  /** Adds `resources` to the daily plan, with a selection built in `scope` (the stack that owns them). */
  protect(scope: Construct, id: string, selectionName: string, resources: backup.BackupResource[]): backup.BackupSelection {
    // The role already has its policies; the selection must not attach them again from another stack.
    return new backup.BackupSelection(scope, id, { backupPlan: this.plan, backupSelectionName: selectionName, resources, role: this.role, disableDefaultBackupPolicy: true });
  }
}

/** Why a data store has no backup selection where config turns backups off. */
export const BACKUPS_OFF_REASON =
  'Backups are off in this environment (config backup.enabled, which the schema allows in dev alone): it holds generated ' +
  'samples that the generator and the local run recreate.';

export interface DataOfRecord {
  /** The selection's name, `<prefix>-<what>`. */
  readonly selectionName: string;
  readonly resources: backup.BackupResource[];
  /** The store, and the compliance packs' rule that asks for its backup (none for S3, whose rule asks for replication). */
  readonly store: IConstruct;
  readonly rule?: string;
}

/**
 * Adds a stack's data of record to the daily backup, in a selection named `Backup` in `scope`; where
 * backups are off (`backup` undefined), acknowledges the packs' rule on the store with why.
 */
export function backUpDataOfRecord(scope: Construct, backupPlan: PlatformBackup | undefined, data: DataOfRecord): backup.BackupSelection | undefined {
  if (backupPlan) return backupPlan.protect(scope, 'Backup', data.selectionName, data.resources);
  if (data.rule) acknowledgeCompliance(data.store, data.rule, BACKUPS_OFF_REASON);
  return undefined;
}

/**
 * Adds an Aurora cluster to the daily backup (or, where backups are off, acknowledges why not).
 * The packs look for each Aurora instance in a selection, but AWS Backup protects Aurora per
 * cluster and the instances hold no data of their own: with the cluster selected, that finding is
 * acknowledged on the cluster's instances.
 */
export function backUpAuroraCluster(scope: Construct, backupPlan: PlatformBackup | undefined, cluster: rds.DatabaseCluster, selectionName: string): backup.BackupSelection | undefined {
  const selection = backUpDataOfRecord(scope, backupPlan, { selectionName, resources: [backup.BackupResource.fromRdsDatabaseCluster(cluster)], store: cluster, rule: 'RDSInBackupPlan' });
  if (selection) {
    acknowledgeCompliance(
      cluster,
      'RDSInBackupPlan',
      `AWS Backup backs Aurora up per cluster: this cluster is in the selection ${selectionName}; its instances hold no data of their own.`,
    );
  }
  return selection;
}
