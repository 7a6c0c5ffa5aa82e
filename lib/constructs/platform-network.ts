import { CfnResource, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeCdkProvider, acknowledgeCdkProviderFunction, acknowledgeCompliance } from '../nag/acknowledgements';
import { encryptedLogGroup } from './log-groups';
import { StatefulConstruct } from './removal';

export interface PlatformNetworkProps {
  readonly vpcCidr: string;
  readonly availabilityZoneCount: number;
  readonly natGateways: number;
  readonly flowLogRetentionDays: logs.RetentionDays;
  /** Three isolated subnets of the warehouse's own (config `warehouse.enabled`). */
  readonly warehouseSubnets: boolean;
  /**
   * The buckets that workloads inside the VPC read or write (the lake's zones, by their
   * deterministic names): the S3 gateway endpoint admits these and no other bucket.
   */
  readonly platformBucketNames: string[];
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
 * AWS-owned buckets a workload inside the VPC must reach through the S3 gateway endpoint, each
 * with why. None today, and the list says so on purpose: Lambda, Glue and Managed Flink load
 * their code through their services, outside the VPC; Glue jobs run without a VPC connection;
 * the custom resources' provider functions that answer CloudFormation (its presigned-URL bucket,
 * cloudformation-custom-resource-response-<region>) run outside the VPC, and their handlers inside
 * it only return to them; nothing in the VPC installs packages from Amazon Linux, SSM or ECR
 * buckets. A workload that needs one adds it here, with its reason.
 */
export const AWS_OWNED_BUCKETS_REACHED_FROM_THE_VPC: ReadonlyArray<{ readonly bucket: string; readonly why: string }> = [];

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
  /** The region's S3 addresses (its AWS-managed prefix list), which the gateway endpoint routes; resolved at deploy. */
  readonly s3PrefixListId: string;
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

    for (const subnet of this.vpc.publicSubnets) {
      acknowledgeCompliance(
        subnet,
        'VPCNoUnrestrictedRouteToIGW',
        "A public subnet holds only a NAT gateway (nothing else is placed in one, and none maps public IPs on launch): this route to the internet gateway is the NAT's, the private subnets' only way out to the partner APIs.",
      );
    }

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
      const endpoint = this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        open: false,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      });
      endpoint.addToPolicy(accountOnlyStatement(Stack.of(this).account));
    }
    this.limitS3Endpoint(props.platformBucketNames);
    this.s3PrefixListId = this.lookUpS3PrefixList(props);

    if (props.warehouseSubnets) this.addWarehouseSubnets(props.vpcCidr);

    acknowledgeCdkProvider(Stack.of(this), 'Custom::VpcRestrictDefaultSGCustomResourceProvider', 'strips the default security group of its rules');
  }

  /**
   * The S3 gateway endpoint admits the account's principals to the platform's buckets and their
   * objects, and anyone to the AWS-owned buckets listed (none today), so credentials brought into
   * the VPC cannot copy data to a bucket of another account, nor can ours.
   */
  private limitS3Endpoint(bucketNames: string[]): void {
    if (bucketNames.length === 0) throw new Error('the S3 gateway endpoint needs the names of the buckets the VPC reaches');
    const endpoint = this.vpc.node.findChild('S3') as ec2.GatewayVpcEndpoint;
    endpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PlatformBucketsByThisAccount',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:*'],
        resources: bucketNames.flatMap((name) => [`arn:${Stack.of(this).partition}:s3:::${name}`, `arn:${Stack.of(this).partition}:s3:::${name}/*`]),
        conditions: { StringEquals: { 'aws:PrincipalAccount': Stack.of(this).account, 'aws:ResourceAccount': Stack.of(this).account } },
      }),
    );
    if (AWS_OWNED_BUCKETS_REACHED_FROM_THE_VPC.length > 0) {
      endpoint.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AwsOwnedBuckets',
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: AWS_OWNED_BUCKETS_REACHED_FROM_THE_VPC.map((b) => `arn:${Stack.of(this).partition}:s3:::${b.bucket}/*`),
        }),
      );
    }
  }

  /**
   * The id of the region's S3 prefix list, for security group rules that let HTTPS reach S3
   * through the gateway endpoint and nothing else on the internet. CloudFormation has no
   * attribute for it and synth is offline, so an SDK call reads it at deploy.
   */
  private lookUpS3PrefixList(props: PlatformNetworkProps): string {
    const prefixListName = `com.amazonaws.${Stack.of(this).region}.s3`;
    const lookup = new cr.AwsCustomResource(this, 'S3PrefixList', {
      resourceType: 'Custom::S3PrefixListLookup',
      // Kept as long as the flow logs, the network's other log.
      logGroup: encryptedLogGroup(this, 'S3PrefixListLogs', undefined, { ...props, logRetention: props.flowLogRetentionDays }),
      installLatestAwsSdk: false,
      onUpdate: {
        service: 'EC2',
        action: 'DescribeManagedPrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: [prefixListName] }] },
        physicalResourceId: cr.PhysicalResourceId.of(prefixListName),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      // DescribeManagedPrefixLists supports no resource-level permission: its resource can only be '*'.
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] })]),
    });
    Validations.of(lookup).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeManagedPrefixLists has no resource-level permission (the Service Authorization Reference lists no resource type for it): a read of prefix-list metadata, the only action granted.',
    });
    const provider = Stack.of(this).node.findChild(SDK_CALL_PROVIDER_ID);
    acknowledgeCdkProviderFunction(provider, provider.node.defaultChild as CfnResource, "reads the id of the region's S3 prefix list at deploy (CloudFormation has no attribute for it)");
    return lookup.getResponseField('PrefixLists.0.PrefixListId');
  }

  /** Where HTTPS to AWS's APIs goes from inside the VPC, for `allowHttpsToAwsApis`. */
  get awsApiRoutes(): AwsApiRoutes {
    return { endpointSecurityGroupId: this.endpointSecurityGroup.securityGroupId, s3PrefixListId: this.s3PrefixListId };
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

/** The interface endpoints' security group and S3's prefix list: where AWS's APIs answer inside the VPC. */
export interface AwsApiRoutes {
  readonly endpointSecurityGroupId: string;
  readonly s3PrefixListId: string;
}

/**
 * Lets `securityGroup` send HTTPS to the interface endpoints and, where `s3` is set, to S3
 * through the gateway endpoint: AWS's APIs, and nothing else on the internet.
 */
export function allowHttpsToAwsApis(securityGroup: ec2.SecurityGroup, routes: AwsApiRoutes, options: { s3: boolean }): void {
  securityGroup.addEgressRule(ec2.Peer.securityGroupId(routes.endpointSecurityGroupId), ec2.Port.tcp(443), 'HTTPS to the interface endpoints');
  if (options.s3) securityGroup.addEgressRule(ec2.Peer.prefixList(routes.s3PrefixListId), ec2.Port.tcp(443), 'HTTPS to S3 through the gateway endpoint');
}

/** The id CDK gives the single function behind every AwsCustomResource of a stack. */
export const SDK_CALL_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

/**
 * An interface endpoint's policy: the account's principals, on the account's resources. A
 * request whose action names no resource carries no resource account and is judged by the
 * principal alone (IfExists); credentials of another account are refused either way.
 */
function accountOnlyStatement(account: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ThisAccountOnly',
    principals: [new iam.AnyPrincipal()],
    actions: ['*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:PrincipalAccount': account }, StringEqualsIfExists: { 'aws:ResourceAccount': account } },
  });
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
