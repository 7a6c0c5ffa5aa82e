import { settingsFromEnvironment } from '../lambda/shared/settings';
import { WEATHER_PULL_SETTINGS, weatherPullSettings } from '../lambda/weather-pull/settings';
import { Match } from 'aws-cdk-lib/assertions';
import { ConfigError, EnvironmentConfig } from '../lib/config';
import { tableMappingsFor } from '../lib/constructs/dms-replication';
import { egressOf, ENVIRONMENTS, joinedText, resourcesOf, synthesize } from './helpers/platform';

describe.each(ENVIRONMENTS)('ingestion (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.ingestion;
  const endpoints = Object.values(resourcesOf(t, 'AWS::DMS::Endpoint'));
  const sources = endpoints.filter((e) => e.Properties.EndpointType === 'source');
  const targets = endpoints.filter((e) => e.Properties.EndpointType === 'target');
  const dms = config.ingestion.dms;

  test('one source and one S3 target endpoint per configured database', () => {
    expect(sources).toHaveLength(Object.keys(dms.sources).length);
    expect(targets).toHaveLength(Object.keys(dms.sources).length);
    expect(targets.every((e) => e.Properties.EngineName === 's3')).toBe(true);
  });

  test('no endpoint carries a password or user; each source reads its own secret through its access role', () => {
    const text = JSON.stringify(endpoints);
    expect(text).not.toMatch(/"Password"|"Username"/);
    for (const [name, source] of Object.entries(dms.sources)) {
      const endpoint = sources.find((e) => e.Properties.EndpointIdentifier === `${config.resourcePrefix}-${name.replace('_', '-')}-to-raw-source`)!;
      expect(endpoint.Properties.EngineName).toBe(source.engine);
      expect(endpoint.Properties.SslMode).toMatch(/^verify-(full|ca)$/);
      expect(endpoint.Properties.SslMode).toBe(source.sslMode);
      // The server's certificate is checked against the CA from the source's SSM parameter.
      const certificateId = endpoint.Properties.CertificateArn.Ref;
      expect(resourcesOf(t, 'AWS::DMS::Certificate')[certificateId].Properties).toEqual({
        CertificateIdentifier: `${config.resourcePrefix}-${name.replace('_', '-')}-to-raw-source-ca`,
        CertificatePem: `{{resolve:ssm:${source.caCertificateParameter}}}`,
      });
      const settings = endpoint.Properties.PostgreSqlSettings ?? endpoint.Properties.MicrosoftSqlServerSettings;
      expect(settings.SecretsManagerSecretId).toBe(source.secret);
      expect(JSON.stringify(settings.SecretsManagerAccessRoleArn)).toContain('SecretAccessRole');
    }
  });

  test('the secret access role may read exactly its secret, and is assumed by the regional DMS principal', () => {
    const roles = Object.entries(resourcesOf(t, 'AWS::IAM::Role')).filter(([id]) => id.includes('SecretAccessRole'));
    expect(roles).toHaveLength(Object.keys(dms.sources).length);
    for (const [, role] of roles) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: `dms.${config.region}.amazonaws.com` });
    }
    const policies = Object.values(resourcesOf(t, 'AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes('SecretAccessRole'));
    const resources = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.map((s: any) => JSON.stringify(s.Resource)));
    for (const source of Object.values(dms.sources)) expect(resources.some((r) => r.includes(`secret:${source.secret}-??????`))).toBe(true);
  });

  test('the S3 targets write Parquet with Op and commit_ts, by commit date, SSE-KMS, batched CDC, owner checked', () => {
    for (const target of targets) {
      expect(target.Properties.S3Settings).toMatchObject({
        BucketFolder: 'raw',
        DataFormat: 'parquet',
        IncludeOpForFullLoad: true,
        CdcInsertsAndUpdates: false,
        TimestampColumnName: 'commit_ts',
        DatePartitionEnabled: true,
        DatePartitionSequence: 'YYYYMMDD',
        DatePartitionDelimiter: 'DASH',
        EncryptionMode: 'SSE_KMS',
        CdcMaxBatchInterval: dms.cdcMaxBatchIntervalSeconds,
        CdcMinFileSize: dms.cdcMinFileSizeKb,
        ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
      });
      // the raw zone's key (security stack) and the source's raw writer role (lakehouse stack)
      expect(JSON.stringify(target.Properties.S3Settings.ServerSideEncryptionKmsKeyId)).toMatch(/Keysraw/);
      expect(JSON.stringify(target.Properties.S3Settings.ServiceAccessRoleArn)).toMatch(/AccessRawWriter(crm|legacysql)/);
    }
  });

  test('full load + CDC with the configured capacity, in private subnets, table mappings matching config', () => {
    const replications = Object.values(resourcesOf(t, 'AWS::DMS::ReplicationConfig'));
    expect(replications).toHaveLength(Object.keys(dms.sources).length);
    for (const [name, source] of Object.entries(dms.sources)) {
      const r = replications.find((x) => x.Properties.ReplicationConfigIdentifier === `${config.resourcePrefix}-${name.replace('_', '-')}-to-raw`)!;
      expect(r.Properties.ReplicationType).toBe('full-load-and-cdc');
      expect(r.Properties.ComputeConfig).toMatchObject({
        MinCapacityUnits: (dms.capacity as any).minCapacityUnits,
        MaxCapacityUnits: (dms.capacity as any).maxCapacityUnits,
        MultiAZ: dms.capacity.multiAz,
      });
      const mappings = r.Properties.TableMappings;
      expect(JSON.parse(JSON.stringify(mappings))).toEqual(tableMappingsFor(name, source.tables));
      const selections = mappings.rules.filter((x: any) => x['rule-type'] === 'selection');
      expect(selections.map((x: any) => x['object-locator'])).toEqual(source.tables.map((x) => ({ 'schema-name': x.schema, 'table-name': x.table })));
    }
    const groups = Object.values(resourcesOf(t, 'AWS::DMS::ReplicationSubnetGroup'));
    for (const g of groups) expect(g.Properties.SubnetIds).toHaveLength(config.network.availabilityZoneCount);
    expect(JSON.stringify(groups)).toMatch(/privateSubnet/);
  });

  test('DMS security groups: the source port to the source network, HTTPS to the interface endpoints and to S3, nothing else', () => {
    const groups = Object.entries(resourcesOf(t, 'AWS::EC2::SecurityGroup')).filter(([, g]) => g.Properties.GroupDescription.startsWith('DMS'));
    expect(groups).toHaveLength(Object.keys(dms.sources).length);
    for (const [groupId, g] of groups) {
      expect(g.Properties.SecurityGroupIngress).toBeUndefined();
      const egress = egressOf(t, groupId).map((e: any) => [e.CidrIp ?? (e.DestinationPrefixListId ? 'S3 prefix list' : JSON.stringify(e.DestinationSecurityGroupId)), e.FromPort]);
      const source = Object.values(dms.sources).find((s) => egress.some(([cidr]: any[]) => cidr === s.sourceCidr))!;
      expect(egress).toEqual([
        [source.sourceCidr, source.port],
        [expect.stringContaining('NetworkEndpointSecurityGroup'), 443],
        ['S3 prefix list', 443],
      ]);
    }
  });

  test('the weather pull: Node.js 24 on arm64, scheduled, in private subnets, encrypted logs and dead letters', () => {
    const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) => f.Properties.FunctionName === `${config.resourcePrefix}-weather-pull`)!;
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(config.network.availabilityZoneCount);
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1); // one run at a time
    const env = fn.Properties.Environment.Variables;
    // the handler's settings, as its own schema parses them (lambda/weather-pull/settings.ts)
    const settings = settingsFromEnvironment(WEATHER_PULL_SETTINGS, weatherPullSettings, { [WEATHER_PULL_SETTINGS]: joinedText(env[WEATHER_PULL_SETTINGS]) });
    expect(settings.cities).toEqual(config.ingestion.weather.cities);
    expect(settings.apiBaseUrl).toBe(config.ingestion.weather.apiBaseUrl);
    expect(settings).toMatchObject({ retryBaseDelayMs: config.ingestion.weather.retryBaseDelayMs, concurrency: config.ingestion.weather.concurrency });
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    // The timeout covers the worst case of what the handler is told to do: every batch of cities
    // using every attempt, each timing out, with the longest backoff between attempts.
    const weather = config.ingestion.weather;
    const worstCaseMs = Math.ceil(weather.cities.length / settings.concurrency) * weather.maxAttempts * (weather.requestTimeoutMs + settings.retryMaxDelayMs);
    expect(fn.Properties.Timeout).toBe(Math.min(900, Math.ceil(worstCaseMs / 1000) + 30));
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('TelemetryLakehouse');
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: config.ingestion.weather.schedule, State: 'ENABLED' });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/lambda/${config.resourcePrefix}-weather-pull`,
      KmsKeyId: Match.anyValue(),
      RetentionInDays: config.monitoring.logRetentionDays,
    });
  });

  test('the weather pull runs as the weather raw writer, which may put objects under raw/weather/ only', () => {
    const lakehouse = templates.lakehouse;
    const roleId = Object.keys(resourcesOf(lakehouse, 'AWS::IAM::Role')).find((id) => id.startsWith('AccessRawWriterweather'))!;
    const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) => f.Properties.FunctionName === `${config.resourcePrefix}-weather-pull`)!;
    expect(JSON.stringify(fn.Properties.Role)).toContain(roleId);
    const statements = Object.values(resourcesOf(lakehouse, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const s3Writes = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(s3Writes).toHaveLength(1);
    expect(JSON.stringify(s3Writes[0].Resource)).toMatch(/\/raw\/weather\/\*"/);
    // and it reads back its own dataset's days (to merge hours), listing that prefix only
    const reads = Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('AccessRawWriterweather'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().some((a: string) => a === 's3:GetObject' || a === 's3:ListBucket'));
    expect(reads.map((st: any) => st.Action)).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(JSON.stringify(reads[0].Resource)).toMatch(/\/raw\/weather\/weather\/\*"/);
    expect(reads[1].Condition).toEqual({ StringLike: { 's3:prefix': ['raw/weather/weather/*'] } });
  });

  test('alarms: CDC latency per source at the configured threshold, failed and dead-lettered pulls; DMS state changes alerted', () => {
    const m = templates.monitoring;
    const alarms = Object.values(resourcesOf(m, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    for (const name of Object.keys(dms.sources)) {
      for (const side of ['source', 'target']) {
        const alarm = alarms.find((a) => a.AlarmName === `${config.resourcePrefix}-dms-${name.replace('_', '-')}-cdc-latency-${side}`)!;
        expect(alarm.Threshold).toBe(config.monitoring.dmsCdcLatencySeconds);
        expect(alarm.EvaluationPeriods).toBe(3);
      }
    }
    expect(alarms.map((a) => a.AlarmName)).toEqual(
      expect.arrayContaining([`${config.resourcePrefix}-weather-pull-errors`, `${config.resourcePrefix}-weather-pull-dead-letters`]),
    );
    for (const [name, metric] of [['weather-pull-hours-missing', 'HoursMissing'], ['weather-pull-rows-quarantined', 'RowsQuarantined'], ['sensor-pull-readings-quarantined', 'ReadingsQuarantined']]) {
      expect(alarms.find((a) => a.AlarmName === `${config.resourcePrefix}-${name}`)).toMatchObject({
        Namespace: 'TelemetryLakehouse',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: name.split('-').slice(0, 2).join('-') }],
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
    const rules = Object.values(resourcesOf(m, 'AWS::Events::Rule')).map((r) => r.Properties.EventPattern);
    // each source's replication, and the registry's change stream (registry stack)
    expect(rules.filter((p) => p.source?.[0] === 'aws.dms')).toHaveLength(Object.keys(dms.sources).length + 1);
    expect(rules[0]['detail-type']).toEqual(['DMS Replication State Change']);
  });
});

describe('ingestion options and configuration errors', () => {
  test('a provisioned replication instance is never publicly accessible', () => {
    const provisioned = (c: EnvironmentConfig): EnvironmentConfig => ({
      ...c,
      ingestion: { ...c.ingestion, dms: { ...c.ingestion.dms, capacity: { mode: 'provisioned', instanceClass: 'dms.r6i.large', allocatedStorageGb: 100, multiAz: true } } },
    });
    const { templates } = synthesize('staging', provisioned);
    const t = templates.ingestion;
    t.resourceCountIs('AWS::DMS::ReplicationConfig', 0);
    t.resourceCountIs('AWS::DMS::ReplicationInstance', 2);
    t.hasResourceProperties('AWS::DMS::ReplicationInstance', { PubliclyAccessible: false, ReplicationInstanceClass: 'dms.r6i.large', MultiAZ: true });
    t.hasResourceProperties('AWS::DMS::ReplicationTask', { MigrationType: 'full-load-and-cdc', ResourceIdentifier: 'tlh-stg-crm-to-raw' });
    const rules = Object.values(resourcesOf(templates.monitoring, 'AWS::Events::Rule')).map((r) => r.Properties.EventPattern['detail-type']);
    expect(rules).toContainEqual(['DMS Replication Task State Change']);
  });

  test('a table mapped to a dataset DMS does not write fails synth naming the field', () => {
    const wrong = (c: EnvironmentConfig): EnvironmentConfig => ({
      ...c,
      ingestion: {
        ...c.ingestion,
        dms: { ...c.ingestion.dms, sources: { ...c.ingestion.dms.sources, crm: { ...c.ingestion.dms.sources.crm, tables: [{ schema: 'public', table: 'weather', dataset: 'weather' }] } } },
      },
    });
    expect(() => synthesize('dev', wrong)).toThrow(ConfigError);
    expect(() => synthesize('dev', wrong)).toThrow(/ingestion\.dms\.sources\.crm\.tables\.0\.dataset: dataset weather belongs to source weather, not crm/);
  });

  test('table mappings rename schema and table so files land under raw/<source>/<dataset>/', () => {
    expect(tableMappingsFor('legacy_sql', [{ schema: 'dbo', table: 'Shipments', dataset: 'shipments' }]).rules).toEqual([
      expect.objectContaining({ 'rule-type': 'selection', 'object-locator': { 'schema-name': 'dbo', 'table-name': 'Shipments' }, 'rule-action': 'include' }),
      expect.objectContaining({ 'rule-target': 'schema', 'object-locator': { 'schema-name': 'dbo' }, 'rule-action': 'rename', value: 'legacy_sql' }),
      expect.objectContaining({ 'rule-target': 'table', 'object-locator': { 'schema-name': 'dbo', 'table-name': 'Shipments' }, 'rule-action': 'rename', value: 'shipments' }),
    ]);
  });
});
