import { EnvironmentConfigInput } from '../schema';
import { dmsSources } from './common';

/** Staging: prod's shape at lower capacity; data retained, shares the non-prod account with dev. */
export const staging: EnvironmentConfigInput = {
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
  streaming: {
    expectedLoad: {
      // 300 vehicles publishing one 600-byte JSON message per second each
      telemetry: { vehicles: 300, messagesPerVehiclePerSecond: 1, bytesPerMessage: 600 },
      sensorReadings: { recordsPerSecond: 200, bytesPerRecord: 250 },
      deviceUpdates: { recordsPerSecond: 5, bytesPerRecord: 300 },
    },
    capacityMode: 'provisioned',
    headroom: 1.5,
    retentionHours: 48,
    firehose: { bufferIntervalSeconds: 300, bufferSizeMiB: 64 },
    sensorPull: {
      schedule: 'rate(5 minutes)',
      apiBaseUrl: 'https://sensors.fleet-partner.example',
      windowMinutes: 10,
      requestTimeoutMs: 5000,
      maxAttempts: 4,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 5_000,
      putRecords: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 },
      timeoutSeconds: 240,
      memoryMiB: 1024,
    },
    flink: {
      parallelism: 2,
      parallelismPerKpu: 1,
      checkpointIntervalSeconds: 60,
      stateTtlHours: 48,
      readingsMaxDelaySeconds: 900, // the 10-minute pull window plus 5 minutes of API lateness
      autoScaling: false,
    },
  },
  processing: {
    schedule: 'cron(30 1 * * ? *)', // 01:30 UTC, after the last hourly weather pull of the day
    workerType: 'G.1X',
    maxWorkers: 8,
    jobTimeoutMinutes: 120,
    snapshotRetentionDays: 7,
    latenessHorizonDays: 7, // as dev
  },
  catalog: { rawProjectionStartDate: '2026-01-01' },
  ingestion: {
    dms: {
      capacity: { mode: 'serverless', minCapacityUnits: 2, maxCapacityUnits: 8, multiAz: false },
      cdcMaxBatchIntervalSeconds: 120,
      cdcMinFileSizeKb: 32000,
      sources: dmsSources('staging'),
    },
    weather: {
      schedule: 'rate(1 hour)',
      apiBaseUrl: 'https://api.open-meteo.com',
      cities: [
        { id: 'madrid', name: 'Madrid', latitude: 40.4168, longitude: -3.7038 },
        { id: 'barcelona', name: 'Barcelona', latitude: 41.3874, longitude: 2.1686 },
        { id: 'valencia', name: 'Valencia', latitude: 39.4699, longitude: -0.3763 },
      ],
      requestTimeoutMs: 5000,
      maxAttempts: 4,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 5_000,
      concurrency: 4,
    },
  },
  athena: { bytesScannedCutoffPerQuery: 10_000_000_000 }, // 10 GB
  registry: { backupRetentionDays: 14, deletionProtection: true }, // two weeks, the release cycle; protected like prod
  backup: { enabled: true, retentionDays: 14 }, // the release cycle, as the registry's own backups
  monitoring: {
    alertEmails: ['data-platform-staging@example.com'],
    logRetentionDays: 90,
    firehoseFreshnessSeconds: 900,
    dmsCdcLatencySeconds: 900,
    athenaFailedQueriesPerHour: 10,
  },
};
