import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeCdkProvider } from '../nag/acknowledgements';
import { encryptedLogGroup } from './log-groups';
import { StatefulConstruct } from './removal';

export interface PlatformNetworkProps {
  readonly vpcCidr: string;
  readonly availabilityZoneCount: number;
  readonly natGateways: number;
  readonly flowLogRetentionDays: logs.RetentionDays;
  /** Three isolated subnets of the warehouse's own (config `warehouse.enabled`). */
  readonly warehouseSubnets: boolean;
  readonly logsKey: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

/** How many zones the warehouse's subnets span: Redshift Serverless takes subnets in at least three. */
export const WAREHOUSE_SUBNET_ZONES = 3;

/**
 * The warehouse's subnet blocks: the first three /26 of the VPC's last /24, away from the blocks
 * the VPC allocates from its start, so adding them moves no existing subnet.
 */
export function warehouseSubnetCidrs(vpcCidr: string): string[] {
  const [address, bits] = vpcCidr.split('/');
  const prefix = Number(bits);
  if (prefix > 23) throw new Error(`VPC ${vpcCidr}: the warehouse's subnets need a VPC of /23 or larger`);
  const base = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const lastBlock = base + 2 ** (32 - prefix) - 256;
  const dotted = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
  return [0, 64, 128].map((offset) => `${dotted(lastBlock + offset)}/26`);
}

/**
 * Interface endpoints the private workloads (Glue, DMS, Flink, Lambda) use to reach AWS APIs
 * without leaving the VPC. S3 is reached through the gateway endpoint.
 */
export const INTERFACE_ENDPOINTS: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  CloudWatchLogs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  CloudWatchMonitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  KinesisStreams: ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS,
  KinesisFirehose: ec2.InterfaceVpcEndpointAwsService.KINESIS_FIREHOSE,
  Glue: ec2.InterfaceVpcEndpointAwsService.GLUE,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
};

/**
 * The platform VPC: public subnets only for the NAT gateways, private subnets with egress for
 * workloads that must reach outside APIs (the DMS source databases, the weather and sensor APIs),
 * isolated subnets for workloads that talk to AWS only. All traffic is recorded in flow logs
 * (KMS-encrypted log group), and the default security group has no rules, so nothing can end up
 * in it by accident.
 */
export class PlatformNetwork extends StatefulConstruct {
  readonly vpc: ec2.Vpc;
  /** Attached to every interface endpoint: HTTPS from inside the VPC only. */
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly flowLogGroup: logs.LogGroup;
  private readonly warehouseSubnetList: ec2.PrivateSubnet[] = [];

  constructor(scope: Construct, id: string, props: PlatformNetworkProps) {
    super(scope, id, props);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr),
      maxAzs: props.availabilityZoneCount,
      natGateways: props.natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 25 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });

    this.flowLogGroup = encryptedLogGroup(this, 'FlowLogs', undefined, { ...props, logRetention: props.flowLogRetentionDays });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        open: false,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      });
    }

    if (props.warehouseSubnets) this.addWarehouseSubnets(props.vpcCidr);

    acknowledgeCdkProvider(Stack.of(this), 'Custom::VpcRestrictDefaultSGCustomResourceProvider', 'strips the default security group of its rules');
  }

  /**
   * The warehouse's subnets, apart from the VPC's tiers: Redshift Serverless needs three zones,
   * and an environment whose VPC spans two must not have its subnets renumbered (a subnet's block
   * cannot change in place; CloudFormation would replace every subnet with interfaces in it).
   * Isolated: a route table of their own with S3's gateway endpoint and no other route; the
   * interface endpoints answer them through the VPC's private DNS.
   */
  private addWarehouseSubnets(vpcCidr: string): void {
    // The region's first three zones as CloudFormation lists them: a synth without an account
    // knows two placeholder zones only, so the zones are resolved at deploy.
    const zones = Array.from({ length: WAREHOUSE_SUBNET_ZONES }, (_, i) => Fn.select(i, Fn.getAzs()));
    const cidrs = warehouseSubnetCidrs(vpcCidr);
    const taken = this.vpc.publicSubnets.concat(this.vpc.privateSubnets, this.vpc.isolatedSubnets).map((s) => s.ipv4CidrBlock);
    cidrs.forEach((cidr, i) => {
      if (taken.some((t) => overlaps(t, cidr))) throw new Error(`the warehouse subnet ${cidr} overlaps a VPC subnet (${taken.join(', ')}): widen the VPC`);
      this.warehouseSubnetList.push(
        new ec2.PrivateSubnet(this, `WarehouseSubnet${i + 1}`, { vpcId: this.vpc.vpcId, availabilityZone: zones[i], cidrBlock: cidr, mapPublicIpOnLaunch: false }),
      );
    });
    // The S3 gateway endpoint routes for these subnets too (Spectrum reads the lake through it).
    const s3 = this.vpc.node.findChild('S3').node.defaultChild as ec2.CfnVPCEndpoint;
    s3.routeTableIds = [...(s3.routeTableIds ?? []), ...this.warehouseSubnetList.map((s) => s.routeTable.routeTableId)];
  }

  /** The warehouse's three isolated subnets (only where the warehouse is enabled). */
  get warehouseSubnets(): ec2.SubnetSelection {
    if (this.warehouseSubnetList.length === 0) throw new Error('this network has no warehouse subnets: set warehouse.enabled');
    return { subnets: this.warehouseSubnetList };
  }

  /** The VPC's isolated subnets, one a zone: databases that talk to nothing outside the VPC (the registry). */
  get isolatedSubnets(): ec2.SubnetSelection {
    return { subnetGroupName: 'isolated' };
  }

  /** Subnets for workloads that need the internet through NAT (DMS sources, API pulls). */
  get privateSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }

}

function overlaps(a: string, b: string): boolean {
  const range = (cidr: string) => {
    const [address, bits] = cidr.split('/');
    const start = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
    return [start, start + 2 ** (32 - Number(bits)) - 1];
  };
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}
