import { RemovalPolicy } from 'aws-cdk-lib';
import { EnvironmentConfig } from '../config';

/**
 * The one place that decides whether stateful resources (buckets, keys, log groups, tables) are
 * destroyed with their stack. Data is RETAINed unless the environment's configuration explicitly
 * allows DESTROY, and prod never may: the schema rejects it, and this guard refuses it again so
 * that a construct used outside the validated path cannot destroy prod data either.
 */
export function dataRemovalPolicy(config: Pick<EnvironmentConfig, 'envName' | 'removalPolicy'>): RemovalPolicy {
  if (config.removalPolicy !== 'destroy') return RemovalPolicy.RETAIN;
  if (config.envName === 'prod') {
    throw new Error("Refusing RemovalPolicy.DESTROY in environment 'prod': prod data must outlive its stacks");
  }
  return RemovalPolicy.DESTROY;
}
