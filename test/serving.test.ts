import { spawnSync } from 'child_process';
import * as path from 'path';
import { EnvironmentConfig } from '../lib/config';
import { ENVIRONMENTS, joinedText, resourcesOf, synthesize } from './helpers/platform';

/** The KPI API as deployed: authorisation, validation, throttling, logging, tracing, grants; WAF, Cognito and the quota where config enables them. */
describe.each(ENVIRONMENTS)('the KPI API (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.serving;
  const methods = Object.values(resourcesOf(t, 'AWS::ApiGateway::Method')).map((m) => m.Properties);
  const stage = Object.values(resourcesOf(t, 'AWS::ApiGateway::Stage'))[0].Properties;

  test('five GET routes (the KPIs, a query, the alerts), each authorised by IAM (SigV4), none with an API key unless a quota is set', () => {
    expect(methods.map((m) => m.HttpMethod)).toEqual(['GET', 'GET', 'GET', 'GET', 'GET']);
    for (const m of methods) {
      expect(m.AuthorizationType).toBe('AWS_IAM');
      expect(m.ApiKeyRequired).toBe(false);
      expect(m.RequestValidatorId).toBeDefined();
    }
  });

  test('API Gateway refuses a KPI request without from or to before the function runs', () => {
    const byKpi = methods.find((m) => m.RequestParameters?.['method.request.path.kpi']);
    expect(byKpi!.RequestParameters).toEqual({ 'method.request.path.kpi': true, 'method.request.querystring.from': true, 'method.request.querystring.to': true });
    const validator = Object.values(resourcesOf(t, 'AWS::ApiGateway::RequestValidator'))[0].Properties;
    expect(validator.ValidateRequestParameters).toBe(true);
  });

  test('the stage: regional, traced, throttled from config, every request in an encrypted access log', () => {
    expect(Object.values(resourcesOf(t, 'AWS::ApiGateway::RestApi'))[0].Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
    expect(stage.StageName).toBe('v1');
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: config.serving.api.throttle.rateLimit, ThrottlingBurstLimit: config.serving.api.throttle.burstLimit }),
    ]);
    expect(stage.AccessLogSetting.Format).toContain('"requestId":"$context.requestId"');
    const accessLogs = Object.values(resourcesOf(t, 'AWS::Logs::LogGroup')).find((g) => g.Properties.LogGroupName === `/aws/apigateway/${config.resourcePrefix}-kpi-api/access`);
    expect(accessLogs!.Properties.KmsKeyId).toBeDefined();
  });

  test("API Gateway's own refusals answer JSON with a stable code", () => {
    const responses = Object.values(resourcesOf(t, 'AWS::ApiGateway::GatewayResponse')).map((r) => r.Properties);
    const byType = Object.fromEntries(responses.map((r) => [r.ResponseType, [r.StatusCode, JSON.parse(r.ResponseTemplates['application/json'].replace('$context.error.messageString', '"m"')).code]]));
    expect(byType).toMatchObject({
      BAD_REQUEST_PARAMETERS: ['400', 'MISSING_PARAMETER'],
      ACCESS_DENIED: ['403', 'FORBIDDEN'],
      MISSING_AUTHENTICATION_TOKEN: ['403', 'FORBIDDEN'],
      THROTTLED: ['429', 'THROTTLED'],
      QUOTA_EXCEEDED: ['429', 'QUOTA_EXCEEDED'],
    });
  });

  test('the function reads only the aggregated zone and the results folder, and queries only the workgroup', () => {
    const role = Object.entries(resourcesOf(t, 'AWS::IAM::Role')).find(([, r]) => String(r.Properties.Description).includes('runs KPI queries'))!;
    expect(role[1].Properties.ManagedPolicyArns).toBeUndefined();
    const statements = Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role[0]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const text = JSON.stringify(statements);
    expect(text).toContain('/aggregated/*');
    expect(text).toContain('/athena-results/*');
    for (const forbidden of ['/raw/', '/processed/', '/quarantine/', 's3:DeleteObject', 'glue:Create', 'glue:Update', 'dynamodb:PutItem', 'dynamodb:Scan']) expect(text).not.toContain(forbidden);
    // the alerts: Query on the table and its open-alerts index, nothing else
    const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo.map((s) => s.Action)).toEqual(['dynamodb:Query']);
    expect(JSON.stringify(dynamo[0].Resource)).toContain('/index/open-by-severity');
    const athena = statements.find((s) => [s.Action].flat().includes('athena:StartQueryExecution'));
    expect(joinedText(athena.Resource)).toBe(`arn:aws:athena:${config.region}:TOKEN:workgroup/${config.resourcePrefix}-analytics`);
    const glue = statements.find((s) => [s.Action].flat().includes('glue:GetTable'));
    expect(JSON.stringify(glue.Resource)).toContain(`${config.resourcePrefix.replace(/-/g, '_')}_aggregated`);
    expect(JSON.stringify(glue.Resource)).not.toContain('_processed');
  });

  test('the function is traced, in the private subnets, and told its settings through its schema', () => {
    const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) => f.Properties.FunctionName === `${config.resourcePrefix}-kpi-api`)!.Properties;
    expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
    // the alerts table's name is a reference (operations stack) inside the JSON
    const settings = JSON.parse(joinedText(fn.Environment.Variables.KPI_API_SETTINGS));
    expect(settings).toEqual({
      athena: { workGroup: `${config.resourcePrefix}-analytics`, database: `${config.resourcePrefix.replace(/-/g, '_')}_aggregated`, resultReuseMaxAgeMinutes: 60, bytesScannedCutoff: config.athena.bytesScannedCutoffPerQuery },
      maxRangeDays: 366,
      syncWaitMs: 20_000,
      pageSize: 1000,
      alertsTableName: 'TOKEN',
    });
    expect(fn.Timeout).toBe(28);
    // Its reservation caps what a flood of requests can take from the account's concurrency, and guarantees it that much.
    expect(fn.ReservedConcurrentExecutions).toBe(config.serving.api.reservedConcurrency);
  });

  test('a WAF web ACL guards the stage only where config enables it (prod)', () => {
    const acls = Object.values(resourcesOf(t, 'AWS::WAFv2::WebACL'));
    expect(acls).toHaveLength(envName === 'prod' ? 1 : 0);
    if (envName === 'prod') {
      expect(acls[0].Properties.Rules.map((r: { Name: string }) => r.Name)).toEqual(['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'RateLimitPerIp']);
      expect(Object.values(resourcesOf(t, 'AWS::WAFv2::WebACLAssociation'))).toHaveLength(1);
    }
  });

  test("the web ACL's decisions go to an encrypted log group WAF accepts (aws-waf-logs-*), without the callers' signatures", () => {
    const logging = Object.values(resourcesOf(t, 'AWS::WAFv2::LoggingConfiguration')).map((l) => l.Properties);
    expect(logging).toHaveLength(envName === 'prod' ? 1 : 0);
    if (envName !== 'prod') return;
    const [aclId] = Object.keys(resourcesOf(t, 'AWS::WAFv2::WebACL'));
    expect(logging[0].ResourceArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(logging[0].RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'x-api-key' } }]);
    const destination = joinedText(logging[0].LogDestinationConfigs[0]);
    expect(destination).toMatch(/^arn:aws:logs:eu-west-1:TOKEN:log-group:TOKEN$/);
    const groupId = logging[0].LogDestinationConfigs[0]['Fn::Join'][1].find((p: any) => p.Ref && p.Ref !== 'AWS::AccountId').Ref;
    const group = resourcesOf(t, 'AWS::Logs::LogGroup')[groupId].Properties;
    expect(group.LogGroupName).toMatch(/^aws-waf-logs-/);
    expect(group.KmsKeyId).toBeDefined();
    expect(group.RetentionInDays).toBe(config.monitoring.logRetentionDays);
  });

  test('5xx answers and function errors are alarmed', () => {
    const alarms = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
    expect(alarms).toEqual(expect.arrayContaining([`${config.resourcePrefix}-kpi-api-5xx`, `${config.resourcePrefix}-kpi-api-function-errors`]));
  });
});

describe('where config asks for it: Cognito users and a daily quota', () => {
  const withUsers = (c: EnvironmentConfig): EnvironmentConfig => ({ ...c, serving: { ...c.serving, api: { ...c.serving.api, cognito: { enabled: true }, dailyQuota: 5000 } } });
  // Synthesis runs cdk-nag: this configuration brings no unacknowledged finding either.
  const { templates } = synthesize('staging', withUsers);
  const t = templates.serving;

  test('a user pool with required MFA and no self sign-up authorises every method, with an API key for the quota', () => {
    const pool = Object.values(resourcesOf(t, 'AWS::Cognito::UserPool'))[0].Properties;
    expect(pool.MfaConfiguration).toBe('ON');
    expect(pool.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    for (const m of Object.values(resourcesOf(t, 'AWS::ApiGateway::Method'))) {
      expect(m.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
      expect(m.Properties.ApiKeyRequired).toBe(true);
    }
    const plan = Object.values(resourcesOf(t, 'AWS::ApiGateway::UsagePlan'))[0].Properties;
    expect(plan.Quota).toEqual({ Limit: 5000, Period: 'DAY' });
  });
});

describe('QuickSight, where config enables it', () => {
  const AUTHOR = 'arn:aws:quicksight:eu-west-1:123456789012:group/default/kpi-authors';
  const READER = 'arn:aws:quicksight:eu-west-1:123456789012:user/default/fleet-manager';
  const withQuickSight = (c: EnvironmentConfig): EnvironmentConfig => ({
    ...c,
    bi: { quicksight: { enabled: true, authors: [AUTHOR], readers: [READER], importMode: 'SPICE', refreshTimeUtc: '06:30' } },
  });
  const { templates } = synthesize('dev', withQuickSight);
  const t = templates.serving;
  const one = (type: string) => Object.values(resourcesOf(t, type))[0].Properties;

  test('off by default: no QuickSight resource in any environment', () => {
    for (const envName of ENVIRONMENTS) {
      expect(Object.keys(synthesize(envName).templates.serving.toJSON().Resources).filter((id) => id.includes('Dashboard'))).toEqual([]);
    }
  });

  test('an Athena data source in the platform workgroup, through a role that may query the aggregated zone only', () => {
    const source = one('AWS::QuickSight::DataSource');
    expect(source.Type).toBe('ATHENA');
    expect(source.DataSourceParameters.AthenaParameters.WorkGroup).toBe('tlh-dev-analytics');
    const roleId = source.DataSourceParameters.AthenaParameters.RoleArn['Fn::GetAtt'][0];
    const text = JSON.stringify(Object.values(resourcesOf(t, 'AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId)).map((p) => p.Properties.PolicyDocument));
    expect(text).toContain('/aggregated/*');
    for (const forbidden of ['/raw/', '/processed/', 'tlh_dev_processed']) expect(text).not.toContain(forbidden);
    expect(source.Permissions.map((p: { Principal: string }) => p.Principal)).toEqual([AUTHOR]);
  });

  test('the dataset is telemetry_metrics with the columns the aggregation writes, in SPICE refreshed daily at the configured time', () => {
    const dataSet = one('AWS::QuickSight::DataSet');
    const table = dataSet.PhysicalTableMap.metrics.RelationalTable;
    expect([table.Schema, table.Name, dataSet.ImportMode]).toEqual(['tlh_dev_aggregated', 'telemetry_metrics', 'SPICE']);
    // the columns the Glue job writes, read from its own code
    const PYTHON = path.join(__dirname, '..', '.venv', 'bin', 'python');
    const written = JSON.parse(
      spawnSync(PYTHON, ['-c', 'import json, sys; sys.path.insert(0, "glue-scripts"); from lakehouse.pipelines import METRICS_COLUMNS; print(json.dumps(METRICS_COLUMNS))'], {
        cwd: path.join(__dirname, '..'),
        encoding: 'utf8',
      }).stdout,
    ) as [string, string][];
    const quickSightType: Record<string, string> = { date: 'DATETIME', string: 'STRING', bigint: 'INTEGER', double: 'DECIMAL' };
    expect(table.InputColumns).toEqual(written.map(([name, type]) => ({ Name: name, Type: quickSightType[type] })));
    expect(one('AWS::QuickSight::RefreshSchedule').Schedule).toEqual({
      ScheduleId: 'daily',
      RefreshType: 'FULL_REFRESH',
      ScheduleFrequency: { Interval: 'DAILY', TimeOfTheDay: '06:30', TimeZone: 'UTC' },
    });
  });

  test('the dashboard: fuel per 100 km by city, temperature range, weather condition, segment, and the daily trend; readers may only view', () => {
    const dashboard = one('AWS::QuickSight::Dashboard');
    const visuals = dashboard.Definition.Sheets[0].Visuals;
    expect(visuals.map((v: Record<string, { VisualId: string }>) => Object.values(v)[0].VisualId)).toEqual([
      'fuel-by-city',
      'fuel-by-temp-range',
      'fuel-by-weather-condition',
      'fuel-by-customer-segment',
      'daily-fuel',
    ]);
    expect(JSON.stringify(visuals)).toContain('sum({fuel_l}) * 100 / sum({distance_km})');
    const reader = dashboard.Permissions.find((p: { Principal: string }) => p.Principal === READER);
    expect(reader.Actions).toEqual(['quicksight:DescribeDashboard', 'quicksight:ListDashboardVersions', 'quicksight:QueryDashboard']);
  });
});
