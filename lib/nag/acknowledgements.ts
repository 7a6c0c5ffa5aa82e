import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, HIPAASecurityChecks, IApplyRule, NagPack, NagRuleCompliance, NIST80053R5Checks, rules } from 'cdk-nag';
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

const allowancesApplied = new WeakSet<IConstruct>();

function applyAllowances(root: IConstruct): void {
  if (allowancesApplied.has(root)) return;
  allowancesApplied.add(root);
  for (const node of root.node.findAll()) {
    if (!CfnResource.isCfnResource(node)) continue;
    if (node instanceof iam.CfnPolicy) acknowledgeRolePolicy(node);
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
 * The compliance packs flag every AWS::IAM::Policy as an inline policy. The platform has no IAM
 * user or group: each policy is attached to roles of its own stack and is created, reviewed (in
 * the synth snapshot) and deleted with them. A policy that names a user or a group stays a finding.
 */
function acknowledgeRolePolicy(policy: iam.CfnPolicy): void {
  const stack = Stack.of(policy);
  const attachedTo = (value: unknown) => (stack.resolve(value) as unknown[] | undefined)?.length ?? 0;
  if (attachedTo(policy.users) > 0 || attachedTo(policy.groups) > 0) return;
  acknowledgeCompliance(
    policy,
    'IAMNoInlinePolicy',
    'Attached only to roles of this stack (the platform has no IAM user or group); it is created, reviewed in the synth snapshot and ' +
      'deleted with its roles, so a managed policy would be a second object with the same life and nothing else to attach to.',
  );
}

function withPlatformAllowances<T extends abstract new (...args: any[]) => NagPack>(Pack: T) {
  abstract class WithAllowances extends Pack {
    override validate(context: Parameters<NagPack['validate']>[0]): ReturnType<NagPack['validate']> {
      const app = (context as unknown as { appConstruct?: IConstruct }).appConstruct;
      if (app) applyAllowances(app);
      return super.validate(context);
    }
  }
  return WithAllowances;
}

/**
 * cdk-nag's AwsSolutions pack, applying the declared wildcard allowances to the synthesized tree
 * right before it validates.
 */
export class PlatformAwsSolutionsChecks extends withPlatformAllowances(AwsSolutionsChecks) {}
/** cdk-nag's NIST 800-53 rev. 5 pack, with the platform's allowances. */
export class PlatformNistChecks extends withPlatformAllowances(NIST80053R5Checks) {}
/** cdk-nag's HIPAA Security pack, with the platform's allowances. */
export class PlatformHipaaChecks extends withPlatformAllowances(HIPAASecurityChecks) {}

/** The packs synth runs; any finding none of them has acknowledged fails synth. */
export function platformNagPacks(app: IConstruct): NagPack[] {
  return [new PlatformAwsSolutionsChecks(app), new PlatformNistChecks(app), new PlatformHipaaChecks(app)];
}

/** The compliance packs synth runs beside AwsSolutions; they name their shared rules alike. */
export const COMPLIANCE_PACKS = ['NIST.800.53.R5', 'HIPAA.Security'] as const;

/**
 * Acknowledges, with one reason, a rule of both compliance packs (`rule` without the pack's
 * prefix, for example `LambdaDLQ`) on `scope` and what it contains.
 */
export function acknowledgeCompliance(scope: IConstruct, rule: string, reason: string): void {
  for (const pack of COMPLIANCE_PACKS) Validations.of(scope).acknowledge({ id: `${pack}-${rule}`, reason });
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
  const cdkOwned = `CDK-managed provider that ${purpose}`;
  acknowledgeCompliance(provider, 'LambdaDLQ', `${cdkOwned}: CloudFormation invokes it synchronously, and a failure fails the deployment, which reports and rolls back.`);
  acknowledgeCompliance(provider, 'LambdaConcurrency', `${cdkOwned}: it runs only while a deployment creates, updates or deletes its resources, one request each.`);
  acknowledgeCompliance(
    provider,
    'LambdaInsideVPC',
    `${cdkOwned}: it calls AWS APIs only (never a resource inside the VPC), and its code and placement come with the CDK release.`,
  );
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

/** The packs' rules, by pack name, each with how many of its findings are acknowledged. */
export type AcknowledgedCounts = Record<string, Record<string, number>>;

/**
 * Counts, per pack and rule, the findings that fire on the synthesized `app` and are acknowledged
 * (an unacknowledged finding fails synth, so after a synth every finding is one of these). For the
 * README's security section, which a test keeps equal to this.
 */
export function acknowledgedFindings(app: IConstruct): AcknowledgedCounts {
  applyAllowances(app);
  const counts: AcknowledgedCounts = {};
  for (const pack of platformNagPacks(app)) {
    const packName = pack.readPackName;
    const byRule: Record<string, number> = (counts[packName] = {});
    const counting = pack as unknown as {
      applyRule: (params: IApplyRule) => void;
      isAcknowledged: (node: CfnResource, ruleId: string) => boolean;
    };
    const applyRule = counting.applyRule.bind(pack);
    counting.applyRule = (params: IApplyRule) => {
      const rule = `${packName}-${params.ruleSuffixOverride ?? params.rule.name}`;
      let result: ReturnType<IApplyRule['rule']>;
      try {
        result = params.rule(params.node);
      } catch {
        result = NagRuleCompliance.NON_COMPLIANT;
      }
      const ids = result === NagRuleCompliance.NON_COMPLIANT ? [rule] : Array.isArray(result) ? result.map((f) => `${rule}[${f}]`) : [];
      for (const id of ids) if (counting.isAcknowledged(params.node, id)) byRule[rule] = (byRule[rule] ?? 0) + 1;
      applyRule(params);
    };
    pack.validateScope(app);
  }
  return counts;
}
