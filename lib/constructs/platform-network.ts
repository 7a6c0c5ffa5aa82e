import { RemovalPolicy, Stack } from 'aws-cdk-lib';
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
  readonly logsKey: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
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

    acknowledgeCdkProvider(Stack.of(this), 'Custom::VpcRestrictDefaultSGCustomResourceProvider', 'strips the default security group of its rules');
  }

  /** Subnets for workloads that need the internet through NAT (DMS sources, API pulls). */
  get privateSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }

  /** Subnets with no route out but the VPC's endpoints (the warehouse). */
  get isolatedSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  }
}
