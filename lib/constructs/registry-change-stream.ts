import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { DeviceRegistry, REGISTRY_PORT } from './device-registry';
import { DmsCapacity, DmsToKinesis } from './dms-replication';
import { registryLoginSecret } from './registry-logins';
import { AwsApiRoutes } from './platform-network';

/** The login V004 makes for DMS (registry/migrations/V004__dms_login.sql). */
export const REGISTRY_DMS_LOGIN = 'registry_dms';
/** The one table DMS streams, and the contract's dataset it is (contracts/device_registry.device_updates.json, raw.envelope). */
export const STREAMED_TABLE = { schema: 'registry', table: 'device_versions', dataset: 'device_updates' } as const;

export interface RegistryChangeStreamProps {
  /** `<prefix>-registry-changes`: the endpoints and the replication. */
  readonly identifier: string;
  readonly registry: DeviceRegistry;
  readonly databaseName: string;
  /** SSM parameter with the region's RDS CA bundle in PEM (config `registry.caBundleParameter`). */
  readonly caBundleParameter: string;
  /** Encrypts DMS's secret, as it does the registry. */
  readonly registryKey: kms.IKey;
  readonly stream: kinesis.IStream;
  readonly streamKey: kms.IKey;
  readonly capacity: DmsCapacity;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Where HTTPS to AWS's APIs goes in the VPC (the replication reaches Kinesis, Secrets Manager and KMS there). */
  readonly awsApis: AwsApiRoutes;
  readonly serviceRolesReady: IDependable;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The registry's changes onto the device-updates stream (issue 15): DMS full load and CDC of
 * registry.device_versions to Kinesis, each record DMS's envelope (decision 113), partitioned by
 * sensor_id so that one sensor's versions keep their order on one shard.
 *
 * DMS signs in as its own login: RDS's managed master secret holds no host or port, which DMS
 * needs, and a replication needs no more than the streamed table and a slot. Its secret
 * (registryLoginSecret) is attached to the cluster (host and port); the migrations make the login
 * and its grants (V004), and set its password from this secret at deploy (RegistryMigrations `logins`).
 * The registry's security group admits DMS's on PostgreSQL's port, and DMS's egress is that port
 * in the VPC's range and HTTPS to AWS APIs.
 */
export class RegistryChangeStream extends Construct {
  readonly secret: secretsmanager.Secret;
  /** The secret with the cluster's host and port attached: what DMS reads. */
  readonly connectionSecret: secretsmanager.ISecret;
  readonly replication: DmsToKinesis;

  constructor(scope: Construct, id: string, props: RegistryChangeStreamProps) {
    super(scope, id);
    this.secret = registryLoginSecret(this, 'DmsSecret', {
      username: REGISTRY_DMS_LOGIN,
      description: `DMS's login to the device registry (${REGISTRY_DMS_LOGIN}): reads registry.device_versions and its changes`,
      registryKey: props.registryKey,
      removalPolicy: props.removalPolicy,
    });
    this.connectionSecret = this.secret.attach(props.registry.cluster);

    this.replication = new DmsToKinesis(this, 'Dms', {
      identifier: props.identifier,
      source: {
        engine: 'postgres',
        databaseName: props.databaseName,
        secret: this.connectionSecret.secretArn,
        secretKey: props.registryKey,
        sourceCidr: props.vpc.vpcCidrBlock,
        port: REGISTRY_PORT,
        // The cluster forces TLS with a certificate from RDS's CA (DeviceRegistry pins rds-ca-rsa2048-g1):
        // DMS checks the chain against the region's RDS bundle and the host name against the cluster's endpoint.
        sslMode: 'verify-full',
        caCertificateParameter: props.caBundleParameter,
        tables: [STREAMED_TABLE],
        // Its own schema for the heartbeat; no DDL capture, which needs rds_superuser (a schema change is a migration and a contract change).
        postgres: { heartbeatSchema: 'dms', captureDdls: false },
      },
      capacity: props.capacity,
      vpc: props.vpc,
      subnets: props.subnets,
      awsApis: props.awsApis,
      serviceRolesReady: props.serviceRolesReady,
      stream: props.stream,
      streamKey: props.streamKey,
      partitionKeyColumn: 'sensor_id',
    });
    props.registry.securityGroup.addIngressRule(this.replication.securityGroup, ec2.Port.tcp(REGISTRY_PORT), `DMS ${props.identifier}: the registry's change capture`);
  }
}
