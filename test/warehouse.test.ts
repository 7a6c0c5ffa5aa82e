import { loadConfig } from '../lib/config';
import { environmentConfigSchema } from '../lib/config/schema';
import { warehouseSubnetCidrs } from '../lib/constructs/platform-network';
import { warehouseMigrations } from '../lib/warehouse-sql';
import { egressOf, ENVIRONMENTS, joinedText, resourcesOf, synthesize } from './helpers/platform';

/** The warehouse stack as deployed: the namespace, the workgroup, their network and role, the usage limit, the audit logs. */
describe.each(ENVIRONMENTS)('warehouse (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.warehouse;
  const only = (type: string) => {
    const all = Object.values(resourcesOf(t, type));
    expect(all).toHaveLength(1);
    return all[0];
  };
  const namespace = only('AWS::RedshiftServerless::Namespace');
  const workgroup = only('AWS::RedshiftServerless::Workgroup');

  test('the namespace: its own key, a password Secrets Manager keeps, the audit logs exported, the lake-reading role', () => {
    const p = namespace.Properties;
    expect(p).toMatchObject({ NamespaceName: `${config.resourcePrefix}-warehouse`, DbName: config.warehouse.databaseName, AdminUsername: config.warehouse.adminUsername, ManageAdminPassword: true });
    expect(p.AdminUserPassword).toBeUndefined();
    for (const key of [p.KmsKeyId, p.AdminPasswordSecretKmsKeyId]) expect(JSON.stringify(key)).toContain('Keyswarehouse');
    expect(p.LogExports).toEqual(['connectionlog', 'userlog', 'useractivitylog']);
    expect(JSON.stringify(p.IamRoles)).toContain('WarehouseNamespaceRole');
    expect(JSON.stringify(p.DefaultIamRoleArn)).toContain('WarehouseNamespaceRole');
    expect(namespace.DeletionPolicy).toBe(envName === 'dev' ? 'Delete' : 'Retain');
  });

  test('the workgroup: its own isolated subnets in three zones, private, enhanced VPC routing, TLS required, activity logged, capacity from config', () => {
    const p = workgroup.Properties;
    expect(p).toMatchObject({
      BaseCapacity: config.warehouse.baseRpu,
      MaxCapacity: config.warehouse.maxRpu,
      EnhancedVpcRouting: true,
      PubliclyAccessible: false,
      Port: 5439,
      ConfigParameters: [
        { ParameterKey: 'require_ssl', ParameterValue: 'true' },
        { ParameterKey: 'enable_user_activity_logging', ParameterValue: 'true' },
      ],
    });
    expect(p.SubnetIds).toHaveLength(3);
    for (const subnet of p.SubnetIds) expect(JSON.stringify(subnet)).toMatch(/NetworkWarehouseSubnet\d/);
  });

  test('the security group admits nobody by default and sends only HTTPS to the endpoints', () => {
    const [groupId, group] = Object.entries(resourcesOf(t, 'AWS::EC2::SecurityGroup'))[0];
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    // The interface endpoints' group (Glue's catalog for Spectrum) and S3's prefix list (Spectrum's and COPY's reads).
    const egress = egressOf(t, groupId);
    expect(egress).toHaveLength(2);
    for (const rule of egress) expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    expect(JSON.stringify(egress[0].DestinationSecurityGroupId)).toContain('NetworkEndpointSecurityGroup');
    expect(JSON.stringify(egress[1].DestinationPrefixListId)).toContain('NetworkS3PrefixList');
  });

  test('the namespace role reads the processed and aggregated zones and their keys, nothing in raw', () => {
    const role = Object.entries(resourcesOf(t, 'AWS::IAM::Role')).find(([id]) => id.includes('NamespaceRole'))![1].Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal.Service.sort()).toEqual(['redshift-serverless.amazonaws.com', 'redshift.amazonaws.com']);
    const statements = Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('NamespaceRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const text = JSON.stringify(statements);
    expect(text).not.toMatch(/raw/i);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => !/^(s3:(Get|List)|kms:(Decrypt|DescribeKey)|glue:(Get|BatchGet))/.test(a))).toEqual([]);
    const kms = statements.filter((s) => JSON.stringify(s.Action).includes('kms:Decrypt'));
    expect(kms.map((s) => JSON.stringify(s.Resource)).join(' ')).toMatch(/Keysprocessed/);
    expect(kms.map((s) => JSON.stringify(s.Resource)).join(' ')).toMatch(/Keysaggregated/);
    const glue = statements.filter((s) => JSON.stringify(s.Action).includes('glue:')).flatMap((s) => [s.Resource].flat().map(joinedText));
    const db = config.resourcePrefix.replace(/-/g, '_');
    expect(glue.filter((r: string) => /:database\//.test(r)).map((r: string) => r.split('database/')[1]).sort()).toEqual([`${db}_aggregated`, `${db}_processed`]);
  });

  test('a usage limit on the workgroup with the breach action from config, set at deploy and removed with the stack', () => {
    const limit = only('Custom::RedshiftServerlessUsageLimit').Properties;
    const create = JSON.parse(joinedText(limit.Create));
    expect(create).toMatchObject({ service: 'redshift-serverless', action: 'CreateUsageLimit', parameters: { usageType: 'serverless-compute', amount: config.warehouse.usageLimit.rpuHours, period: 'daily', breachAction: 'emit-metric' } });
    expect(JSON.parse(joinedText(limit.Delete))).toMatchObject({ action: 'DeleteUsageLimit' });
  });

  test('every log group is encrypted with the logs key and retained as configured', () => {
    for (const g of Object.values(resourcesOf(t, 'AWS::Logs::LogGroup'))) {
      expect(JSON.stringify(g.Properties.KmsKeyId)).toContain('Keyslogs');
      expect(g.Properties.RetentionInDays).toBe(config.monitoring.logRetentionDays);
    }
  });

  test('the three audit log groups exist before the namespace, encrypted with the logs key and retained as configured', () => {
    const groups = Object.values(resourcesOf(t, 'AWS::Logs::LogGroup'))
      .map((g) => g.Properties)
      .filter((g) => typeof g.LogGroupName === 'string' && g.LogGroupName.startsWith('/aws/redshift/'));
    expect(groups.map((g) => g.LogGroupName).sort()).toEqual(['/aws/redshift/serverless/connectionlog', '/aws/redshift/serverless/useractivitylog', '/aws/redshift/serverless/userlog']);
    for (const g of groups) {
      expect(JSON.stringify(g.KmsKeyId)).toContain('Keyslogs');
      expect(g.RetentionInDays).toBe(config.monitoring.logRetentionDays);
    }
    expect((namespace as unknown as { DependsOn: string[] }).DependsOn.filter((d) => d.includes('AuditLog'))).toHaveLength(3);
  });
});

describe.each(ENVIRONMENTS)('warehouse migrations and load (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.warehouse;
  const migrations = Object.values(resourcesOf(t, 'Custom::WarehouseMigrations'))[0];
  const roleStatements = (rolePrefix: string) => {
    const roleId = Object.keys(resourcesOf(t, 'AWS::IAM::Role')).find((id) => id.startsWith(rolePrefix))!;
    return Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  };

  test("every migration of warehouse/migrations, Redshift's selection, rendered with the stack's names, run after the workgroup exists", () => {
    const p = migrations.Properties;
    expect(p).toMatchObject({ WorkgroupName: `${config.resourcePrefix}-warehouse`, Database: config.warehouse.databaseName });
    expect(p.SecretArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^WarehouseAdminSecret/), 'namespace.adminPasswordSecretArn'] });
    expect(p.Migrations.map((m: { Version: string }) => m.Version)).toEqual(warehouseMigrations('redshift', { processed_database: 'p', aggregated_database: 'a', namespace_role_arn: 'r' }).map((m) => m.version));
    const staging = p.Migrations[1].Statements.map(joinedText);
    const db = config.resourcePrefix.replace(/-/g, '_');
    expect(staging[0]).toContain(`FROM DATA CATALOG DATABASE '${db}_processed' IAM_ROLE '`);
    expect(JSON.stringify(p.Migrations[1].Statements[0])).toContain('WarehouseNamespaceRole');
    expect((migrations as unknown as { DependsOn: string[] }).DependsOn).toContainEqual(expect.stringMatching(/^WarehouseWorkgroup/));
  });

  test('the admin secret is read from the namespace at deploy (GetNamespace on that namespace only)', () => {
    const call = Object.values(resourcesOf(t, 'Custom::RedshiftServerlessAdminSecret'))[0].Properties;
    expect(JSON.parse(joinedText(call.Create))).toMatchObject({ service: 'redshift-serverless', action: 'GetNamespace', parameters: { namespaceName: `${config.resourcePrefix}-warehouse` }, outputPaths: ['namespace.adminPasswordSecretArn'] });
    const policy = Object.entries(resourcesOf(t, 'AWS::IAM::Policy')).find(([id]) => id.startsWith('WarehouseAdminSecretCustomResourcePolicy'))![1];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{ Action: 'redshift-serverless:GetNamespace', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^WarehouseNamespace/), 'Namespace.NamespaceArn'] } }]);
  });

  test("the migrations function may run statements on this workgroup, read its own statements, the admin secret and the warehouse key's decryption, nothing more of Redshift", () => {
    const statements = roleStatements('MigrationsFunctionRole');
    const warehouseRelated = statements.filter((s: any) => /redshift|secretsmanager|kms/.test(JSON.stringify(s.Action)));
    expect(warehouseRelated).toEqual([
      { Action: ['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^WarehouseWorkgroup/), 'Workgroup.WorkgroupArn'] } },
      {
        Action: ['redshift-data:DescribeStatement', 'redshift-data:GetStatementResult'],
        Effect: 'Allow',
        Resource: '*',
        Condition: { StringLike: { 'redshift-data:statement-owner-iam-userid': { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^MigrationsFunctionRole/), 'RoleId'] }, ':*']] } } },
      },
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^WarehouseAdminSecret/), 'namespace.adminPasswordSecretArn'] } },
      { Action: 'kms:Decrypt', Effect: 'Allow', Resource: expect.anything() },
    ]);
    expect(JSON.stringify(warehouseRelated[3].Resource)).toContain('Keyswarehouse');
  });

  test("a day's compute above 80% of the usage limit's daily share alerts on-call", () => {
    const alarm = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .find((a) => a.AlarmName === `${config.resourcePrefix}-warehouse-compute-near-limit`)!;
    const days = { daily: 1, weekly: 7, monthly: 31 }[config.warehouse.usageLimit.period];
    expect(alarm).toMatchObject({
      Namespace: 'AWS/Redshift-Serverless',
      MetricName: 'ComputeSeconds',
      Dimensions: [{ Name: 'Workgroup', Value: `${config.resourcePrefix}-warehouse` }],
      Statistic: 'Sum',
      Period: 86400,
      Threshold: Math.round((config.warehouse.usageLimit.rpuHours * 3600 * 0.8) / days),
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm.AlarmActions).toHaveLength(1);
  });
});

describe('warehouse configuration', () => {
  test('groups named in config are admitted on 5439, and only they', () => {
    const { templates } = synthesize('dev', (c) => ({ ...c, warehouse: { ...c.warehouse, admitSecurityGroupIds: ['sg-0123456789abcdef0'] } }));
    const group = Object.values(resourcesOf(templates.warehouse, 'AWS::EC2::SecurityGroup')).map((g) => g.Properties).find((g) => g.GroupDescription.includes('Redshift from'))!;
    expect(group.SecurityGroupIngress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 5439, ToPort: 5439, SourceSecurityGroupId: 'sg-0123456789abcdef0' })]);
  });

  test('switched off, there is no warehouse stack and no warehouse subnet', () => {
    const { platform, templates } = synthesize('dev', (c) => ({ ...c, warehouse: { ...c.warehouse, enabled: false } }));
    expect(platform.warehouse).toBeUndefined();
    expect(templates.warehouse).toBeUndefined();
    expect(Object.keys(resourcesOf(templates.network, 'AWS::EC2::Subnet')).filter((id) => id.includes('Warehouse'))).toEqual([]);
    // The daily pipeline goes from the aggregation to maintenance alone, and its role has no Redshift access.
    const sm = Object.values(resourcesOf(templates.processing, 'AWS::StepFunctions::StateMachine'))[0].Properties;
    const definition = JSON.parse(sm.DefinitionString['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
    expect(definition.States[`${platform.processing.config.resourcePrefix}-aggregate-metrics`].Next).toBe(`${platform.processing.config.resourcePrefix}-iceberg-maintenance`);
    expect(JSON.stringify(definition)).not.toContain('redshiftdata');
    expect(JSON.stringify(resourcesOf(templates.processing, 'AWS::IAM::Policy'))).not.toContain('redshift');
  });

  test("the warehouse's subnets take the VPC's last /24, which no VPC tier reaches", () => {
    expect(warehouseSubnetCidrs('10.10.0.0/20')).toEqual(['10.10.15.0/26', '10.10.15.64/26', '10.10.15.128/26']);
    expect(warehouseSubnetCidrs('10.30.0.0/19')).toEqual(['10.30.31.0/26', '10.30.31.64/26', '10.30.31.128/26']);
    expect(() => warehouseSubnetCidrs('10.0.0.0/24')).toThrow('a VPC of /23 or larger');
  });

  test('capacity in steps of 8 RPU, base not above maximum; no reserved user name', () => {
    const dev = loadConfig('dev');
    const problems = (override: object) => {
      const result = environmentConfigSchema.safeParse({ ...dev, ...override });
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({})).toEqual([]);
    expect(problems({ warehouse: { ...dev.warehouse, baseRpu: 12 } })).toEqual(['warehouse.baseRpu: must be a multiple of 8 RPU']);
    expect(problems({ warehouse: { ...dev.warehouse, baseRpu: 128, maxRpu: 64 } })).toEqual(['warehouse.baseRpu: baseRpu must not exceed maxRpu']);
    expect(problems({ warehouse: { ...dev.warehouse, adminUsername: 'admin' } })).toEqual(['warehouse.adminUsername: Redshift reserves "admin"']);
  });
});
