import { Stack } from 'aws-cdk-lib';
import { EnvironmentConfig } from './schema';

/** The lake's storage zones, in the order data flows through them. */
export const LAKE_ZONES = ['raw', 'processed', 'aggregated'] as const;
export type LakeZone = (typeof LAKE_ZONES)[number];

/**
 * Physical names that more than one stack must agree on, computed in one place.
 *
 * The lake buckets carry deterministic names because the security stack's CloudTrail selects
 * them for data events while the lakehouse stack (which depends on the security stack's keys)
 * creates them: a reference would be a dependency cycle, a name is not. Account and region in
 * the name keep it globally unique; the prefix carries the environment.
 */
export class PlatformNames {
  constructor(
    private readonly config: EnvironmentConfig,
    private readonly stack: Stack,
  ) {}

  private bucket(purpose: string): string {
    return `${this.config.resourcePrefix}-${purpose}-${this.stack.account}-${this.stack.region}`;
  }

  /** Bucket of a lake zone: raw, processed or aggregated. */
  zoneBucket(zone: LakeZone): string {
    return this.bucket(zone);
  }

  /**
   * The partner file drops' landing bucket (config ingestion.partnerFiles): named, because the
   * network stack's S3 gateway endpoint must admit it for the check that runs in the VPC.
   */
  partnerLandingBucket(): string {
    return this.bucket('partner-landing');
  }

  /** Glue database of a lake zone; Athena accepts only lower case and underscores. */
  glueDatabase(zone: LakeZone): string {
    return glueDatabaseName(this.config, zone);
  }

  /** The Athena workgroup analysts, the kpi command and the KPI API run their queries in. */
  analyticsWorkgroup(): string {
    return analyticsWorkgroupName(this.config);
  }

  /** Name of a platform resource that is not a bucket (workgroup, topic, dashboard, ...). */
  resource(purpose: string): string {
    return `${this.config.resourcePrefix}-${purpose}`;
  }
}

/** Names that need no stack (no account or region in them), for tools that run outside CDK. */
export function glueDatabaseName(config: Pick<EnvironmentConfig, 'resourcePrefix'>, zone: LakeZone): string {
  return `${config.resourcePrefix.replace(/-/g, '_')}_${zone}`;
}

export function analyticsWorkgroupName(config: Pick<EnvironmentConfig, 'resourcePrefix'>): string {
  return `${config.resourcePrefix}-analytics`;
}

/** The device registry's cluster: the command (tools/registry) finds it by this name. */
export function registryClusterIdentifier(config: Pick<EnvironmentConfig, 'resourcePrefix'>): string {
  return `${config.resourcePrefix}-registry`;
}

/** The secret of the registry's fleet login (V005), which `npm run registry` signs in with. */
export function registryFleetSecretName(config: Pick<EnvironmentConfig, 'resourcePrefix'>): string {
  return `${config.resourcePrefix}-registry-fleet`;
}
