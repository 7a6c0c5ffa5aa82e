import { EnvironmentConfigInput } from '../schema';
import { dmsSources } from './common';

/** Production: three AZs, everything retained, longest retention. */
export const prod: EnvironmentConfigInput = {
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
    trailObjectLock: true,
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
  streaming: {
    expectedLoad: {
      // 3000 vehicles publishing one 600-byte JSON message per second each
      telemetry: { vehicles: 3000, messagesPerVehiclePerSecond: 1, bytesPerMessage: 600 },
      sensorReadings: { recordsPerSecond: 2000, bytesPerRecord: 250 },
      deviceUpdates: { recordsPerSecond: 20, bytesPerRecord: 300 },
    },
    capacityMode: 'provisioned',
    headroom: 1.5,
    retentionHours: 168,
    firehose: { bufferIntervalSeconds: 300, bufferSizeMiB: 128 },
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
      parallelism: 4,
      parallelismPerKpu: 1,
      checkpointIntervalSeconds: 60,
      stateTtlHours: 168,
      readingsMaxDelaySeconds: 900, // the 10-minute pull window plus 5 minutes of API lateness
      autoScaling: true,
    },
  },
  processing: {
    schedule: 'cron(30 1 * * ? *)', // 01:30 UTC, after the last hourly weather pull of the day
    workerType: 'G.2X',
    maxWorkers: 20,
    jobTimeoutMinutes: 120,
    snapshotRetentionDays: 14,
    latenessHorizonDays: 14, // two weeks: a vehicle offline over a long holiday still lands within it
  },
  catalog: { rawProjectionStartDate: '2025-01-01' },
  ingestion: {
    dms: {
      capacity: { mode: 'serverless', minCapacityUnits: 4, maxCapacityUnits: 32, multiAz: true },
      cdcMaxBatchIntervalSeconds: 300,
      cdcMinFileSizeKb: 64000,
      sources: dmsSources('prod'),
    },
    weather: {
      schedule: 'rate(1 hour)',
      apiBaseUrl: 'https://api.open-meteo.com',
      cities: [
        { id: 'madrid', name: 'Madrid', latitude: 40.4168, longitude: -3.7038 },
        { id: 'barcelona', name: 'Barcelona', latitude: 41.3874, longitude: 2.1686 },
        { id: 'valencia', name: 'Valencia', latitude: 39.4699, longitude: -0.3763 },
        { id: 'seville', name: 'Seville', latitude: 37.3891, longitude: -5.9845 },
        { id: 'zaragoza', name: 'Zaragoza', latitude: 41.6488, longitude: -0.8891 },
        { id: 'bilbao', name: 'Bilbao', latitude: 43.263, longitude: -2.935 },
      ],
      requestTimeoutMs: 5000,
      maxAttempts: 4,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 5_000,
      concurrency: 4,
    },
  },
  athena: { bytesScannedCutoffPerQuery: 100_000_000_000 }, // 100 GB
  // The KPI API faces the custom application's users: a WAF in front of it (the other settings are the defaults).
  serving: { api: { waf: { enabled: true } } },
  registry: { backupRetentionDays: 35, deletionProtection: true, readers: 1 }, // the longest Aurora keeps; a reader in another zone to fail over to
  backup: { enabled: true, retentionDays: 365 }, // a year of daily recovery points of the data of record
  monitoring: {
    alertEmails: ['data-platform-oncall@example.com'],
    logRetentionDays: 365,
    firehoseFreshnessSeconds: 600,
    dmsCdcLatencySeconds: 600,
    athenaFailedQueriesPerHour: 5,
  },
};
