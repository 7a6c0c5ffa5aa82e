import { EnvironmentConfig } from '../schema';

/** Staging: prod's shape at lower capacity; data retained, shares the non-prod account with dev. */
export const staging: EnvironmentConfig = {
  envName: 'staging',
  resourcePrefix: 'tlh-stg',
  region: 'eu-west-1',
  tags: { owner: 'data-platform-team', costCenter: 'cc-telemetry-staging' },
  removalPolicy: 'retain',
  network: {
    vpcCidr: '10.20.0.0/20',
    availabilityZoneCount: 2,
    natGateways: 1,
    flowLogRetentionDays: 90,
  },
  security: {
    // dev creates the account-level DMS roles in the shared non-production account.
    createDmsServiceRoles: false,
    trailRetentionDays: 365,
    keyPendingWindowDays: 30,
  },
  lifecycle: {
    rawToInfrequentAccessDays: 30,
    rawToGlacierDays: 90,
    noncurrentVersionExpirationDays: 30,
    abortIncompleteMultipartUploadDays: 7,
    athenaResultsExpirationDays: 30,
    accessLogExpirationDays: 90,
  },
  catalog: { rawProjectionStartDate: '2026-01-01' },
  athena: { bytesScannedCutoffPerQuery: 10_000_000_000 }, // 10 GB
  monitoring: {
    alertEmails: ['data-platform-staging@example.com'],
    athenaFailedQueriesPerHour: 10,
  },
};
