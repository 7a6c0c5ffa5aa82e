import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config';

/**
 * The context key under which every platform stack records its environment's name
 * (lib/stacks/platform-stack.ts), so that a construct can tell where it is being built.
 */
export const ENVIRONMENT_CONTEXT = 'telemetry-lakehouse:environment';

/** The one environment whose data may be destroyed with its stacks (DESIGN.md: dev is disposable). */
const DISPOSABLE_ENVIRONMENT = 'dev';

/**
 * The one place that decides whether stateful resources (buckets, keys, log groups, tables) are
 * destroyed with their stack: RETAIN, unless the configuration asks for DESTROY in dev. The
 * schema refuses DESTROY elsewhere, and this refuses it again for a configuration built past the
 * schema.
 */
export function dataRemovalPolicy(config: Pick<EnvironmentConfig, 'envName' | 'removalPolicy'>): RemovalPolicy {
  if (config.removalPolicy !== 'destroy') return RemovalPolicy.RETAIN;
  if (config.envName !== DISPOSABLE_ENVIRONMENT) {
    throw new Error(`Refusing RemovalPolicy.DESTROY in environment '${config.envName}': only ${DISPOSABLE_ENVIRONMENT} data may be destroyed with its stacks`);
  }
  return RemovalPolicy.DESTROY;
}

/**
 * The guard every construct with stateful resources applies to its `removalPolicy` prop, so
 * that it holds wherever the construct is used, not only through `dataRemovalPolicy`: DESTROY
 * only inside a stack whose environment (context `ENVIRONMENT_CONTEXT`) is dev. Any other
 * policy passes. Returns the policy, to be used as it is.
 */
export function guardedRemovalPolicy(scope: Construct, policy: RemovalPolicy): RemovalPolicy {
  if (policy !== RemovalPolicy.DESTROY) return policy;
  const environment = scope.node.tryGetContext(ENVIRONMENT_CONTEXT) as string | undefined;
  if (environment !== DISPOSABLE_ENVIRONMENT) {
    throw new Error(
      `${scope.node.path}: refusing RemovalPolicy.DESTROY in environment '${environment ?? '(none)'}': ` +
        `only ${DISPOSABLE_ENVIRONMENT} data may be destroyed with its stacks (context ${ENVIRONMENT_CONTEXT})`,
    );
  }
  return policy;
}

/**
 * Base of every construct that owns stateful resources: its `removalPolicy` prop passes the
 * guard before anything is built, so a construct used outside the platform's stacks cannot
 * destroy staging or prod data either.
 */
export abstract class StatefulConstruct extends Construct {
  protected constructor(scope: Construct, id: string, props: { readonly removalPolicy: RemovalPolicy }) {
    super(scope, id);
    guardedRemovalPolicy(this, props.removalPolicy);
  }
}
