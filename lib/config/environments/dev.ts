import { EnvironmentConfig } from '../schema';

/** Development: smallest footprint, data may be destroyed with the stacks. */
export const dev: EnvironmentConfig = {
  envName: 'dev',
  resourcePrefix: 'tlh-dev',
  region: 'eu-west-1',
  tags: { owner: 'data-platform-team', costCenter: 'cc-telemetry-dev' },
  removalPolicy: 'destroy',
  network: {
    vpcCidr: '10.10.0.0/20',
    availabilityZoneCount: 2,
    natGateways: 1,
    flowLogRetentionDays: 14,
  },
  security: {
    // dev is the environment that owns the account-level DMS roles in the shared
    // non-production account; staging expects them.
    createDmsServiceRoles: true,
    trailRetentionDays: 90,
    keyPendingWindowDays: 7,
  },
  lifecycle: {
    rawToInfrequentAccessDays: 30,
    rawToGlacierDays: 90,
    noncurrentVersionExpirationDays: 7,
    abortIncompleteMultipartUploadDays: 7,
    athenaResultsExpirationDays: 7,
    accessLogExpirationDays: 30,
  },
  catalog: { rawProjectionStartDate: '2026-01-01' },
  athena: { bytesScannedCutoffPerQuery: 1_000_000_000 }, // 1 GB: dev holds sample data only
  monitoring: {
    alertEmails: ['data-platform-dev@example.com'],
    athenaFailedQueriesPerHour: 20,
  },
};
