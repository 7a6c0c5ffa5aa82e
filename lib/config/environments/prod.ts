import { EnvironmentConfig } from '../schema';

/** Production: three AZs, everything retained, longest retention. */
export const prod: EnvironmentConfig = {
  envName: 'prod',
  resourcePrefix: 'tlh-prod',
  region: 'eu-west-1',
  tags: { owner: 'data-platform-team', costCenter: 'cc-telemetry-prod' },
  removalPolicy: 'retain',
  network: {
    vpcCidr: '10.30.0.0/19',
    availabilityZoneCount: 3,
    natGateways: 3,
    flowLogRetentionDays: 365,
  },
  security: {
    // prod has an account of its own, so it owns that account's DMS roles.
    createDmsServiceRoles: true,
    trailRetentionDays: 2557, // 7 years, the audit retention of the fleet operator
    keyPendingWindowDays: 30,
  },
  lifecycle: {
    rawToInfrequentAccessDays: 30,
    rawToGlacierDays: 90,
    noncurrentVersionExpirationDays: 90,
    abortIncompleteMultipartUploadDays: 7,
    athenaResultsExpirationDays: 30,
    accessLogExpirationDays: 365,
  },
  catalog: { rawProjectionStartDate: '2025-01-01' },
  athena: { bytesScannedCutoffPerQuery: 100_000_000_000 }, // 100 GB
  monitoring: {
    alertEmails: ['data-platform-oncall@example.com'],
    athenaFailedQueriesPerHour: 5,
  },
};
