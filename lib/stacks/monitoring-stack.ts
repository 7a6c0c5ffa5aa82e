import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface MonitoringStackProps extends PlatformStackProps {
  readonly alertsKey: kms.IKey;
}

/**
 * The alert topic, the dashboard and every alarm. Other stacks receive `monitoring` and add their
 * alarms, widgets and event alerts through it; they are created here, so this stack deploys last.
 */
export class MonitoringStack extends PlatformStack {
  readonly monitoring: PlatformMonitoring;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    this.monitoring = new PlatformMonitoring(this, 'Monitoring', {
      namePrefix: this.config.resourcePrefix,
      alertsKey: props.alertsKey,
      alertEmails: this.config.monitoring.alertEmails,
    });
  }
}
