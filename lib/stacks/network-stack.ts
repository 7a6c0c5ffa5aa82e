import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PlatformNetwork } from '../constructs/platform-network';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface NetworkStackProps extends PlatformStackProps {
  readonly logsKey: kms.IKey;
}

/** The VPC, its endpoints and flow logs. */
export class NetworkStack extends PlatformStack {
  readonly network: PlatformNetwork;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { network } = this.config;
    this.network = new PlatformNetwork(this, 'Network', {
      vpcCidr: network.vpcCidr,
      availabilityZoneCount: network.availabilityZoneCount,
      natGateways: network.natGateways,
      flowLogRetentionDays: network.flowLogRetentionDays,
      logsKey: props.logsKey,
      removalPolicy: this.removalPolicy,
    });
  }
}
