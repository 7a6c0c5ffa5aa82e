import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, rules } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * A form of IAM wildcard a component accepts, and why. `finding` is matched against cdk-nag's
 * AwsSolutions-IAM5 finding text, `Action::<action>` or `Resource::<flattened ARN>`.
 */
export interface WildcardAllowance {
  readonly finding: RegExp;
  readonly reason: string;
}

/** A wildcard over every resource is never acknowledged by pattern: it must be reviewed at its site. */
const EVERY_RESOURCE = 'Resource::*';

const iamWildcardRule = rules.iam.IAMNoWildcardPermissions;
const allowancesOf = new WeakMap<IConstruct, WildcardAllowance[]>();

/**
 * Declares, for every IAM policy under `scope`, the AwsSolutions-IAM5 findings it accepts: those
 * matching one of `allowances`, each acknowledged with its reason. They are applied when cdk-nag
 * validates the synthesized app (PlatformAwsSolutionsChecks), when every reference, cross-stack
 * ones included, has its final form. A finding that matches no allowance stays a finding.
 */
export function acknowledgeWildcards(scope: IConstruct, allowances: readonly WildcardAllowance[]): void {
  allowancesOf.set(scope, [...(allowancesOf.get(scope) ?? []), ...allowances]);
}

function applyAllowances(root: IConstruct): void {
  for (const node of root.node.findAll()) {
    if (!CfnResource.isCfnResource(node)) continue;
    const allowances = node.node.scopes.flatMap((s) => allowancesOf.get(s) ?? []);
    if (allowances.length === 0) continue;
    const findings = iamWildcardRule(node);
    if (!Array.isArray(findings)) continue;
    for (const finding of findings) {
      if (finding === EVERY_RESOURCE) continue;
      const allowance = allowances.find((a) => a.finding.test(finding));
      if (allowance) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: allowance.reason });
    }
  }
}

/**
 * cdk-nag's AwsSolutions pack, applying the declared wildcard allowances to the synthesized tree
 * right before it validates.
 */
export class PlatformAwsSolutionsChecks extends AwsSolutionsChecks {
  override validate(context: Parameters<AwsSolutionsChecks['validate']>[0]): ReturnType<AwsSolutionsChecks['validate']> {
    const app = (context as unknown as { appConstruct?: IConstruct }).appConstruct;
    if (app) applyAllowances(app);
    return super.validate(context);
  }
}

/** Escapes text for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The action groups that `grant*()` methods on S3 buckets and KMS keys emit. AWS names these
 * families with a trailing wildcard (for example `kms:GenerateDataKey*` covers the
 * WithoutPlaintext variant); each is still limited to the one bucket or key it is granted on.
 */
export const GRANT_ACTION_GROUPS: WildcardAllowance = {
  finding: /^Action::(s3:(Abort\*|GetObject\*|GetBucket\*|List\*|DeleteObject\*|PutObject\*)|kms:(GenerateDataKey\*|ReEncrypt\*))$/,
  reason:
    'Action group emitted by a CDK grant*() call on one bucket or key: the trailing wildcard covers the ' +
    "variants of one API (for example GenerateDataKeyWithoutPlaintext), not other services' actions.",
};

/**
 * Switches cfn-lint's W3005 off on one resource: CDK renders both a DependsOn and a GetAtt on the
 * role of a state machine or of a provider's function, and cfn-lint calls the DependsOn redundant.
 * Harmless, and not ours to change.
 */
export function allowRedundantDependency(resource: CfnResource): void {
  resource.cfnOptions.metadata = { ...resource.cfnOptions.metadata, 'cfn-lint': { config: { ignore_checks: ['W3005'] } } };
}

/**
 * A function CDK builds for a custom resource (an L2 option's provider, the SDK-call singleton,
 * the provider framework's relay): its role carries the AWS managed basic-execution policy and
 * we own neither its code nor its role, so the finding is acknowledged where it lives, with what
 * the function does; its redundant dependency on its role is allowed.
 */
export function acknowledgeCdkProviderFunction(provider: IConstruct, providerFunction: CfnResource, purpose: string): void {
  allowRedundantDependency(providerFunction);
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: `CDK-managed provider that ${purpose}; its role and code come with the CDK release.`,
  });
}

const acknowledgedProviders = new WeakSet<IConstruct>();

/**
 * Some L2 options (bucket auto-delete, default security group restriction) add one CDK-managed
 * Lambda provider per stack; acknowledged once, where it lives (acknowledgeCdkProviderFunction).
 */
export function acknowledgeCdkProvider(stack: Stack, providerId: string, purpose: string): void {
  const provider = stack.node.tryFindChild(providerId);
  if (!provider) throw new Error(`${stack.stackName}: expected the CDK provider ${providerId}`);
  if (acknowledgedProviders.has(provider)) return;
  acknowledgedProviders.add(provider);
  const handler = provider.node.tryFindChild('Handler');
  if (!CfnResource.isCfnResource(handler)) throw new Error(`${providerId}: expected a Handler resource`);
  acknowledgeCdkProviderFunction(provider, handler, purpose);
}
