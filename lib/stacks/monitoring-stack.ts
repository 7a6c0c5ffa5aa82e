import { Construct } from 'constructs';
import { monitorAuditTrail } from '../constructs/audit-trail';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface MonitoringStackProps extends PlatformStackProps {
  /** The alert topic is encrypted with `keys.alerts`. */
  readonly keys: PlatformKeys;
}

/**
 * The alert topic, the dashboard and every alarm. Other stacks receive `monitoring` and add their
 * alarms, widgets and event alerts through it; they are created here, so this stack deploys last.
 */
export class MonitoringStack extends PlatformStack {
  /** The monitoring API every other stack adds its alarms and alerts through. */
  readonly monitoring: PlatformMonitoring;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    this.monitoring = new PlatformMonitoring(this, 'Monitoring', {
      namePrefix: this.config.resourcePrefix,
      alertsKey: props.keys.alerts,
      alertEmails: this.config.monitoring.alertEmails,
    });
    monitorAuditTrail(this.monitoring);
  }
}
