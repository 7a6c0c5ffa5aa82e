import { ConfigError, loadConfig, validateConfig } from '../lib/config';
import { dataRemovalPolicy } from '../lib/constructs/removal';
import { RemovalPolicy } from 'aws-cdk-lib';

/** A deep copy of an environment's configuration with one change, for must-fail cases. */
function variant(envName: 'dev' | 'staging' | 'prod', change: (c: any) => void): unknown {
  const copy = JSON.parse(JSON.stringify(loadConfig(envName)));
  change(copy);
  return copy;
}

function problemsOf(envName: string, candidate: unknown): string[] {
  try {
    validateConfig(envName, candidate);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain(`environment '${envName}'`);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected the configuration to be rejected');
}

describe('configuration', () => {
  test.each(['dev', 'staging', 'prod'])('%s is valid', (env) => {
    expect(loadConfig(env).envName).toBe(env);
  });

  test('dev is the default environment', () => {
    expect(loadConfig(undefined).envName).toBe('dev');
  });

  test('an unknown environment fails naming the valid ones', () => {
    expect(() => loadConfig('qa')).toThrow(/environment 'qa'[\s\S]*env: unknown environment, expected one of dev, staging, prod/);
  });

  test('environments differ where the design says they do', () => {
    const [dev, staging, prod] = ['dev', 'staging', 'prod'].map(loadConfig);
    expect([dev.network.availabilityZoneCount, staging.network.availabilityZoneCount, prod.network.availabilityZoneCount]).toEqual([2, 2, 3]);
    expect([dev.removalPolicy, staging.removalPolicy, prod.removalPolicy]).toEqual(['destroy', 'retain', 'retain']);
    expect(prod.athena.bytesScannedCutoffPerQuery).toBeGreaterThan(dev.athena.bytesScannedCutoffPerQuery);
  });

  describe('values that must fail, each naming its field', () => {
    test('a malformed alert e-mail', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.monitoring.alertEmails = ['oncall@', 'ok@example.com'])))).toEqual([
        'monitoring.alertEmails.0: must be a valid e-mail address',
      ]);
    });

    test('zero capacity', () => {
      expect(problemsOf('staging', variant('staging', (c) => (c.network.natGateways = 0)))).toEqual([
        'network.natGateways: Too small: expected number to be >0',
      ]);
      expect(problemsOf('staging', variant('staging', (c) => (c.monitoring.athenaFailedQueriesPerHour = 0)))[0]).toMatch(
        /^monitoring\.athenaFailedQueriesPerHour: /,
      );
      expect(problemsOf('dev', variant('dev', (c) => (c.athena.bytesScannedCutoffPerQuery = 0)))[0]).toMatch(/^athena\.bytesScannedCutoffPerQuery: /);
    });

    test('a lateness horizon of zero days or of more than 90', () => {
      expect(problemsOf('prod', variant('prod', (c) => (c.processing.latenessHorizonDays = 0)))[0]).toMatch(/^processing\.latenessHorizonDays: Too small/);
      expect(problemsOf('dev', variant('dev', (c) => (c.processing.latenessHorizonDays = 91)))[0]).toMatch(/^processing\.latenessHorizonDays: Too big/);
      expect(problemsOf('dev', variant('dev', (c) => (c.processing.latenessHorizonDays = 2.5)))[0]).toMatch(/^processing\.latenessHorizonDays: /);
    });

    test('DESTROY asked for anywhere but dev', () => {
      for (const envName of ['staging', 'prod'] as const) {
        expect(problemsOf(envName, variant(envName, (c) => (c.removalPolicy = 'destroy')))).toEqual([
          'removalPolicy: only dev may allow DESTROY: staging and prod data must outlive their stacks',
        ]);
      }
    });

    test('backups off anywhere but dev, a retention under a week, a schedule that is not cron', () => {
      for (const envName of ['staging', 'prod'] as const) {
        expect(problemsOf(envName, variant(envName, (c) => (c.backup = { enabled: false })))).toEqual([
          'backup.enabled: only dev, which holds generated samples, may run without backups',
        ]);
      }
      expect(problemsOf('prod', variant('prod', (c) => (c.backup.retentionDays = 6)))[0]).toMatch(/^backup\.retentionDays: Too small/);
      expect(problemsOf('prod', variant('prod', (c) => (c.backup.schedule = 'rate(1 day)')))).toEqual(['backup.schedule: must be a cron(...) expression']);
      expect(problemsOf('prod', variant('prod', (c) => (c.backup.vaultLock = 'strict')))[0]).toMatch(/^backup\.vaultLock: /);
    });

    test('a QuickSight dashboard without an author, or with a principal that is not a QuickSight ARN', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.bi = { quicksight: { enabled: true } })))).toEqual(['bi.quicksight.authors: a dashboard needs at least one author (bi.quicksight.authors)']);
      expect(problemsOf('dev', variant('dev', (c) => (c.bi = { quicksight: { enabled: true, authors: ['arn:aws:iam::123456789012:user/ana'] } })))[0]).toMatch(/^bi\.quicksight\.authors\.0: must be a QuickSight user or group ARN/);
    });

    test('an alert rule whose close threshold is not below its open threshold (no hysteresis)', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.alerts = { engineOverheat: { openAboveC: 110, closeBelowC: 110 } })))).toEqual([
        'alerts.engineOverheat.closeBelowC: closeBelowC must be below openAboveC (hysteresis)',
      ]);
    });

    test('more NAT gateways than availability zones', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.network.natGateways = 3)))).toEqual([
        'network.natGateways: cannot exceed the number of availability zones',
      ]);
    });

    test('lifecycle transitions S3 would reject', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.lifecycle.rawToInfrequentAccessDays = 10)))).toContain(
        'lifecycle.rawToInfrequentAccessDays: S3 allows a transition to Standard-IA no earlier than 30 days',
      );
      expect(problemsOf('dev', variant('dev', (c) => (c.lifecycle.rawToGlacierDays = 45)))).toEqual([
        'lifecycle.rawToGlacierDays: must be at least 30 days after rawToInfrequentAccessDays (S3 minimum stay in Standard-IA)',
      ]);
    });

    test('a log retention CloudWatch does not offer', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.network.flowLogRetentionDays = 10)))[0]).toMatch(
        /^network\.flowLogRetentionDays: must be one of the CloudWatch Logs retention periods/,
      );
    });

    test('an unknown field, a bad account, a bad CIDR and a bad date, all reported at once', () => {
      const problems = problemsOf(
        'dev',
        variant('dev', (c) => {
          c.extra = true;
          c.account = '1234';
          c.network.vpcCidr = '10.0.0.0/8';
          c.catalog.rawProjectionStartDate = '2026-13-01';
        }),
      );
      expect(problems).toHaveLength(4);
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['(root)', 'account', 'catalog.rawProjectionStartDate', 'network.vpcCidr']);
    });

    test('ingestion values DMS, EventBridge or the weather API would reject', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.dms.capacity.maxCapacityUnits = 3)))).toEqual([
        'ingestion.dms.capacity.maxCapacityUnits: must be one of 1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384 DCU',
      ]);
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.dms.capacity.minCapacityUnits = 8)))).toEqual([
        'ingestion.dms.capacity.minCapacityUnits: must not exceed maxCapacityUnits',
      ]);
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.dms.sources.crm.sslMode = 'none')))[0]).toMatch(/^ingestion\.dms\.sources\.crm\.sslMode: /);
      // `require` encrypts without checking the server's certificate (issue 16, item 4).
      expect(problemsOf('dev', variant('dev', (c) => ((c.ingestion.dms.sources.legacy_sql as any).sslMode = 'require')))).toEqual([
        "ingestion.dms.sources.legacy_sql.sslMode: must be verify-full or verify-ca: 'require' encrypts but accepts any server certificate, and 'none' is not offered",
      ]);
      expect(problemsOf('dev', variant('dev', (c) => delete (c.ingestion.dms.sources.crm as any).caCertificateParameter))[0]).toMatch(/^ingestion\.dms\.sources\.crm\.caCertificateParameter: /);
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.dms.sources.crm.caCertificateParameter = 'crm-ca')))).toEqual([
        'ingestion.dms.sources.crm.caCertificateParameter: must be an SSM parameter name, a path such as /telemetry-lakehouse/dev/crm-source-ca',
      ]);
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.dms.sources.crm.secret = 'arn:aws:iam::123:role/x')))[0]).toMatch(
        /^ingestion\.dms\.sources\.crm\.secret: must be a Secrets Manager secret ARN or name/,
      );
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.weather.apiBaseUrl = 'http://api.example.com')))).toEqual([
        'ingestion.weather.apiBaseUrl: must be an https:// URL',
      ]);
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.weather.schedule = 'every hour')))[0]).toMatch(/^ingestion\.weather\.schedule: must be rate/);
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.weather.schedule = 'rate(1 hours)')))[0]).toMatch(/^ingestion\.weather\.schedule: /);
      expect(problemsOf('dev', variant('dev', (c) => c.ingestion.weather.cities.push({ ...c.ingestion.weather.cities[0] })))).toEqual([
        'ingestion.weather.cities: city ids must be unique: each is the name of its object in the raw zone',
        'ingestion.weather.cities: city names must be unique',
      ]);
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.weather.cities[0].latitude = 91)))[0]).toMatch(/^ingestion\.weather\.cities\.0\.latitude: /);
    });

    test('city ids that would make two cities write one object, or a key that is not plain ASCII', () => {
      const city = (id: string, name: string) => ({ id, name, latitude: 0, longitude: 0 });
      // once one object per slug of the name: now each city names its own key
      expect(() => validateConfig('dev', variant('dev', (c) => (c.ingestion.weather.cities = [city('sao-paulo', 'São Paulo'), city('sao-paulo-sp', 'Sao Paulo')])))).not.toThrow();
      expect(() => validateConfig('dev', variant('dev', (c) => (c.ingestion.weather.cities = [city('tokyo', '東京'), city('osaka', '大阪')])))).not.toThrow();
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.weather.cities = [city('sao-paulo', 'São Paulo'), city('sao-paulo', 'Sao Paulo')])))).toEqual([
        'ingestion.weather.cities: city ids must be unique: each is the name of its object in the raw zone',
      ]);
      for (const bad of ['São-Paulo', 'Sao_Paulo', '東京', '', '-madrid', 'madrid-']) {
        expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.weather.cities[0].id = bad)))[0]).toMatch(/^ingestion\.weather\.cities\.0\.id: /);
      }
      expect(problemsOf('dev', variant('dev', (c) => delete c.ingestion.weather.cities[0].id))[0]).toMatch(/^ingestion\.weather\.cities\.0\.id: /);
    });

    test('pull settings the functions could not use', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.ingestion.weather.retryBaseDelayMs = 10_000)))).toEqual([
        'ingestion.weather.retryBaseDelayMs: retryBaseDelayMs must not exceed retryMaxDelayMs',
      ]);
      expect(problemsOf('prod', variant('prod', (c) => (c.ingestion.weather.concurrency = 0)))[0]).toMatch(/^ingestion\.weather\.concurrency: /);
      expect(problemsOf('dev', variant('dev', (c) => (c.streaming.sensorPull.timeoutSeconds = 901)))[0]).toMatch(/^streaming\.sensorPull\.timeoutSeconds: /);
      expect(problemsOf('dev', variant('dev', (c) => (c.streaming.sensorPull.memoryMiB = 64)))[0]).toMatch(/^streaming\.sensorPull\.memoryMiB: /);
      expect(problemsOf('dev', variant('dev', (c) => delete c.streaming.sensorPull.putRecords.maxAttempts))[0]).toMatch(/^streaming\.sensorPull\.putRecords\.maxAttempts: /);
    });

    test('a readings watermark shorter than the sensor pull window', () => {
      expect(problemsOf('dev', variant('dev', (c) => (c.streaming.flink.readingsMaxDelaySeconds = 300)))).toEqual([
        'streaming.flink.readingsMaxDelaySeconds: must cover the sensor pull window (windowMinutes x 60): a pull returns readings that old',
      ]);
      expect(() => validateConfig('dev', variant('dev', (c) => (c.streaming.flink.readingsMaxDelaySeconds = 600)))).not.toThrow();
    });

    test('valid schedules pass', () => {
      for (const schedule of ['rate(1 hour)', 'rate(15 minutes)', 'cron(5 * * * ? *)']) {
        expect(() => validateConfig('dev', variant('dev', (c) => (c.ingestion.weather.schedule = schedule)))).not.toThrow();
      }
    });

    test('a configuration filed under another environment', () => {
      expect(problemsOf('staging', loadConfig('dev'))).toEqual(["envName: is 'dev', expected 'staging'"]);
    });
  });

  describe('removal guard', () => {
    test('retains unless the environment allows DESTROY', () => {
      expect(dataRemovalPolicy({ envName: 'staging', removalPolicy: 'retain' })).toBe(RemovalPolicy.RETAIN);
      expect(dataRemovalPolicy({ envName: 'dev', removalPolicy: 'destroy' })).toBe(RemovalPolicy.DESTROY);
    });

    test('refuses DESTROY outside dev even when the schema is bypassed', () => {
      expect(() => dataRemovalPolicy({ envName: 'prod', removalPolicy: 'destroy' })).toThrow(/Refusing RemovalPolicy.DESTROY in environment 'prod'/);
      expect(() => dataRemovalPolicy({ envName: 'staging', removalPolicy: 'destroy' })).toThrow(/Refusing RemovalPolicy.DESTROY in environment 'staging'/);
    });
  });
});
