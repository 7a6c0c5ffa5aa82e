import * as backup from 'aws-cdk-lib/aws-backup';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { LiveAlerts, monitorLiveAlerts } from '../constructs/live-alerts';
import { backUpDataOfRecord, PlatformBackup } from '../constructs/platform-backup';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformNetwork } from '../constructs/platform-network';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface OperationsStackProps extends PlatformStackProps {
  readonly network: PlatformNetwork;
  readonly keys: PlatformKeys;
  /** The telemetry stream (streaming stack) the alert rules read. */
  readonly telemetryStream: kinesis.IStream;
  readonly monitoring: PlatformMonitoring;
  /** The daily backup (security stack); none where config turns backups off. */
  readonly backup?: PlatformBackup;
}

/** What the fleet's operators use live: the alert rules on the telemetry stream and the alerts table. */
export class OperationsStack extends PlatformStack {
  /** The alerts table, the function on the stream and its on-failure queue. */
  readonly alerts: LiveAlerts;

  constructor(scope: Construct, id: string, props: OperationsStackProps) {
    super(scope, id, props);
    const { config } = this;
    const { stream, closedRetentionDays, ...rules } = config.alerts;
    this.alerts = new LiveAlerts(this, 'Alerts', {
      namePrefix: config.resourcePrefix,
      telemetryStream: props.telemetryStream,
      settings: { closedRetentionDays, rules },
      silenceCheckEveryMinutes: rules.vehicleSilent.checkEveryMinutes,
      stream,
      tableKey: props.keys.operations,
      // Only dev is disposable (DESIGN.md): elsewhere the table outlives a mistaken delete.
      deletionProtection: config.envName !== 'dev',
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: this.removalPolicy,
    });
    monitorLiveAlerts(props.monitoring, this.alerts);
    // The alerts and their acknowledgements are the operators' record; PITR covers 35 days, the backup longer.
    backUpDataOfRecord(this, props.backup, {
      selectionName: this.names.resource('alerts'),
      resources: [backup.BackupResource.fromDynamoDbTable(this.alerts.table)],
      store: this.alerts.table,
      rule: 'DynamoDBInBackupPlan',
    });
  }
}
