import { CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeCdkProviderFunction } from '../nag/acknowledgements';
import { encryptedLogGroup } from './log-groups';
import { privateFunction } from './private-function';

export interface MigrationsProviderProps {
  readonly namePrefix: string;
  /** The handler's folder under lambda/ and its function's name after the prefix, e.g. `registry-migrations`. */
  readonly name: string;
  /** What the migrations are of, e.g. `the device registry`. */
  readonly what: string;
  /** The API the handler applies them through, e.g. `the RDS Data API`. */
  readonly through: string;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export interface MigrationsProvider {
  /** The handler's role, to which the caller grants the database API and the secret. */
  readonly role: iam.Role;
  /** Of the custom resource that carries the migrations. */
  readonly serviceToken: string;
}

/**
 * The provider of a deploy-time migrations custom resource: the handler (lambda/<name>, in the
 * private subnets, encrypted logs) behind CDK's provider framework, whose relay function is CDK's
 * own code and is acknowledged as such. The caller grants the role what its database needs and
 * makes the resource, whose properties carry the migrations' statements.
 */
export function migrationsProvider(scope: Construct, props: MigrationsProviderProps): MigrationsProvider {
  const handler = privateFunction(scope, {
    name: props.name,
    functionName: `${props.namePrefix}-${props.name}`,
    description: `Applies the migrations of ${props.what} not yet recorded, through ${props.through}, at deploy`,
    purpose: `runs the migrations of ${props.what} through ${props.through}`,
    environment: {},
    // Long migrations are polled to their end; the handler reports before this.
    timeout: Duration.minutes(14),
    memoryMiB: 256,
    // Migrations are applied in order, never side by side.
    concurrency: 1,
    failedInvocations: "Invoked synchronously by CDK's provider framework: a failed migration fails the deployment, which CloudFormation reports and rolls back.",
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    logsKey: props.logsKey,
    logRetention: props.logRetention,
    removalPolicy: props.removalPolicy,
  });
  const provider = new cr.Provider(scope, 'Provider', {
    onEventHandler: handler.function,
    logGroup: encryptedLogGroup(scope, 'ProviderLogs', undefined, props),
    providerFunctionName: `${props.namePrefix}-${props.name}-provider`,
  });
  // The provider framework's relay (CDK's code) invokes the handler by ARN with any qualifier.
  acknowledgeCdkProviderFunction(provider, provider.node.findChild('framework-onEvent').node.defaultChild as CfnResource, `relays CloudFormation's requests to the ${props.name} handler`);
  Validations.of(provider).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).resolve((handler.function.node.defaultChild as CfnResource).logicalId)}.Arn>:*]`,
    reason: `The provider framework may invoke the one ${props.name} handler at any version or alias; the wildcard is the qualifier of that single function.`,
  });
  return { role: handler.role, serviceToken: provider.serviceToken };
}
