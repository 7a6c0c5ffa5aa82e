import { AcknowledgedCounts } from './acknowledgements';

/**
 * Why each rule's findings are acknowledged, in one line for the README (the full reason sits on
 * each acknowledgement, at the resource). Keyed by the rule without its pack's prefix, since the
 * NIST and HIPAA packs share their rules' names and the platform gives both packs one reason.
 */
const NO_WAF = 'dev and staging run the KPI API, and dev the ingestion API, without WAF (config); every call is signed, authenticated or keyed, and throttled';
const NO_EXECUTION_LOG =
  "execution logging needs the account's API Gateway logging role, an account singleton; the access log and X-Ray record every request";
const DEV_DELETION_PROTECTION_OFF = 'dev only: deletion protection off (config), so dev can be torn down';

export const WHY_ACKNOWLEDGED: Record<string, string> = {
  APIG3: NO_WAF,
  APIGWAssociatedWithWAF: NO_WAF,
  APIG6: NO_EXECUTION_LOG,
  APIGWExecutionLoggingEnabled: NO_EXECUTION_LOG,
  APIG4: "the ingestion API's partners are outside AWS: each calls with its own API key and usage plan; the body is validated against the contract",
  APIGWCacheEnabledAndEncrypted: "Athena's result reuse answers repeated KPI requests (the paging of a running query must not be cached); the ingestion API only writes",
  APIGWSSLEnabled: 'a client certificate is for HTTP backends; the integrations are Lambda and Kinesis, called through their AWS APIs over TLS',
  COG4: "the KPI API's methods are authorised by IAM (SigV4) unless config enables the Cognito authorizer; the ingestion API's partners by API key",
  CloudTrailCloudWatchLogsEnabled: "the data-events trail (the lake's object reads and writes) goes to the audit bucket only; management events go to CloudWatch Logs",
  DynamoDBInBackupPlan: 'dev only: backups off (config), generated samples',
  IAM4: "AWS managed service-role policies (DMS's account roles, RDS enhanced monitoring, AWS Backup) and the basic-execution policy of CDK-managed providers",
  IAM5: "a grant's action group, the objects under a role's own prefix, the tables of one database (by pattern); Resource::* only at its site, for actions with no resource-level permission",
  IAMNoInlinePolicy: 'each policy belongs to roles of its own stack (the platform has no IAM user or group) and lives and dies with them',
  KDF1: 'the Firehose reads a KMS-encrypted Kinesis stream, or an MSK topic (MSK encrypts it); Firehose server-side encryption applies to Direct PUT only',
  KDS3: "a customer-managed key by design, not aws/kinesis: its policy and grants decide who reads stream data, its use is audited on its own",
  LambdaConcurrency: 'the stream-read alerts function (shards bound it; a reservation would throttle the reading), the checks of the ways in (one run per partner file; the Kafka check as Firehose paces it) and CDK-managed providers',
  LambdaDLQ: 'synchronous callers (API Gateway, CloudFormation, Secrets Manager, Firehose), a stream mapping with its on-failure queue, on-failure destinations',
  LambdaInsideVPC: 'CDK-managed providers that call AWS APIs only',
  RDS10: DEV_DELETION_PROTECTION_OFF,
  RDSInstanceDeletionProtectionEnabled: DEV_DELETION_PROTECTION_OFF,
  RDSInBackupPlan: 'AWS Backup protects Aurora per cluster, which is in the plan; dev: backups off',
  S3BucketReplicationEnabled: 'each bucket says how it comes back: the raw zone is backed up (AWS Backup), the others are derived, expiring, or logs',
  S3DefaultEncryptionKMS: 'server-access-log targets: S3 delivers access logs only to SSE-S3 buckets',
  SQS3: 'the queue is itself a dead-letter queue or on-failure destination, the last resort',
  VPCNoUnrestrictedRouteToIGW: 'the public subnets hold only the NAT gateways; this is their route out',
};

/** The README's table of acknowledged findings: one row per pack and rule, a column per environment. */
export function acknowledgedTable(byEnvironment: Record<string, AcknowledgedCounts>): string {
  const envs = Object.keys(byEnvironment);
  const rows: string[] = [`| Pack | Rule | ${envs.join(' | ')} | Why |`, `| --- | --- | ${envs.map(() => '---:').join(' | ')} | --- |`];
  const packs = [...new Set(envs.flatMap((e) => Object.keys(byEnvironment[e])))];
  for (const pack of packs) {
    const rules = [...new Set(envs.flatMap((e) => Object.keys(byEnvironment[e][pack] ?? {})))].sort();
    for (const rule of rules) {
      const suffix = rule.slice(pack.length + 1);
      const why = WHY_ACKNOWLEDGED[suffix];
      if (!why) throw new Error(`${rule}: no summary of why it is acknowledged (lib/nag/summary.ts)`);
      rows.push(`| ${pack} | ${suffix} | ${envs.map((e) => byEnvironment[e][pack]?.[rule] ?? 0).join(' | ')} | ${why} |`);
    }
    const totals = envs.map((e) => Object.values(byEnvironment[e][pack] ?? {}).reduce((a, b) => a + b, 0));
    rows.push(`| ${pack} | **all** | ${totals.map((t) => `**${t}**`).join(' | ')} | |`);
  }
  return rows.join('\n');
}

export const TABLE_START = '<!-- nag-acknowledged:start (npm run nag-report -- --write) -->';
export const TABLE_END = '<!-- nag-acknowledged:end -->';
