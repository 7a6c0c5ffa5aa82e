import { Fn, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config';
import { PlatformNames } from '../config/naming';
import { dataRemovalPolicy, ENVIRONMENT_CONTEXT } from '../constructs/removal';

export interface PlatformStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * Base of every platform stack: the environment's account and region, its configuration, the
 * shared naming, and Availability Zones counted by configuration instead of a context lookup,
 * so synth makes no AWS call and works offline.
 */
export abstract class PlatformStack extends Stack {
  readonly config: EnvironmentConfig;
  readonly names: PlatformNames;
  /** What happens to this environment's data when a stack is deleted (RETAIN unless dev allows DESTROY). */
  readonly removalPolicy: RemovalPolicy;

  protected constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, {
      ...props,
      env: { account: props.config.account, region: props.config.region },
      terminationProtection: props.config.envName === 'prod',
    });
    // Before any child: every construct's removal guard reads it (lib/constructs/removal.ts).
    this.node.setContext(ENVIRONMENT_CONTEXT, props.config.envName);
    this.config = props.config;
    this.names = new PlatformNames(props.config, this);
    this.removalPolicy = dataRemovalPolicy(props.config);
  }

  /** The region's first N zones, resolved at deploy time; N comes from configuration. */
  override get availabilityZones(): string[] {
    const zones = Fn.getAzs();
    return Array.from({ length: this.config.network.availabilityZoneCount }, (_, i) => Fn.select(i, zones));
  }
}
