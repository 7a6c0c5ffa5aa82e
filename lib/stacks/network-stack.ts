import { Construct } from 'constructs';
import { LAKE_ZONES } from '../config/naming';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformNetwork } from '../constructs/platform-network';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface NetworkStackProps extends PlatformStackProps {
  /** Flow logs are encrypted with `keys.logs`. */
  readonly keys: PlatformKeys;
}

/** The VPC, its endpoints and flow logs. */
export class NetworkStack extends PlatformStack {
  /** The VPC (public, private and isolated subnets), its endpoints and the endpoint security group. */
  readonly network: PlatformNetwork;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { network } = this.config;
    this.network = new PlatformNetwork(this, 'Network', {
      vpcCidr: network.vpcCidr,
      availabilityZoneCount: network.availabilityZoneCount,
      natGateways: network.natGateways,
      flowLogRetentionDays: network.flowLogRetentionDays,
      warehouseSubnets: this.config.warehouse.enabled,
      // The lake's zones, and the partner landing bucket, which the partner file check reads from the VPC.
      platformBucketNames: [...LAKE_ZONES.map((zone) => this.names.zoneBucket(zone)), ...(this.config.ingestion.partnerFiles.enabled ? [this.names.partnerLandingBucket()] : [])],
      logsKey: props.keys.logs,
      removalPolicy: this.removalPolicy,
    });
  }
}
