import { validateConfig } from '../lib/config';
import { loadConfig } from '../lib/config';
import { registryMigrations } from '../lib/registry-sql';
import { ENVIRONMENTS, resourcesOf, synthesize } from './helpers/platform';

describe.each(ENVIRONMENTS)('the device registry (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.registry;
  const prefix = config.resourcePrefix;
  const cluster = Object.values(resourcesOf(t, 'AWS::RDS::DBCluster'))[0];
  const instances = Object.values(resourcesOf(t, 'AWS::RDS::DBInstance')).map((i) => i.Properties);
  const registryKey = /PublishOutputFnGetAttKeysregistry/;

  test('Aurora PostgreSQL Serverless v2 of the configured version and capacity, in the isolated subnets, never public', () => {
    const p = cluster.Properties;
    expect(p).toMatchObject({
      Engine: 'aurora-postgresql',
      EngineVersion: config.registry.engineVersion,
      DBClusterIdentifier: `${prefix}-registry`,
      DatabaseName: config.registry.databaseName,
      ServerlessV2ScalingConfiguration: { MinCapacity: config.registry.minAcu, MaxCapacity: config.registry.maxAcu },
      Port: 5432,
    });
    expect(instances).toHaveLength(1 + config.registry.readers);
    for (const i of instances) expect(i).toMatchObject({ DBInstanceClass: 'db.serverless', PubliclyAccessible: false, EnablePerformanceInsights: true });
    const subnets = Object.values(resourcesOf(t, 'AWS::RDS::DBSubnetGroup'))[0].Properties.SubnetIds;
    expect(subnets).toHaveLength(config.network.availabilityZoneCount);
    for (const s of subnets) expect(JSON.stringify(s)).toMatch(/VpcisolatedSubnet/);
  });

  test("encrypted with the registry's own key: storage, the master secret RDS keeps, Performance Insights", () => {
    const p = cluster.Properties;
    expect(p.StorageEncrypted).toBe(true);
    expect(JSON.stringify(p.KmsKeyId)).toMatch(registryKey);
    expect(p.ManageMasterUserPassword).toBe(true);
    expect(p).not.toHaveProperty('MasterUserPassword');
    expect(JSON.stringify(p.MasterUserSecret.KmsKeyId)).toMatch(registryKey);
    for (const i of instances) expect(JSON.stringify(i.PerformanceInsightsKMSKeyId)).toMatch(registryKey);
    expect(Object.values(resourcesOf(t, 'AWS::SecretsManager::Secret'))).toHaveLength(0); // no secret of ours in a template
  });

  test('IAM authentication and the Data API; TLS forced and logical replication on for DMS', () => {
    expect(cluster.Properties).toMatchObject({ EnableIAMDatabaseAuthentication: true, EnableHttpEndpoint: true });
    const parameters = Object.values(resourcesOf(t, 'AWS::RDS::DBClusterParameterGroup'))[0].Properties;
    expect(parameters.Family).toBe(`aurora-postgresql${config.registry.engineVersion.split('.')[0]}`);
    expect(parameters.Parameters).toMatchObject({ 'rds.force_ssl': '1', 'rds.logical_replication': '1' });
  });

  test('PostgreSQL logs exported to an encrypted, retained group made before the cluster', () => {
    expect(cluster.Properties.EnableCloudwatchLogsExports).toEqual(['postgresql']);
    const [groupId, group] = Object.entries(resourcesOf(t, 'AWS::Logs::LogGroup')).find(([, g]) => g.Properties.LogGroupName === `/aws/rds/cluster/${prefix}-registry/postgresql`)!;
    expect(group.Properties.KmsKeyId).toBeDefined();
    expect(group.Properties.RetentionInDays).toBe(config.monitoring.logRetentionDays);
    expect((cluster as any).DependsOn).toContain(groupId);
  });

  test('backups kept per environment; deletion protection and a final snapshot outside dev', () => {
    const days = { dev: 7, staging: 14, prod: 35 }[envName];
    expect(cluster.Properties.BackupRetentionPeriod).toBe(days);
    expect(cluster.Properties.DeletionProtection).toBe(envName !== 'dev');
    if (envName !== 'dev') expect([cluster.DeletionPolicy, cluster.UpdateReplacePolicy]).toEqual(['Snapshot', 'Snapshot']);
  });

  test('the security group admits nobody by default and sends nothing out', () => {
    const sg = Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroup'))[0].Properties;
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })]);
    expect(Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroupIngress'))).toHaveLength(0);
  });

  test("migrations at deploy: every registry migration's statements, applied as the master through the Data API after the writer is up", () => {
    const [, resource] = Object.entries(resourcesOf(t, 'Custom::RegistryMigrations'))[0];
    const expected = registryMigrations().map((m) => ({ Version: m.version, Statements: m.statements }));
    expect(resource.Properties.Migrations).toEqual(expected);
    expect(resource.Properties.Database).toBe(config.registry.databaseName);
    expect(resource.Properties.SecretArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RegistryCluster/), 'MasterUserSecret.SecretArn'] });
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^RegistryClusterWriter/)]));
    const statements = Object.entries(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('MigrationsFunction'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const dataApi = statements.find((s: any) => JSON.stringify(s.Action).includes('rds-data'));
    expect(dataApi.Action).toEqual(['rds-data:BeginTransaction', 'rds-data:CommitTransaction', 'rds-data:ExecuteStatement', 'rds-data:RollbackTransaction']);
    expect(JSON.stringify(dataApi.Resource)).toMatch(/:cluster:.*RegistryCluster/);
    const secret = statements.find((s: any) => s.Action === 'secretsmanager:GetSecretValue');
    expect(secret.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RegistryCluster/), 'MasterUserSecret.SecretArn'] });
  });

  test('alarms: CPU, connections, memory, and the replication slot DMS reads', () => {
    const alarms = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties).filter((a) => a.AlarmName.startsWith(`${prefix}-registry-`));
    expect(alarms.map((a) => [a.AlarmName.slice(prefix.length + 1), a.MetricName]).sort()).toEqual([
      ['registry-connections-high', 'DatabaseConnections'],
      ['registry-cpu-high', 'CPUUtilization'],
      ['registry-memory-low', 'FreeableMemory'],
      ['registry-replication-slot-lag', 'OldestLogicalReplicationSlotLag'],
    ]);
    for (const a of alarms) {
      expect(a.Namespace).toBe('AWS/RDS');
      expect(a.Dimensions).toEqual([{ Name: 'DBInstanceIdentifier', Value: `${prefix}-registry-writer` }]);
      expect(a.AlarmActions).toHaveLength(1);
    }
  });
});

describe('the registry configuration', () => {
  const variant = (envName: 'dev' | 'staging' | 'prod', change: (c: any) => void) => {
    const copy = JSON.parse(JSON.stringify(loadConfig(envName)));
    change(copy);
    return copy;
  };

  test('only dev may turn deletion protection off', () => {
    expect(() => validateConfig('dev', variant('dev', (c) => (c.registry.deletionProtection = false)))).not.toThrow();
    expect(() => validateConfig('staging', variant('staging', (c) => (c.registry.deletionProtection = false)))).toThrow(
      /registry\.deletionProtection: only dev may turn the registry's deletion protection off/,
    );
  });

  test('capacity in half ACUs, the minimum under the maximum; a version is major.minor', () => {
    expect(() => validateConfig('dev', variant('dev', (c) => Object.assign(c.registry, { minAcu: 1.5, maxAcu: 2 })))).not.toThrow();
    expect(() => validateConfig('dev', variant('dev', (c) => (c.registry.minAcu = 0.3)))).toThrow(/registry\.minAcu: must be a multiple of 0\.5 ACU/);
    expect(() => validateConfig('dev', variant('dev', (c) => Object.assign(c.registry, { minAcu: 8, maxAcu: 4 })))).toThrow(/registry\.minAcu: minAcu must not exceed maxAcu/);
    expect(() => validateConfig('dev', variant('dev', (c) => (c.registry.engineVersion = '17')))).toThrow(/registry\.engineVersion: must be major\.minor/);
    expect(() => validateConfig('dev', variant('dev', (c) => (c.registry.adminUsername = 'postgres')))).toThrow(/registry\.adminUsername: reserved by PostgreSQL or RDS/);
  });
});
