import { z } from 'zod';

/**
 * The schema every environment's configuration must satisfy. It is checked at synth, before
 * any construct is built, so a bad value fails fast with the environment and the field named
 * (see `loadConfig`). Every per-environment difference of the platform lives here and
 * nowhere else: stacks and constructs read these values, they do not branch on the name.
 */

export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

const positiveInt = z.number().int().positive();

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const logRetentionDays = z
  .number()
  .int()
  .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
    message: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
  });


const lifecycleSchema = z
  .object({
    /** Days after which current raw objects move to S3 Standard-IA. */
    rawToInfrequentAccessDays: positiveInt,
    /** Days after which current raw objects move to Glacier Flexible Retrieval. */
    rawToGlacierDays: positiveInt,
    /** Days after which noncurrent versions (overwritten or deleted objects) expire, every zone. */
    noncurrentVersionExpirationDays: positiveInt,
    /** Days after which an incomplete multipart upload is aborted, every bucket. */
    abortIncompleteMultipartUploadDays: positiveInt,
    /** Days Athena query results are kept before they expire. */
    athenaResultsExpirationDays: positiveInt,
    /** Days server access logs and the audit trail are kept. */
    accessLogExpirationDays: positiveInt,
  })
  .strict()
  .refine((l) => l.rawToInfrequentAccessDays >= 30, {
    // S3 rejects a transition to STANDARD_IA earlier than 30 days after creation.
    message: 'S3 allows a transition to Standard-IA no earlier than 30 days',
    path: ['rawToInfrequentAccessDays'],
  })
  .refine((l) => l.rawToGlacierDays >= l.rawToInfrequentAccessDays + 30, {
    // S3 requires objects to stay 30 days in Standard-IA before a further transition.
    message: 'must be at least 30 days after rawToInfrequentAccessDays (S3 minimum stay in Standard-IA)',
    path: ['rawToGlacierDays'],
  });

const networkSchema = z
  .object({
    /** IPv4 CIDR of the VPC. */
    vpcCidr: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-4])$/, {
      message: 'must be an IPv4 CIDR with a prefix length from /16 to /24',
    }),
    /**
     * How many Availability Zones the VPC spans: two in dev and staging, three in prod. The zones
     * are the region's first N, resolved by CloudFormation (Fn::GetAZs) at deploy time, so synth
     * needs no AWS call and no zone name is hard-coded.
     */
    availabilityZoneCount: z.number().int().min(2).max(3),
    /**
     * NAT gateways for the private-with-egress subnets: one per AZ in prod for AZ independence,
     * one in total elsewhere to save cost. Only the DMS source connection and the API-pull
     * Lambdas need the internet; every AWS service is reached through VPC endpoints.
     */
    natGateways: positiveInt,
    flowLogRetentionDays: logRetentionDays,
  })
  .strict()
  .refine((n) => n.natGateways <= n.availabilityZoneCount, {
    message: 'cannot exceed the number of availability zones',
    path: ['natGateways'],
  });

const securitySchema = z
  .object({
    /**
     * dms-vpc-role and dms-cloudwatch-logs-role have fixed names, one pair per account. Exactly
     * one environment in an account creates them; the others expect them to exist.
     */
    createDmsServiceRoles: z.boolean(),
    /** Days CloudTrail log files are kept in the audit bucket. */
    trailRetentionDays: positiveInt,
    /**
     * Object Lock in governance mode on the audit bucket, each log file locked for the trail's
     * retention: a deletion then needs the governance-bypass permission. Once on, S3 cannot turn it off.
     */
    trailObjectLock: z.boolean().default(false),
    /** Days a KMS key waits between scheduling its deletion and being deleted (7 to 30). */
    keyPendingWindowDays: z.number().int().min(7).max(30),
    /**
     * The IAM roles that may assume the analyst role (an IAM Identity Center permission set's role,
     * a team's role). None by default: then the account's Identity Center permission-set roles may.
     */
    analystPrincipalArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { message: 'must be an IAM role ARN' }))
      .default([]),
  })
  .strict();

const backupSchema = z
  .object({
    /**
     * Back the data of record (the raw zone, the device registry, the live alerts) up with AWS
     * Backup into a vault of the environment's own. Off only where the data is generated samples.
     */
    enabled: z.boolean(),
    /** Days each daily recovery point is kept. */
    retentionDays: z.number().int().min(7).max(36_500).default(35),
    /** When the daily backup starts (an EventBridge cron expression, UTC). */
    schedule: z.string().regex(/^cron\(.+\)$/, { message: 'must be a cron(...) expression' }).default('cron(0 3 * * ? *)'),
    /**
     * The vault's lock. `governance`: recovery points cannot be deleted before their retention
     * ends, except by a principal allowed to change the lock. `compliance`: by nobody, once 3 days
     * of grace have passed; the vault can then never be deleted while it holds a recovery point.
     */
    vaultLock: z.enum(['none', 'governance', 'compliance']).default('governance'),
  })
  .strict();

const athenaSchema = z
  .object({
    /**
     * Per-query data-scanned cutoff. Athena's minimum is 10 MB; a query over the cutoff is
     * cancelled, which bounds the cost of one mistaken full scan.
     */
    bytesScannedCutoffPerQuery: z.number().int().min(10_000_000),
  })
  .strict();

/**
 * The ways people read the KPIs (DESIGN.md, serving): the `kpi` command and the KPI API on Athena,
 * and QuickSight where an account has it. Every field has a default, so an environment file names
 * only what differs (`.prefault` parses the default, so nested defaults apply too).
 */
const servingSchema = z
  .object({
    /** Athena answers a repeated KPI request (same SQL and values) from a result younger than this; 0 turns reuse off. */
    resultReuseMaxAgeMinutes: z.number().int().min(0).max(10_080).default(60),
    /** The longest date range one request may ask for: a year, so that a mistaken range stays far below the scan cutoff. */
    maxRangeDays: z.number().int().min(1).max(3660).default(366),
    api: z
      .object({
        /**
         * How long a request waits for its query before answering 202 with the query id:
         * API Gateway ends an integration at 29 s, so the function needs this plus a margin.
         */
        syncWaitSeconds: z.number().int().min(1).max(25).default(20),
        /** Rows per page of `GET /queries/{id}` (Athena's GetQueryResults returns at most 1,000). */
        pageSize: z.number().int().min(1).max(1000).default(1000),
        memoryMiB: z.number().int().min(128).max(10_240).default(512),
        /**
         * The function's reserved concurrency: the most KPI queries the API runs on Athena at once.
         * Athena's active-query quota is shared with the analysts and the daily jobs; a caller
         * beyond this gets 429 (throttled) instead of taking their share.
         */
        reservedConcurrency: z.number().int().min(1).max(100).default(10),
        /** Steady requests per second and burst, for the whole stage (API Gateway throttling). */
        throttle: z
          .object({ rateLimit: z.number().positive().default(10), burstLimit: z.number().int().positive().default(20) })
          .strict()
          .prefault({}),
        /**
         * Requests per day per client, through a usage plan: clients then send an API key as well
         * as their signature. Absent, there is no quota (throttling still applies).
         */
        dailyQuota: z.number().int().positive().optional(),
        /** A Cognito user pool authorises the custom application's users instead of IAM. */
        cognito: z.object({ enabled: z.boolean().default(false) }).strict().prefault({}),
        /** A WAF web ACL on the stage: AWS managed common rules and a rate limit per client IP. */
        waf: z
          .object({ enabled: z.boolean().default(false), requestsPerFiveMinutesPerIp: z.number().int().min(10).default(1000) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const quicksightPrincipal = z.string().regex(/^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:\d{12}:(user|group)\/[A-Za-z0-9_.@+=,-]+\/[A-Za-z0-9_.@+=,/-]+$/, {
  message: 'must be a QuickSight user or group ARN (arn:aws:quicksight:<region>:<account>:user|group/<namespace>/<name>)',
});

/**
 * BI for the KPIs. QuickSight needs an account subscription, which no stack can create, so it is
 * off unless an environment turns it on and names who authors and who reads the dashboard.
 */
const biSchema = z
  .object({
    quicksight: z
      .object({
        enabled: z.boolean().default(false),
        /** Users or groups who own the data source, the dataset and the dashboard. */
        authors: z.array(quicksightPrincipal).default([]),
        /** Users or groups who may open the dashboard. */
        readers: z.array(quicksightPrincipal).default([]),
        /** SPICE (an in-memory copy refreshed daily: fast, scans Athena once a day) or DIRECT_QUERY (every view queries Athena). */
        importMode: z.enum(['SPICE', 'DIRECT_QUERY']).default('SPICE'),
        /** When SPICE refreshes, UTC, after the daily pipeline (processing.schedule) has written the KPIs. */
        refreshTimeUtc: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be HH:mm' }).default('06:00'),
      })
      .strict()
      .prefault({})
      .refine((q) => !q.enabled || q.authors.length > 0, { message: 'a dashboard needs at least one author (bi.quicksight.authors)', path: ['authors'] }),
  })
  .strict();

const severity = z.enum(['critical', 'warning']);

/**
 * Live fleet alerts on the telemetry stream (issue 14; lambda/telemetry-alerts/rules.ts). Each rule
 * opens after `consecutive` readings past its open threshold and closes after as many past its
 * close threshold, a different one (hysteresis), so a value hovering at the limit does not flap.
 * Every default carries its reason; an environment names only what differs.
 */
const alertsSchema = z
  .object({
    engineOverheat: z
      .object({
        /** Coolant above 110 °C for three readings is boiling under pressure: stop the vehicle. */
        openAboveC: z.number().min(60).max(150).default(110),
        /** Back below 100 °C, the normal top of the operating range. */
        closeBelowC: z.number().min(40).max(150).default(100),
        consecutive: z.number().int().min(1).max(100).default(3),
        severity: severity.default('critical'),
      })
      .strict()
      .prefault({})
      .refine((r) => r.closeBelowC < r.openAboveC, { message: 'closeBelowC must be below openAboveC (hysteresis)', path: ['closeBelowC'] }),
    speeding: z
      .object({
        /** Above the highest motorway limit for trucks in the fleet's countries, with margin. */
        openAboveKmh: z.number().min(30).max(250).default(100),
        closeBelowKmh: z.number().min(10).max(250).default(90),
        consecutive: z.number().int().min(1).max(100).default(3),
        severity: severity.default('warning'),
      })
      .strict()
      .prefault({})
      .refine((r) => r.closeBelowKmh < r.openAboveKmh, { message: 'closeBelowKmh must be below openAboveKmh (hysteresis)', path: ['closeBelowKmh'] }),
    fuelLoss: z
      .object({
        /** A laden truck burns 25 to 45 l/100 km; over 80 between two readings is fuel leaving the tank, not the engine. */
        litresPer100kmAbove: z.number().positive().default(80),
        /** Below this distance between two readings the rate is noise; the standing rule applies instead. */
        minDistanceKm: z.number().positive().default(0.5),
        /** Fuel used while (nearly) standing still between two readings: idling burns about 0.05 l a minute. */
        standingLitresAbove: z.number().positive().default(1),
        /** Normal intervals in a row that close it. */
        consecutive: z.number().int().min(1).max(100).default(3),
        severity: severity.default('critical'),
      })
      .strict()
      .prefault({}),
    sensorStuck: z
      .object({
        /**
         * An engine temperature identical to the decimal for 15 minutes is a frozen sensor: a
         * running engine's coolant moves by tenths of a degree within minutes. Judged on time,
         * not a count, so the rule means the same at every reporting rate.
         */
        identicalForMinutes: z.number().int().min(1).max(1440).default(15),
        /** And at least this many readings: a vehicle that reports rarely is not judged on two. */
        minReadings: z.number().int().min(3).max(10_000).default(10),
        severity: severity.default('warning'),
      })
      .strict()
      .prefault({}),
    vehicleSilent: z
      .object({
        /**
         * No reading for 15 minutes from a vehicle last seen moving: longer than a tunnel or a
         * dead zone on the fleet's routes, soon enough to reach the driver.
         */
        silentAfterMinutes: z.number().int().min(5).max(1440).default(15),
        /** Last seen above this speed counts as moving; a vehicle parked with its engine off stops sending by design. */
        movingAboveKmh: z.number().min(0).max(50).default(5),
        /** How often the scheduled check looks: an alert is at most this late on top of the threshold. */
        checkEveryMinutes: z.number().int().min(1).max(60).default(5),
        /** Losing a moving truck's signal is usually coverage, sometimes theft or a crash: someone looks, nobody is paged. */
        severity: severity.default('warning'),
      })
      .strict()
      .prefault({}),
    /** Days a closed alert stays in the table for the application before its TTL removes it. */
    closedRetentionDays: z.number().int().min(1).max(3650).default(90),
    /** The function's event source mapping on the telemetry stream. */
    stream: z
      .object({
        /** Readings per invocation: enough to amortise the state reads, few enough to retry cheaply. */
        batchSize: z.number().int().min(1).max(10_000).default(500),
        /** How long Lambda gathers a batch: an alert is at most this late on top of the IoT rule. */
        batchingWindowSeconds: z.number().int().min(0).max(300).default(5),
        /** Concurrent batches per shard; a vehicle's records stay in order (one partition key). */
        parallelizationFactor: z.number().int().min(1).max(10).default(2),
        /** Retries of a failed batch before it goes to the on-failure queue. */
        retryAttempts: z.number().int().min(0).max(10_000).default(10),
        /** A reading older than this is not alerted on (it goes to the on-failure queue): a live alert about an old reading misleads. */
        maxRecordAgeSeconds: z.number().int().min(60).max(604_800).default(3600),
        /**
         * The tumbling window in which Lambda carries each vehicle's rule state between batches of
         * a shard: the state is read and written once a window, not once a batch (alerts are still
         * written as they happen). 60 s cuts the state writes of a 1 Hz vehicle sixtyfold.
         */
        tumblingWindowSeconds: z.number().int().min(0).max(900).default(60),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((a) => a.stream.tumblingWindowSeconds * 4 <= a.vehicleSilent.silentAfterMinutes * 60, {
    message: 'stream.tumblingWindowSeconds must be at most a quarter of vehicleSilent.silentAfterMinutes: the saved last-seen times lag by a window',
    path: ['stream', 'tumblingWindowSeconds'],
  });

/** Redshift Serverless capacity: 8 to 1024 RPU in steps of 8 (the service refuses other values). */
const rpu = z.number().int().min(8).max(1024).refine((n) => n % 8 === 0, { message: 'must be a multiple of 8 RPU' });

/**
 * The warehouse (issue 12): Redshift Serverless with the star schema, loaded daily from the lake.
 * On in every environment; an environment names only what differs.
 */
const warehouseSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The database of the staging, core and mart schemas. */
    databaseName: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { message: 'must be a lower-case Redshift identifier' }).default('telemetry'),
    /** The administrator, whose password Secrets Manager generates and keeps. */
    adminUsername: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/).refine((u) => u !== 'admin', { message: 'Redshift reserves "admin"' }).default('warehouse_admin'),
    /** RPUs a query starts with: 8, the smallest, carries a day's load of a few million rows. */
    baseRpu: rpu.default(8),
    /** The ceiling Redshift may scale a busy moment to. */
    maxRpu: rpu.default(64),
    usageLimit: z
      .object({
        /** RPU-hours per period: 8 RPU for three hours a day is the daily load and the analysts' queries, twice over. */
        rpuHours: z.number().int().min(1).default(48),
        period: z.enum(['daily', 'weekly', 'monthly']).default('daily'),
        /** What a breach does: a metric (alarmed) by default; `deactivate` stops queries until the period ends. */
        breachAction: z.enum(['log', 'emit-metric', 'deactivate']).default('emit-metric'),
      })
      .strict()
      .prefault({}),
    /** Security groups (sg-...) whose members may connect on 5439: BI tools, a bastion. None by default. */
    admitSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, { message: 'must be a security group id' })).default([]),
    /**
     * Redshift Serverless writes its audit logs to account-wide groups (/aws/redshift/serverless/<type>):
     * the first environment of an account creates them, encrypted and retained; others set false.
     */
    createAuditLogGroups: z.boolean().default(true),
  })
  .strict()
  .refine((w) => w.baseRpu <= w.maxRpu, { message: 'baseRpu must not exceed maxRpu', path: ['baseRpu'] });

/**
 * The device registry (issue 15): Aurora PostgreSQL Serverless v2, the fleet's record of vehicles,
 * sensors, mountings and calibrations, its changes streamed to the platform.
 */
/** An SSM parameter's name: a path from the root, as CloudFormation's dynamic references take it. */
const ssmParameterName = z.string().regex(/^\/[A-Za-z0-9_.\-/]{1,1010}$/, { message: 'must be an SSM parameter name, a path such as /telemetry-lakehouse/dev/crm-source-ca' });

const registrySchema = z
  .object({
    /**
     * Aurora PostgreSQL version: 17.7, the newest major release (supported the longest), a minor
     * RDS still creates clusters of (cfn-lint W3690 flags the deprecated ones); DMS reads 17 as a
     * source from engine 3.6.1, and it ships btree_gist (the registry's exclusion constraint).
     */
    engineVersion: z.string().regex(/^\d+\.\d+$/, { message: 'must be major.minor, e.g. 17.7' }).default('17.7'),
    databaseName: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/).default('registry'),
    /** The master user, whose password RDS generates, keeps in Secrets Manager and rotates. */
    adminUsername: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/).refine((u) => !['admin', 'postgres', 'rdsadmin'].includes(u), { message: 'reserved by PostgreSQL or RDS' }).default('registry_admin'),
    /** Aurora capacity units: 0.5 idles cheaply (a registry is written a few times a day); 4 serves a fleet-wide re-registration. */
    minAcu: z.number().min(0).max(256).refine((n) => Number.isInteger(n * 2), { message: 'must be a multiple of 0.5 ACU' }).default(0.5),
    maxAcu: z.number().min(1).max(256).refine((n) => Number.isInteger(n * 2), { message: 'must be a multiple of 0.5 ACU' }).default(4),
    /** Readers besides the writer: a reader in another zone is the failover target where the registry must stay writable. */
    readers: z.number().int().min(0).max(15).default(0),
    /** Automated backups kept: 1 to 35 days. */
    backupRetentionDays: z.number().int().min(1).max(35),
    /** Refuses a delete of the cluster (and, with a retained environment, a final snapshot is taken). */
    deletionProtection: z.boolean(),
    /** Days between rotations of the registry's logins' passwords (DMS's, the fleet team's); the master's RDS rotates itself. */
    loginRotationDays: z.number().int().min(1).max(365).default(30),
    /**
     * SSM parameter holding, in PEM, the RDS CA bundle of the region (the CA the cluster's
     * certificate is issued by, rds-ca-rsa2048-g1): DMS's verify-full against the registry checks
     * the cluster's certificate and host name with it. One for every environment of the account.
     */
    caBundleParameter: ssmParameterName.default('/telemetry-lakehouse/rds-ca-bundle'),
    /** Security groups (sg-...) whose members may connect on 5432: an administrator's bastion. None by default. */
    admitSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, { message: 'must be a security group id' })).default([]),
  })
  .strict()
  .refine((r) => r.minAcu <= r.maxAcu, { message: 'minAcu must not exceed maxAcu', path: ['minAcu'] });

const catalogSchema = z
  .object({
    /**
     * First day (yyyy-MM-dd) that partition projection offers on the raw tables. Days before it
     * are invisible to Athena, so it bounds how far back a careless query can scan.
     */
    rawProjectionStartDate: z.iso.date({ message: 'must be a date in the form yyyy-MM-dd' }),
  })
  .strict();

/**
 * An EventBridge schedule expression: `rate(N unit)` or a six-field `cron(...)`. Checked here
 * so a typo fails synth instead of the deployment.
 */
export const scheduleExpression = z
  .string()
  .regex(/^(rate\(1 (minute|hour|day)\)|rate\(([2-9]|[1-9]\d+) (minutes|hours|days)\)|cron\((\S+ ){5}\S+\))$/, {
    message: 'must be rate(1 minute|hour|day), rate(N minutes|hours|days) with N > 1 or a six-field cron(...) expression',
  });

/** DMS Serverless capacity units: the only values the service accepts. */
export const DMS_CAPACITY_UNITS = [1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384] as const;
const dmsCapacityUnits = z
  .number()
  .refine((n) => (DMS_CAPACITY_UNITS as readonly number[]).includes(n), { message: `must be one of ${DMS_CAPACITY_UNITS.join(', ')} DCU` });

const cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, { message: 'must be an IPv4 CIDR' });

/**
 * A Secrets Manager secret holding the source's host, port, username and password (the format
 * DMS reads): its full ARN, or its name in the deploying account and region.
 */
const secretReference = z.union([
  z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/),
  z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/),
], { message: 'must be a Secrets Manager secret ARN or name' });

const dmsSourceSchema = z
  .object({
    /** DMS source engine name. */
    engine: z.enum(['postgres', 'sqlserver', 'mysql', 'oracle']),
    databaseName: z.string().min(1),
    /** Connection details and credentials; never a password in config or template. */
    secret: secretReference,
    /** Network the database lives in (on premises through VPN, or a peered VPC): the only egress DMS gets. */
    sourceCidr: cidr,
    port: z.number().int().min(1).max(65535),
    /**
     * TLS to the source is mandatory and the server's certificate is checked: `verify-full` (chain
     * and host name) or `verify-ca` (chain only, for a server reached by an address its certificate
     * does not name). `require` encrypts but accepts any certificate, so a host in the path can read
     * the replication; it and `none` are refused.
     */
    sslMode: z.enum(['verify-ca', 'verify-full'], {
      message: "must be verify-full or verify-ca: 'require' encrypts but accepts any server certificate, and 'none' is not offered",
    }),
    /**
     * SSM parameter (String, in the deploying account and region) holding, in PEM, the CA
     * certificate(s) that signed the source's server certificate: DMS imports it and checks the
     * server against it. Created before the deploy, like the secret (README, "Before the first deploy").
     */
    caCertificateParameter: ssmParameterName,
    /** Source tables and the dataset (contract) each lands as. */
    tables: z
      .array(
        z
          .object({
            schema: z.string().min(1),
            table: z.string().min(1),
            dataset: z.string().regex(/^[a-z][a-z0-9_]*$/),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

const dmsCapacitySchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('serverless'),
      minCapacityUnits: dmsCapacityUnits,
      maxCapacityUnits: dmsCapacityUnits,
      multiAz: z.boolean(),
    })
    .strict()
    .refine((c) => c.minCapacityUnits <= c.maxCapacityUnits, { message: 'must not exceed maxCapacityUnits', path: ['minCapacityUnits'] }),
  z
    .object({
      mode: z.literal('provisioned'),
      instanceClass: z.string().regex(/^dms\.[a-z0-9]+\.[a-z0-9]+$/, { message: 'must be a DMS instance class such as dms.r6i.large' }),
      allocatedStorageGb: z.number().int().min(5).max(6144),
      multiAz: z.boolean(),
    })
    .strict(),
]);

const dmsSchema = z
  .object({
    capacity: dmsCapacitySchema,
    /**
     * CDC files are written when either limit is reached: fewer, larger Parquet files are cheaper
     * to list and read; a shorter interval lowers latency to the raw zone.
     */
    cdcMaxBatchIntervalSeconds: z.number().int().min(1).max(3600),
    cdcMinFileSizeKb: z.number().int().min(1).max(1_048_576),
    /** One replication per source; the key is the contract's source name (crm, legacy_sql). */
    sources: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), dmsSourceSchema),
  })
  .strict();

const weatherSchema = z
  .object({
    schedule: scheduleExpression,
    /** Base URL of an Open-Meteo compatible API; HTTPS, as it crosses the internet. */
    apiBaseUrl: z.url({ protocol: /^https$/, message: 'must be an https:// URL' }),
    cities: z
      .array(
        z
          .object({
            /**
             * The city's key in the raw zone's object names (`<id>.ndjson`): lower-case ASCII
             * letters, digits and hyphens, unique, so that no two cities can write one object
             * ("São Paulo" and "Sao Paulo" need two ids; "東京" gets one of its own).
             */
            id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'must be lower-case ASCII letters and digits, words joined by hyphens (e.g. sao-paulo)' }).max(64),
            /** The name in the weather rows and the KPI's city. */
            name: z.string().min(1).max(64),
            latitude: z.number().min(-90).max(90),
            longitude: z.number().min(-180).max(180),
          })
          .strict(),
      )
      .min(1)
      .refine((cities) => new Set(cities.map((c) => c.id)).size === cities.length, { message: 'city ids must be unique: each is the name of its object in the raw zone' })
      .refine((cities) => new Set(cities.map((c) => c.name.normalize('NFC').toLowerCase())).size === cities.length, { message: 'city names must be unique' }),
    /** Per-request timeout; a slow answer is abandoned and retried. */
    requestTimeoutMs: z.number().int().min(100).max(60_000),
    /** Attempts per city, the first included, with capped exponential backoff between them. */
    maxAttempts: z.number().int().min(1).max(10),
    /** First backoff ceiling between attempts, doubled each retry (full jitter); 200 ms in every environment. */
    retryBaseDelayMs: z.number().int().min(10).max(10_000),
    /** Longest wait between two attempts, Retry-After included; the function's timeout derives from it. 5 s everywhere. */
    retryMaxDelayMs: z.number().int().min(100).max(60_000),
    /** Cities pulled at the same time; 4 everywhere (the function's timeout derives from it). */
    concurrency: z.number().int().min(1).max(16),
  })
  .strict()
  .refine((w) => w.retryBaseDelayMs <= w.retryMaxDelayMs, { message: 'retryBaseDelayMs must not exceed retryMaxDelayMs', path: ['retryBaseDelayMs'] });

/** An IPv4 CIDR, e.g. 203.0.113.0/24. */
const ipv4Cidr = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/, { message: 'must be an IPv4 CIDR, e.g. 203.0.113.0/24' });

/** An SSH public key in OpenSSH's one-line form, of a type Transfer Family accepts for service-managed users. */
const sshPublicKey = z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}( [^\n]*)?$/, {
  message: 'must be an OpenSSH public key line (ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa, then the key)',
});

/**
 * Partner file drops over SFTP (AWS Transfer Family; lib/constructs/partner-file-drops.ts): each
 * partner a service-managed user with its SSH keys, jailed to its own folder of a landing bucket,
 * its files checked against its dataset's contract and promoted to the raw zone, or quarantined.
 */
const partnerFilesSchema = z
  .object({
    enabled: z.boolean().default(false),
    /**
     * The networks that may open the server's SFTP port: the partners' addresses as they reach the
     * VPC (a site-to-site VPN or Direct Connect into the private subnets, where the endpoint is).
     * Never the whole internet.
     */
    allowedCidrs: z.array(ipv4Cidr.refine((c) => !c.endsWith('/0'), { message: 'must not open SFTP to every address' })).max(50).default([]),
    partners: z
      .array(
        z
          .object({
            /** The SFTP user name and the partner's folder: 3 to 32 lower-case letters, digits and hyphens. */
            name: z.string().min(3).max(32).regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'must be lower-case ASCII letters and digits, words joined by hyphens' }),
            /** The dataset its files hold: one whose contract takes partner files (lib/contracts partnerFileDatasets). */
            dataset: z.string().min(1),
            /** Transfer Family takes up to 50 keys per user; two let a partner rotate without a gap. */
            sshPublicKeys: z.array(sshPublicKey).min(1).max(50),
          })
          .strict(),
      )
      .default([])
      .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, { message: 'partner names must be unique: each is a user and a folder' }),
    /** The largest file taken as uploaded, compressed or not. */
    maxFileMiB: z.number().int().min(1).max(512).default(64),
    /** The most a GZIP file may inflate to; the check holds it in memory, and its function's memory is sized from it. */
    maxUncompressedMiB: z.number().int().min(1).max(2048).default(256),
    maxRecordsPerFile: z.number().int().min(1).max(50_000_000).default(2_000_000),
    /** Days a refused file and its report stay in the landing bucket's quarantine. */
    quarantineRetentionDays: z.number().int().min(1).max(3650).default(90),
  })
  .strict()
  .refine((p) => !p.enabled || p.partners.length > 0, { message: 'an enabled partner file drop needs at least one partner', path: ['partners'] })
  .refine((p) => !p.enabled || p.allowedCidrs.length > 0, { message: 'an enabled partner file drop needs the networks allowed to reach it', path: ['allowedCidrs'] })
  .refine((p) => p.maxUncompressedMiB >= p.maxFileMiB, { message: 'must be at least maxFileMiB', path: ['maxUncompressedMiB'] });

/**
 * The HTTPS ingestion API (lib/constructs/telemetry-ingest-api.ts): partners POST batches of
 * telemetry records, validated against the contract, straight onto the telemetry stream.
 */
const httpsApiSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** The whole stage: steady requests per second and burst (each request up to 500 records). */
    throttle: z.object({ rateLimit: z.number().positive().default(50), burstLimit: z.number().int().positive().default(100) }).strict().prefault({}),
    partners: z
      .array(
        z
          .object({
            /** The partner's API key and usage plan are named after it. */
            name: z.string().min(3).max(32).regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'must be lower-case ASCII letters and digits, words joined by hyphens' }),
            rateLimit: z.number().positive().default(5),
            burstLimit: z.number().int().positive().default(10),
            /** Requests a day; at 500 records a request, 100,000 is 50 million readings. */
            dailyQuota: z.number().int().positive().default(100_000),
          })
          .strict(),
      )
      .default([])
      .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, { message: 'partner names must be unique: each names an API key and a usage plan' }),
    /** A WAF web ACL on the stage: AWS managed common rules and a rate limit per client IP. */
    waf: z.object({ enabled: z.boolean().default(false), requestsPerFiveMinutesPerIp: z.number().int().min(10).default(2000) }).strict().prefault({}),
  })
  .strict()
  .refine((a) => !a.enabled || a.partners.length > 0, { message: 'an enabled ingestion API needs at least one partner', path: ['partners'] })
  .refine((a) => a.partners.every((p) => p.rateLimit <= a.throttle.rateLimit), { message: "a partner's rateLimit cannot exceed the stage's", path: ['partners'] });

/** A Kafka topic name (letters, digits, '.', '_', '-'; Kafka's own limit is 249 characters). */
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

const kafkaSchema = z
  .object({
    enabled: z.boolean().default(false),
    /**
     * Where the topics are: an MSK Serverless cluster the platform creates (IAM authentication, in
     * the private subnets), or an existing MSK cluster (provisioned or serverless) named by its ARN,
     * whose owner has turned on IAM authentication and multi-VPC private connectivity.
     */
    cluster: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('serverless') }).strict(),
        z
          .object({
            kind: z.literal('existing'),
            clusterArn: z.string().regex(/^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9-]+\/[A-Za-z0-9-]+$/, { message: 'must be an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)' }),
          })
          .strict(),
      ])
      .default({ kind: 'serverless' }),
    /** One Firehose delivery per topic, under the contract of the topic's dataset. */
    topics: z
      .array(
        z
          .object({
            topic: z.string().regex(KAFKA_TOPIC, { message: "must be a Kafka topic name: letters, digits, '.', '_' and '-'" }),
            dataset: z.string().min(1),
          })
          .strict(),
      )
      .default([])
      .refine((ts) => new Set(ts.map((t) => t.topic)).size === ts.length, { message: 'a topic is delivered once: topic names must be unique' }),
    /** A record above this size is quarantined unread (Firehose passes records of up to 1,000 KB). */
    maxRecordBytes: z.number().int().min(1024).max(1_024_000).default(65_536),
    /** Firehose's buffer before it writes an object to the raw zone. */
    bufferIntervalSeconds: z.number().int().min(0).max(900).default(300),
    bufferSizeMiB: z.number().int().min(1).max(128).default(64),
  })
  .strict()
  .refine((k) => !k.enabled || k.topics.length > 0, { message: 'enabled Kafka ingestion needs at least one topic', path: ['topics'] });

const ingestionSchema = z
  .object({ dms: dmsSchema, weather: weatherSchema, partnerFiles: partnerFilesSchema.prefault({}), httpsApi: httpsApiSchema.prefault({}), kafka: kafkaSchema.prefault({}) })
  .strict();

const streamLoadSchema = z
  .object({
    recordsPerSecond: z.number().positive(),
    bytesPerRecord: z.number().int().positive().max(1_048_576),
  })
  .strict();

const streamingSchema = z
  .object({
    /**
     * Peak load each stream must take; provisioned shard counts are derived from it against the
     * per-shard write limits (lib/config/capacity.ts), never set by hand.
     */
    expectedLoad: z
      .object({
        telemetry: z
          .object({
            vehicles: positiveInt,
            messagesPerVehiclePerSecond: z.number().positive(),
            bytesPerMessage: z.number().int().positive().max(1_048_576),
          })
          .strict(),
        sensorReadings: streamLoadSchema,
        deviceUpdates: streamLoadSchema,
      })
      .strict(),
    /** on-demand scales by itself (and costs more at steady load); provisioned uses the derived shards. */
    capacityMode: z.enum(['provisioned', 'on-demand']),
    /** Spare capacity over the declared peak, for bursts and uneven partition keys. */
    headroom: z.number().min(1).max(10),
    retentionHours: z.number().int().min(24).max(8760),
    firehose: z
      .object({
        bufferIntervalSeconds: z.number().int().min(0).max(900),
        bufferSizeMiB: z.number().int().min(1).max(128),
      })
      .strict(),
    sensorPull: z
      .object({
        schedule: scheduleExpression,
        apiBaseUrl: z.url({ protocol: /^https$/, message: 'must be an https:// URL' }),
        /** Each pull asks for this many minutes back; longer than the schedule so windows overlap. */
        windowMinutes: z.number().int().min(1).max(1440),
        requestTimeoutMs: z.number().int().min(100).max(60_000),
        maxAttempts: z.number().int().min(1).max(10),
        /** Backoff between attempts of an API page: first ceiling and cap (200 ms and 5 s everywhere). */
        retryBaseDelayMs: z.number().int().min(10).max(10_000),
        retryMaxDelayMs: z.number().int().min(100).max(60_000),
        /** PutRecords: attempts of the entries Kinesis refused, and their backoff (5, 100 ms, 2 s everywhere). */
        putRecords: z.object({ maxAttempts: z.number().int().min(1).max(10), baseDelayMs: z.number().int().min(10).max(10_000), maxDelayMs: z.number().int().min(100).max(60_000) }).strict(),
        /** The function's timeout: the pages and PutRecords retries of a busy window, well under the schedule (240 s). */
        timeoutSeconds: z.number().int().min(10).max(900),
        /** The function's memory (1,024 MiB: the Parquet of a window and its PutRecords batches; CPU scales with it). */
        memoryMiB: z.number().int().min(128).max(10_240),
      })
      .strict(),
    flink: z
      .object({
        parallelism: positiveInt,
        parallelismPerKpu: z.number().int().min(1).max(8),
        checkpointIntervalSeconds: z.number().int().min(10).max(3600),
        /** How long the job remembers a reading_id (dedup) and a device's latest version (join). */
        stateTtlHours: z.number().int().min(1).max(720),
        /**
         * How late a reading may arrive and still be deduplicated and joined (watermark delay). A
         * pull returns readings up to windowMinutes old, so this must cover the pull window; later
         * readings are dropped by Flink as late (they remain in the raw zone's Parquet files).
         */
        readingsMaxDelaySeconds: z.number().int().min(0).max(3600),
        autoScaling: z.boolean(),
      })
      .strict(),
  })
  .strict()
  .refine((s) => s.flink.readingsMaxDelaySeconds >= s.sensorPull.windowMinutes * 60, {
    message: 'must cover the sensor pull window (windowMinutes x 60): a pull returns readings that old',
    path: ['flink', 'readingsMaxDelaySeconds'],
  });

const processingSchema = z
  .object({
    /** When the daily pipeline runs (UTC); it processes the previous day. */
    schedule: scheduleExpression,
    workerType: z.enum(['G.1X', 'G.2X', 'G.4X', 'G.8X']),
    /** Upper bound of Glue auto scaling per job. */
    maxWorkers: z.number().int().min(2).max(299),
    jobTimeoutMinutes: z.number().int().min(5).max(2880),
    /** Iceberg snapshots older than this are expired by the maintenance step. */
    snapshotRetentionDays: positiveInt,
    /**
     * How many days back the daily run recomputes the KPI for data that arrived late or was
     * corrected. A change to an older day is counted, alarmed and left for a backfill
     * (README, "Late data and backfills"); the bound keeps one late batch from turning a daily run
     * into a reprocessing of history.
     */
    latenessHorizonDays: z.number().int().min(1).max(90),
  })
  .strict();

const monitoringSchema = z
  .object({
    /** Addresses subscribed to the alert topic (each confirms by e-mail). */
    alertEmails: z.array(z.email({ message: 'must be a valid e-mail address' })),
    /** Failed Athena queries per hour that page someone. */
    athenaFailedQueriesPerHour: positiveInt,
    /** Retention of the platform's own log groups (Lambda, Glue, Flink). */
    logRetentionDays: logRetentionDays,
    /** Firehose data freshness (age of the oldest record not yet delivered) that pages someone, in seconds. */
    firehoseFreshnessSeconds: positiveInt,
    /** DMS CDC latency (source or target) that pages someone, in seconds, sustained 15 minutes. */
    dmsCdcLatencySeconds: positiveInt,
  })
  .strict();

export const environmentConfigSchema = z
  .object({
    envName: z.enum(ENVIRONMENT_NAMES),
    /** Prefix of physical names and Glue database names: lower case, digits and hyphens. */
    resourcePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,14}[a-z0-9]$/, { message: 'must be 3-16 chars of a-z, 0-9 and -, starting with a letter' }),
    /**
     * The target account. Optional: without it the stacks are account-agnostic and deploy into
     * the account of the credentials in use. Set it for prod so a deploy with the wrong
     * credentials fails instead of building prod in the wrong account.
     */
    account: z
      .string()
      .regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' })
      .optional(),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must be an AWS region name such as eu-west-1' }),
    tags: z
      .object({
        owner: z.string().min(1),
        costCenter: z.string().min(1),
      })
      .strict(),
    /** DESTROY removes data with the stack; only dev may allow it. */
    removalPolicy: z.enum(['retain', 'destroy']),
    network: networkSchema,
    security: securitySchema,
    lifecycle: lifecycleSchema,
    catalog: catalogSchema,
    ingestion: ingestionSchema,
    streaming: streamingSchema,
    processing: processingSchema,
    athena: athenaSchema,
    serving: servingSchema.prefault({}),
    bi: biSchema.prefault({}),
    alerts: alertsSchema.prefault({}),
    warehouse: warehouseSchema.prefault({}),
    registry: registrySchema,
    backup: backupSchema,
    monitoring: monitoringSchema,
  })
  .strict()

  .refine((c) => c.envName === 'dev' || c.removalPolicy !== 'destroy', {
    message: 'only dev may allow DESTROY: staging and prod data must outlive their stacks',
    path: ['removalPolicy'],
  })
  .refine((c) => c.envName === 'dev' || c.backup.enabled, {
    message: 'only dev, which holds generated samples, may run without backups',
    path: ['backup', 'enabled'],
  })
  .refine((c) => c.envName === 'dev' || c.registry.deletionProtection, {
    message: "only dev may turn the registry's deletion protection off",
    path: ['registry', 'deletionProtection'],
  });

export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;
/**
 * What an environment file writes: the configuration before validation, where a field with a
 * schema default (`.default(...)`) may be left out, so a new block with defaults is declared once
 * and an environment names only what differs.
 */
export type EnvironmentConfigInput = z.input<typeof environmentConfigSchema>;
