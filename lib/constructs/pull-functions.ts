import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EnvironmentConfig } from '../config';
import { PlatformNames } from '../config/naming';
import { contractOf, DatasetContract, rawPrefix } from '../contracts';
import { acknowledgeWildcards, escapeRegExp } from '../nag/acknowledgements';
import { PULL_FUNCTIONS, PullFunctionDeclaration, pullEnvironment, PullStream } from '../registry/pulls';
import { LakeAccess } from './lake-access';
import { PlatformKeys } from './platform-keys';
import { PlatformMonitoring } from './platform-monitoring';
import { PlatformNetwork } from './platform-network';
import { monitorScheduledPull } from './scheduled-pull-monitoring';
import { ScheduledPullFunction } from './scheduled-pull-function';

export interface PullFunctionsProps {
  /** The stack's layer: the pull functions declared for it are built (lib/registry/pulls.ts). */
  readonly layer: PullFunctionDeclaration['layer'];
  readonly config: EnvironmentConfig;
  readonly names: PlatformNames;
  readonly contracts: readonly DatasetContract[];
  readonly rawBucket: s3.IBucket;
  readonly keys: PlatformKeys;
  readonly access: LakeAccess;
  readonly network: PlatformNetwork;
  readonly monitoring: PlatformMonitoring;
  /** The streams the layer's pulls write. @default - none */
  readonly streams?: Partial<Record<PullStream, kinesis.IStream>>;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Every pull function of a layer, each from its declaration: the function on its schedule, run
 * as its source's raw writer role with the grants it declares (read back its own dataset, write
 * its streams), and its alarms. Built in the stack's own scope, so each keeps the construct ID
 * (and the logical IDs of its named function and log group) its declaration gives it.
 */
export function addPullFunctions(stack: Stack, props: PullFunctionsProps): Record<string, ScheduledPullFunction> {
  const built: Record<string, ScheduledPullFunction> = {};
  for (const pull of PULL_FUNCTIONS.filter((p) => p.layer === props.layer)) {
    const contract = contractOf(props.contracts, pull.dataset);
    const role = props.access.rawWriterIn(stack, contract.source);
    if (pull.readsOwnPrefix) grantOwnPrefixRead(role, props, rawPrefix(contract), pull);
    const streams = (pull.writesStreams ?? []).map((name) => {
      const stream = props.streams?.[name];
      if (!stream) throw new Error(`${pull.name} writes the ${name} stream, which the ${props.layer} stack does not have`);
      return [name, stream] as const;
    });
    const targets = { rawBucket: props.rawBucket.bucketName, account: stack.account, streams: Object.fromEntries(streams.map(([n, s]) => [n, s.streamName])) };
    const fn = new ScheduledPullFunction(stack, pull.id, {
      name: pull.name,
      description: pull.description,
      functionName: props.names.resource(pull.name),
      schedule: pull.schedule(props.config),
      role,
      environment: pullEnvironment(pull, props.config, targets),
      timeout: Duration.seconds(pull.timeoutSeconds(props.config)),
      memorySize: pull.memoryMiB?.(props.config),
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.keys.logs,
      logRetention: props.config.monitoring.logRetentionDays,
      deadLetterKey: props.keys.raw,
      removalPolicy: props.removalPolicy,
    });
    for (const [, stream] of streams) stream.grantWrite(role);
    monitorScheduledPull(props.monitoring, pull.name, fn, pull.countAlarms);
    built[pull.name] = fn;
  }
  return built;
}

/**
 * Read back the function's own dataset: GetObject under its prefix, and List of that prefix only,
 * so that a day not written yet answers NoSuchKey rather than AccessDenied; decrypt with the raw key.
 */
function grantOwnPrefixRead(role: iam.IRole, props: PullFunctionsProps, ownPrefix: string, pull: PullFunctionDeclaration): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.rawBucket.arnForObjects(`${ownPrefix}*`)] }));
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.rawBucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${ownPrefix}*`] } } }),
  );
  props.keys.raw.grantDecrypt(role);
  acknowledgeWildcards(role, [
    {
      finding: new RegExp(`^Resource::.*\\/${escapeRegExp(ownPrefix)}\\*$`),
      reason: `Objects under ${ownPrefix} of the raw zone: the days the ${pull.name} function itself writes, read back (${pull.readsOwnPrefix}).`,
    },
  ]);
}
