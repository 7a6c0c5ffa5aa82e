import { EnvironmentConfigInput } from '../schema';
import { dmsSources } from './common';

/** Development: smallest footprint, data may be destroyed with the stacks. */
export const dev: EnvironmentConfigInput = {
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
  streaming: {
    expectedLoad: {
      // 20 vehicles publishing one 600-byte JSON message per second each
      telemetry: { vehicles: 20, messagesPerVehiclePerSecond: 1, bytesPerMessage: 600 },
      sensorReadings: { recordsPerSecond: 20, bytesPerRecord: 250 },
      deviceUpdates: { recordsPerSecond: 1, bytesPerRecord: 300 },
    },
    capacityMode: 'on-demand',
    headroom: 1.5,
    retentionHours: 24,
    firehose: { bufferIntervalSeconds: 60, bufferSizeMiB: 16 },
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
      parallelism: 1,
      parallelismPerKpu: 1,
      checkpointIntervalSeconds: 60,
      stateTtlHours: 24,
      readingsMaxDelaySeconds: 900, // the 10-minute pull window plus 5 minutes of API lateness
      autoScaling: false,
    },
  },
  processing: {
    schedule: 'cron(30 1 * * ? *)', // 01:30 UTC, after the last hourly weather pull of the day
    workerType: 'G.1X',
    maxWorkers: 4,
    jobTimeoutMinutes: 120,
    snapshotRetentionDays: 3,
    latenessHorizonDays: 7, // a week: late uploads and next-day CDC corrections
  },
  catalog: { rawProjectionStartDate: '2026-01-01' },
  ingestion: {
    dms: {
      capacity: { mode: 'serverless', minCapacityUnits: 1, maxCapacityUnits: 4, multiAz: false },
      cdcMaxBatchIntervalSeconds: 60,
      cdcMinFileSizeKb: 8000,
      sources: dmsSources('dev'),
    },
    weather: {
      schedule: 'rate(1 hour)',
      apiBaseUrl: 'https://api.open-meteo.com',
      cities: [
        { id: 'madrid', name: 'Madrid', latitude: 40.4168, longitude: -3.7038 },
        { id: 'barcelona', name: 'Barcelona', latitude: 41.3874, longitude: 2.1686 },
      ],
      requestTimeoutMs: 5000,
      maxAttempts: 4,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 5_000,
      concurrency: 4,
    },
    // One partner fleet's telematics export over SFTP, which the local run exercises. Its networks
    // reach the VPC over the site-to-site VPN; the key's private half is the partner's.
    partnerFiles: {
      enabled: true,
      allowedCidrs: ['192.168.40.0/24'],
      partners: [
        {
          name: 'acme-haulage',
          dataset: 'telematics',
          sshPublicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMacE1I79VdZsLk4BWuQsELMzDXaBvXdRs2Wr6dVoi+p acme-haulage dev'],
        },
      ],
    },
    // One partner's trucks post their telemetry over HTTPS, which the local run exercises.
    httpsApi: { enabled: true, partners: [{ name: 'globex-logistics', rateLimit: 5, burstLimit: 10, dailyQuota: 100_000 }] },
    // A fleet whose trucks already publish to Kafka: an MSK Serverless cluster, one topic of telematics.
    kafka: { enabled: true, cluster: { kind: 'serverless' }, topics: [{ topic: 'fleet.telematics', dataset: 'telematics' }] },
  },
  athena: { bytesScannedCutoffPerQuery: 1_000_000_000 }, // 1 GB: dev holds sample data only
  registry: { backupRetentionDays: 7, deletionProtection: false }, // a week of point-in-time recovery; dev can be torn down
  backup: { enabled: false }, // dev holds generated samples, recreated by the generator and the local run
  monitoring: {
    alertEmails: ['data-platform-dev@example.com'],
    logRetentionDays: 14,
    firehoseFreshnessSeconds: 900,
    dmsCdcLatencySeconds: 1800,
    athenaFailedQueriesPerHour: 20,
  },
};
