import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as transfer from 'aws-cdk-lib/aws-transfer';
import { Construct } from 'constructs';
import { CLAIMS_PREFIX, QUARANTINE_PREFIX } from '../../lambda/partner-file-check/core';
import { SERVICE as CHECK_SERVICE } from '../../lambda/partner-file-check/service';
import { PARTNER_FILE_CHECK_SETTINGS, PartnerFileCheckSettings, partnerFileCheckSettings } from '../../lambda/partner-file-check/settings';
import { settingsEnvironment } from '../../lambda/shared/settings';
import { EnvironmentConfig } from '../config';
import { METRICS_NAMESPACE } from '../config/metrics';
import { contractOf, DatasetContract, rawPrefix } from '../contracts';
import { acknowledgeWildcards, escapeRegExp, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { encryptedLogGroup } from './log-groups';
import { PlatformMonitoring } from './platform-monitoring';
import { privateFunction, PrivateFunction } from './private-function';
import { SecureBucket } from './secure-bucket';
import { StatefulConstruct } from './removal';

type PartnerFilesConfig = EnvironmentConfig['ingestion']['partnerFiles'];

export interface PartnerFileDropsProps {
  readonly config: PartnerFilesConfig;
  /** Physical names: the server's tag, the function, the key alias. */
  readonly namePrefix: string;
  /** The landing bucket's physical name (PlatformNames.partnerLandingBucket): the VPC's S3 endpoint admits it by name. */
  readonly landingBucketName: string;
  /** The contracts of the partners' datasets. */
  readonly contracts: readonly DatasetContract[];
  readonly vpc: ec2.IVpc;
  /** Where the server's endpoint and the check run: the private subnets. */
  readonly subnets: ec2.SubnetSelection;
  readonly rawBucket: s3.IBucket;
  readonly rawKey: kms.IKey;
  readonly accessLogsBucket: s3.IBucket;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly noncurrentVersionExpirationDays: number;
  readonly abortIncompleteMultipartUploadDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The newest Transfer Family policy without FIPS-only restrictions (checked 2026-12): SSH with
 * AES-GCM and ChaCha20 ciphers, ETM MACs and curve25519 or ECDH key exchange only; no CBC, no
 * SHA-1, no diffie-hellman-group14-sha1. CloudFormation's default would be the 2018 policy.
 */
export const SFTP_SECURITY_POLICY = 'TransferSecurityPolicy-2025-03';
/** Lambda's retries of a failed check (asynchronous invocation), before the dead-letter queue. */
export const CHECK_RETRY_ATTEMPTS = 2;

/** The check's settings from the config and where it runs (the local run builds them here too). */
export function partnerFileCheckSettingsOf(config: PartnerFilesConfig, buckets: { readonly landing: string; readonly raw: string }, account: string): PartnerFileCheckSettings {
  return {
    landingBucket: buckets.landing,
    rawBucket: buckets.raw,
    expectedBucketOwner: account,
    partners: Object.fromEntries(config.partners.map((p) => [p.name, p.dataset])),
    limits: { maxFileBytes: config.maxFileMiB * 1_048_576, maxUncompressedBytes: config.maxUncompressedMiB * 1_048_576, maxRecords: config.maxRecordsPerFile },
  };
}

/** Memory of the check: the inflated file as bytes and as text (UTF-16), and headroom; Lambda's 10 GiB at most. */
export function checkMemoryMiB(config: PartnerFilesConfig): number {
  return Math.min(10_240, 512 + 4 * config.maxUncompressedMiB);
}

/**
 * Partner file drops over SFTP: an AWS Transfer Family server with a VPC endpoint in the private
 * subnets (port 22 open to the configured networks only) and a security policy without old
 * ciphers, logging to an encrypted log group; each partner a service-managed user with its SSH
 * keys, jailed to its own folder of an encrypted landing bucket (logical home directory), and a
 * role that reaches that folder alone. Each upload's Object Created event (EventBridge) runs the
 * check (lambda/partner-file-check), which promotes a file that meets its dataset's contract into
 * the raw zone once, or quarantines it with a report; both are counted per partner (its alarms:
 * `monitorPartnerFileDrops`).
 */
export class PartnerFileDrops extends StatefulConstruct {
  readonly landingBucket: s3.Bucket;
  readonly key: kms.Key;
  readonly server: transfer.CfnServer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly check: PrivateFunction;
  readonly deadLetterQueue: sqs.Queue;
  readonly users: Record<string, transfer.CfnUser> = {};
  /** The check's physical function name. */
  readonly checkFunctionName: string;

  constructor(scope: Construct, id: string, props: PartnerFileDropsProps) {
    super(scope, id, props);
    const { config } = props;
    const stack = Stack.of(this);
    const datasets = [...new Set(config.partners.map((p) => p.dataset))].map((d) => contractOf(props.contracts, d));

    this.key = new kms.Key(this, 'Key', {
      alias: `alias/${props.namePrefix}/partner-files`,
      description: "Partner files uploaded over SFTP, before they are checked: the landing bucket's key",
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: props.removalPolicy,
    });
    this.landingBucket = new SecureBucket(this, 'Landing', {
      bucketName: props.landingBucketName,
      encryptionKey: this.key,
      refuseOtherKeys: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays,
      abortIncompleteMultipartUploadDays: props.abortIncompleteMultipartUploadDays,
      lifecycleRules: [{ id: 'expire-quarantine', prefix: QUARANTINE_PREFIX, expiration: Duration.days(config.quarantineRetentionDays) }],
      recovery: "Partners' uploads wait here only until the check moves them (seconds); an accepted file lives on in the raw zone, a refused one is sent again by its partner.",
      removalPolicy: props.removalPolicy,
    }).bucket;
    // Object Created events go to EventBridge, set on the bucket itself: CDK's eventBridgeEnabled
    // would add a custom-resource function to write the same setting.
    (this.landingBucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);

    // The server: reachable only inside the VPC, and there only from the configured networks.
    this.securityGroup = new ec2.SecurityGroup(this, 'ServerSecurityGroup', {
      vpc: props.vpc,
      description: `${props.namePrefix} partner SFTP: port 22 from the partner networks only`,
      allowAllOutbound: false,
    });
    for (const cidr of config.allowedCidrs) this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(22), `SFTP from ${cidr}`);
    const serverLogs = encryptedLogGroup(this, 'ServerLogs', `/aws/transfer/${props.namePrefix}-partner-sftp`, props);
    this.server = new transfer.CfnServer(this, 'Server', {
      domain: 'S3',
      protocols: ['SFTP'],
      identityProviderType: 'SERVICE_MANAGED',
      endpointType: 'VPC',
      endpointDetails: {
        vpcId: props.vpc.vpcId,
        subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
        securityGroupIds: [this.securityGroup.securityGroupId],
      },
      securityPolicyName: SFTP_SECURITY_POLICY,
      structuredLogDestinations: [serverLogs.logGroupArn],
      tags: [{ key: 'Name', value: `${props.namePrefix}-partner-sftp` }],
    });
    const serverArn = stack.formatArn({ service: 'transfer', resource: 'server', resourceName: this.server.attrServerId });

    for (const partner of config.partners) {
      const folder = `${partner.name}/`;
      // Assumed by Transfer Family for this server only (confused-deputy guard): the partner's folder, nothing else.
      const role = new iam.Role(this, `${partner.name}Role`, {
        assumedBy: new iam.ServicePrincipal('transfer.amazonaws.com').withConditions({
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': serverArn },
        }),
        description: `SFTP partner ${partner.name}: its own folder of the partner landing bucket`,
      });
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.landingBucket.bucketArn], conditions: { StringLike: { 's3:prefix': [folder, `${folder}*`] } } }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], resources: [this.landingBucket.arnForObjects(`${folder}*`)] }),
      );
      this.key.grantEncryptDecrypt(role);
      acknowledgeWildcards(role, [
        { finding: new RegExp(`^Resource::<.*Landing.*\\.Arn>/${partner.name}/\\*$`), reason: `the partner's folder of the landing bucket (${folder}): every file it uploads there` },
        GRANT_ACTION_GROUPS,
      ]);
      this.users[partner.name] = new transfer.CfnUser(this, `${partner.name}User`, {
        serverId: this.server.attrServerId,
        userName: partner.name,
        role: role.roleArn,
        homeDirectoryType: 'LOGICAL',
        homeDirectoryMappings: [{ entry: '/', target: `/${this.landingBucket.bucketName}/${partner.name}` }],
        sshPublicKeys: [...partner.sshPublicKeys],
      });
    }

    // The check: one file per invocation, in the private subnets.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter destination of the partner file check (its failed invocations and undeliverable events): the queue of last resort has no further queue.',
    });
    const functionName = `${props.namePrefix}-${CHECK_SERVICE}`;
    this.checkFunctionName = functionName;
    const settings = partnerFileCheckSettingsOf(config, { landing: this.landingBucket.bucketName, raw: props.rawBucket.bucketName }, stack.account);
    this.check = privateFunction(this, {
      name: CHECK_SERVICE,
      functionName,
      description: "Checks each partner file uploaded over SFTP against its dataset's contract; promotes it to the raw zone once, or quarantines it with its reasons.",
      purpose: 'reads and removes partner uploads, writes their claims and quarantine, copies accepted files into the raw zone',
      environment: {
        ...settingsEnvironment(PARTNER_FILE_CHECK_SETTINGS, partnerFileCheckSettings, settings),
        POWERTOOLS_SERVICE_NAME: CHECK_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      timeout: Duration.minutes(5),
      memoryMiB: checkMemoryMiB(config),
      concurrency: { unreservedBecause: 'one invocation per uploaded file, seconds each; a reservation would hold capacity back from the account for a load that comes a few times a day' },
      failedInvocations: `An event whose check failed is retried ${CHECK_RETRY_ATTEMPTS} times, then kept in this construct's dead-letter queue (alarmed), through the function's on-failure destination.`,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      logsKey: props.logsKey,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const fn = this.check.function;
    fn.configureAsyncInvoke({ retryAttempts: CHECK_RETRY_ATTEMPTS, maxEventAge: Duration.hours(6), onFailure: new destinations.SqsDestination(this.deadLetterQueue) });
    this.grantCheck(this.check.role, props.rawBucket, props.rawKey, datasets);

    new events.Rule(this, 'Uploads', {
      description: "Each file a partner uploads to its folder of the landing bucket, to the partner file check",
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [this.landingBucket.bucketName] }, object: { key: config.partners.map((p) => ({ prefix: `${p.name}/` })) } },
      },
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: this.deadLetterQueue })],
    });
  }

  /**
   * What the check does and nothing more: read, and remove, the partners' uploads (by version);
   * write claims and the quarantine in the landing bucket; put the promoted copies under each
   * partner dataset's raw prefix, and see whether one is there (List, so a missing copy is a 404).
   */
  private grantCheck(role: iam.Role, rawBucket: s3.IBucket, rawKey: kms.IKey, datasets: readonly DatasetContract[]): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [this.landingBucket.arnForObjects('*')],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [this.landingBucket.arnForObjects(`${CLAIMS_PREFIX}*`), this.landingBucket.arnForObjects(`${QUARANTINE_PREFIX}*`)] }),
    );
    this.key.grantEncryptDecrypt(role);
    const prefixes = datasets.map((d) => rawPrefix(d));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: prefixes.map((p) => rawBucket.arnForObjects(`${p}*`)) }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [rawBucket.bucketArn], conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } } }));
    rawKey.grantEncrypt(role);
    acknowledgeWildcards(role, [
      { finding: /^Resource::<.*Landing.*\.Arn>\/\*$/, reason: 'the uploads of every partner folder of the landing bucket, which the check reads and removes' },
      { finding: new RegExp(`^Resource::<.*Landing.*\\.Arn>/(${CLAIMS_PREFIX.slice(0, -1)}|${QUARANTINE_PREFIX.slice(0, -1)})/\\*$`), reason: "the check's claims and quarantine folders of the landing bucket" },
      { finding: new RegExp(`^Resource::.*/(${datasets.map((d) => escapeRegExp(rawPrefix(d))).join('|')})\\*$`), reason: "the raw prefix of each partner dataset, whose day and hour folders the promoted copies go to" },
      GRANT_ACTION_GROUPS,
    ]);
  }
}

/**
 * Alarms of the partner file drops: a refused file, per partner (the partner does not see why unless
 * told); a failed check; an event in the dead-letter queue (a file that waits by hand). Plus promoted
 * and refused files by partner on the dashboard.
 */
export function monitorPartnerFileDrops(monitoring: PlatformMonitoring, drops: PartnerFileDrops, config: PartnerFilesConfig): void {
  const functionName = drops.checkFunctionName;
  const count = (metricName: string, partner: string) =>
    new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: CHECK_SERVICE, partner }, statistic: cloudwatch.Stats.SUM, period: Duration.hours(1) });
  for (const partner of config.partners) {
    monitoring.addAlarm(`partner-files-${partner.name}-rejected`, {
      metric: count('PartnerFilesRejected', partner.name),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `Partner ${partner.name}: a file was refused; its report (every reason) is beside it under _quarantine/${partner.name}/ in the partner landing bucket. Tell the partner, who sends it again corrected.`,
      thresholdReason: "one refused file is data the platform does not have until the partner sends it again, and the partner does not see the reason unless told.",
    });
  }
  monitoring.addAlarm('partner-file-check-errors', {
    metric: drops.check.function.metricErrors({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: `${functionName}: a check failed (see its log); Lambda retries it ${CHECK_RETRY_ATTEMPTS} times.`,
    thresholdReason: 'a failure is an S3 or KMS error, rare enough that each one is worth a look; the retries usually clear it.',
  });
  monitoring.addAlarm('partner-file-check-dead-letters', {
    metric: drops.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: `${functionName}: an upload's event exhausted its retries; the file waits in its partner's folder. Send the event again from the dead-letter queue once the cause is fixed.`,
    thresholdReason: 'one message is one partner file that will not reach the raw zone without a hand.',
  });
  monitoring.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Partner files: promoted and refused',
      left: config.partners.flatMap((p) => [count('PartnerFilesPromoted', p.name), count('PartnerFilesRejected', p.name)]),
      width: 12,
    }),
  );
}
