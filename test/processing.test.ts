import * as fs from 'fs';
import * as path from 'path';
import { warehouseLoadStatements } from '../lib/warehouse-sql';
import { ENVIRONMENTS, resourcesOf, synthesize } from './helpers/platform';

describe.each(ENVIRONMENTS)('processing (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.processing;
  const prefix = config.resourcePrefix;
  const db = prefix.replace(/-/g, '_');
  const jobs = Object.values(resourcesOf(t, 'AWS::Glue::Job')).map((j) => j.Properties);
  const job = (name: string) => jobs.find((j) => j.Name === `${prefix}-${name}`)!;

  test('eight Glue 5.1 jobs with Iceberg, metrics, continuous logs, auto scaling and the security configuration', () => {
    expect(jobs.map((j) => j.Name).sort()).toEqual(
      ['aggregate-metrics', 'crm-etl', 'device-registry-etl', 'enriched-readings-etl', 'iceberg-maintenance', 'legacy-sql-etl', 'telematics-etl', 'weather-etl'].map((n) => `${prefix}-${n}`),
    );
    for (const j of jobs) {
      expect(j).toMatchObject({ GlueVersion: '5.1', WorkerType: config.processing.workerType, NumberOfWorkers: config.processing.maxWorkers, Timeout: config.processing.jobTimeoutMinutes, MaxRetries: 0 });
      expect(j.Command).toMatchObject({ Name: 'glueetl', PythonVersion: '3' });
      expect(j.DefaultArguments).toMatchObject({
        '--datalake-formats': 'iceberg',
        '--enable-metrics': 'true',
        '--enable-continuous-cloudwatch-log': 'true',
        '--enable-auto-scaling': 'true',
      });
      expect(j.SecurityConfiguration).toEqual({ Ref: expect.stringMatching(/SecurityConfiguration/) });
      expect(JSON.stringify(j.Role)).toMatch(/AccessEtl/);
    }
  });

  test('each job reads its dataset and writes its table', () => {
    expect(job('crm-etl').DefaultArguments).toMatchObject({ '--dataset': 'customers', '--table': `lake.${db}_processed.customers` });
    expect(JSON.stringify(job('crm-etl').DefaultArguments['--raw_path'])).toContain('/raw/crm/customers/{day}/');
    expect(job('legacy-sql-etl').DefaultArguments).toMatchObject({ '--dataset': 'shipments', '--table': `lake.${db}_processed.shipments` });
    expect(JSON.stringify(job('telematics-etl').DefaultArguments['--raw_path'])).toContain('/raw/iot/telematics/ingest_date={day}/');
    expect(job('device-registry-etl').DefaultArguments).toMatchObject({ '--dataset': 'device_updates', '--table': `lake.${db}_processed.device_updates` });
    expect(JSON.stringify(job('device-registry-etl').DefaultArguments['--raw_path'])).toContain('/raw/device_registry/device_updates/ingest_date={day}/');
    // The enriched readings' landing (Firehose Parquet, Athena's sensor_readings) into their Iceberg table.
    expect(job('enriched-readings-etl').DefaultArguments).toMatchObject({
      '--dataset': 'sensor_readings_enriched',
      '--table': `lake.${db}_processed.sensor_readings_enriched`,
      '--lateness_horizon_days': String(config.processing.latenessHorizonDays),
    });
    expect(JSON.stringify(job('enriched-readings-etl').DefaultArguments['--landing_path'])).toContain('/processed/sensor_readings/');
    expect(job('weather-etl').DefaultArguments['--cities']).toBe(config.ingestion.weather.cities.map((c) => c.name).join(','));
    // The daily run; a reload of a range passes its first day (glue-scripts/jobs/weather_etl.py).
    expect(job('weather-etl').DefaultArguments['--backfill_from']).toBe('none');
    expect(job('aggregate-metrics').DefaultArguments).toMatchObject({
      '--processed_database': `${db}_processed`,
      '--metrics_table': `lake.${db}_aggregated.telemetry_metrics`,
      '--lateness_horizon_days': String(config.processing.latenessHorizonDays),
      '--backfill_from': 'none',
    });
    // the six processed tables, the jobs' own state tables beside them (CDC deletes and versions,
    // the telematics vehicle-days, the ledgers of dates), the KPI, the intervals and the ledger of recomputed dates
    expect(job('iceberg-maintenance').DefaultArguments['--tables'].split(',')).toEqual([
      ...['customers', 'shipments', 'telematics', 'weather', 'device_updates', 'sensor_readings_enriched'].map((t) => `lake.${db}_processed.${t}`),
      ...['customers__deletes', 'customers__history', 'shipments__deletes', 'telematics__vehicle_days', 'sensor_readings_enriched__landed_dates', 'kpi_changed_dates'].map(
        (t) => `lake.${db}_processed.${t}`,
      ),
      ...['telemetry_metrics', 'fuel_intervals', 'kpi_recomputed_dates'].map((t) => `lake.${db}_aggregated.${t}`),
    ]);
    expect(job('iceberg-maintenance').DefaultArguments['--snapshot_retention_days']).toBe(String(config.processing.snapshotRetentionDays));
  });

  test('the security configuration encrypts S3, CloudWatch Logs and bookmarks with KMS', () => {
    const sec = Object.values(resourcesOf(t, 'AWS::Glue::SecurityConfiguration'))[0].Properties.EncryptionConfiguration;
    expect(sec.S3Encryptions[0].S3EncryptionMode).toBe('SSE-KMS');
    expect(sec.CloudWatchEncryption.CloudWatchEncryptionMode).toBe('SSE-KMS');
    expect(sec.JobBookmarksEncryption.JobBookmarksEncryptionMode).toBe('CSE-KMS');
  });

  test('the daily state machine: sources in parallel, then aggregation, then maintenance beside the warehouse load; retries, catch, ALL logging, X-Ray', () => {
    const sm = Object.values(resourcesOf(t, 'AWS::StepFunctions::StateMachine'))[0].Properties;
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
    const definition = JSON.parse(sm.DefinitionString['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
    const parallel = definition.States.SourceJobs;
    expect(parallel.Type).toBe('Parallel');
    expect(parallel.Branches.map((b: any) => b.StartAt).sort()).toEqual(
      ['crm-etl', 'device-registry-etl', 'enriched-readings-etl', 'legacy-sql-etl', 'telematics-etl', 'weather-etl'].map((n) => `${prefix}-${n}`),
    );
    expect(parallel.Next).toBe(`${prefix}-aggregate-metrics`);
    expect(definition.States[`${prefix}-aggregate-metrics`].Next).toBe('AfterAggregation');
    const after = definition.States.AfterAggregation;
    expect(after.Branches.map((b: any) => b.StartAt)).toEqual([`${prefix}-iceberg-maintenance`, 'WarehouseLoad']);
    expect(after.Next).toBe('Done');
    expect(after.Catch[0].Next).toBe('PipelineFailed');
    expect(parallel.Catch[0].Next).toBe('PipelineFailed');
    const task = parallel.Branches[0].States[parallel.Branches[0].StartAt];
    expect(task.Resource).toContain('glue:startJobRun.sync');
    expect(task.Retry[0]).toMatchObject({ MaxAttempts: 1, BackoffRate: 2 });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: config.processing.schedule });
  });

  test('a backfill input ({from, to}) runs the aggregation over the range, then the warehouse load', () => {
    const sm = Object.values(resourcesOf(t, 'AWS::StepFunctions::StateMachine'))[0].Properties;
    const definition = JSON.parse(sm.DefinitionString['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
    const choice = definition.States.DayGiven;
    expect(choice.Choices[0]).toEqual({ And: [{ Variable: '$.from', IsPresent: true }, { Variable: '$.to', IsPresent: true }], Next: `${prefix}-aggregate-metrics-backfill` });
    expect(choice.Choices[1]).toEqual({ Variable: '$.day', IsPresent: true, Next: 'SourceJobs' });
    const backfill = definition.States[`${prefix}-aggregate-metrics-backfill`];
    expect(backfill.Parameters).toEqual({ JobName: `${prefix}-aggregate-metrics`, Arguments: { '--day.$': '$.to', '--backfill_from.$': '$.from' } });
    expect(backfill.Next).toBe('WarehouseLoadAfterBackfill');
    expect(backfill.Catch[0].Next).toBe('PipelineFailed');
    expect(definition.States.WarehouseLoadAfterBackfill).toMatchObject({ Type: 'Parallel', Next: 'Done', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'PipelineFailed' }] });
  });

  test('the warehouse load: one BatchExecuteStatement of the load SQL, polled to its end, a failure retried then failing the pipeline', () => {
    const sm = Object.values(resourcesOf(t, 'AWS::StepFunctions::StateMachine'))[0].Properties;
    const definition = JSON.parse(sm.DefinitionString['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
    const load = definition.States.AfterAggregation.Branches[1].States.WarehouseLoad;
    expect(load.Retry).toEqual([{ ErrorEquals: ['WarehouseLoadFailed', 'States.TaskFailed'], MaxAttempts: 2, IntervalSeconds: 120, BackoffRate: 2 }]);
    const states = load.Branches[0].States;
    expect(states.WarehouseLoadStart).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:redshiftdata:batchExecuteStatement',
      Parameters: { WorkgroupName: `${prefix}-warehouse`, Database: config.warehouse.databaseName, Sqls: warehouseLoadStatements() },
      Next: 'WarehouseLoadWait',
    });
    expect(states.WarehouseLoadStart.Parameters).not.toHaveProperty('SecretArn');
    expect(states.WarehouseLoadDescribe).toMatchObject({ Resource: 'arn:aws:states:::aws-sdk:redshiftdata:describeStatement', Parameters: { 'Id.$': '$.warehouseLoad.Id' }, Next: 'WarehouseLoadEnded' });
    expect(states.WarehouseLoadEnded.Choices).toEqual([
      { Variable: '$.warehouseLoad.Status', StringEquals: 'FINISHED', Next: 'WarehouseLoadLoaded' },
      { Or: [{ Variable: '$.warehouseLoad.Status', StringEquals: 'FAILED' }, { Variable: '$.warehouseLoad.Status', StringEquals: 'ABORTED' }], Next: 'WarehouseLoadFailed' },
    ]);
    expect(states.WarehouseLoadEnded.Default).toBe('WarehouseLoadWait');
    expect(states.WarehouseLoadFailed).toMatchObject({ Type: 'Fail', Error: 'WarehouseLoadFailed', CausePath: 'States.JsonToString($.warehouseLoad.Described)' });
  });

  test("the state machine's role runs statements on the warehouse's workgroup only, looks only at its own, and signs in as warehouse_loader", () => {
    const role = Object.entries(resourcesOf(t, 'AWS::IAM::Role')).find(([id]) => id.startsWith('OrchestrationStateMachineRole'))!;
    expect(role[1].Properties.Tags).toContainEqual({ Key: 'RedshiftDbRoles', Value: 'warehouse_loader' });
    const statements = Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role[0]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const redshift = statements.filter((s: any) => JSON.stringify(s.Action).includes('redshift'));
    expect(redshift).toHaveLength(2);
    expect(redshift[0].Action).toEqual(['redshift-data:BatchExecuteStatement', 'redshift-serverless:GetCredentials']);
    expect(JSON.stringify(redshift[0].Resource)).toContain('WorkgroupWorkgroupArn');
    expect(redshift[1]).toMatchObject({
      Action: ['redshift-data:DescribeStatement', 'redshift-data:GetStatementResult'],
      Resource: '*',
      Condition: { StringLike: { 'redshift-data:statement-owner-iam-userid': { 'Fn::Join': ['', [{ 'Fn::GetAtt': [role[0], 'RoleId'] }, ':*']] } } },
    });
  });

  test('KPI dates changed beyond the lateness horizon page someone', () => {
    const alarm = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .find((a) => a.AlarmName === `${prefix}-kpi-dates-beyond-horizon`)!;
    expect(alarm).toMatchObject({
      Namespace: 'TelemetryLakehouse/Glue',
      MetricName: 'dates_beyond_horizon',
      Dimensions: [{ Name: 'Dataset', Value: 'telemetry_metrics' }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.AlarmDescription).toContain(`(${config.processing.latenessHorizonDays} days)`);
    expect(alarm.AlarmActions).toHaveLength(1);
  });

  test('a raw object a job could not read pages someone, for every dataset whose job reads raw objects', () => {
    const alarms = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .filter((a) => a.MetricName === 'unreadable_objects');
    // the source jobs that read raw objects (lib/registry RAW_READING_PIPELINES): not the landed job, which reads the Flink landing
    expect(alarms.map((a) => a.Dimensions[0].Value).sort()).toEqual(['customers', 'device_updates', 'shipments', 'telematics', 'weather']);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({ Namespace: 'TelemetryLakehouse/Glue', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(alarm.AlarmName).toBe(`${prefix}-unreadable-raw-objects-${alarm.Dimensions[0].Value.replace(/_/g, '-')}`);
      expect(alarm.AlarmDescription).toContain(`quarantine/${alarm.Dimensions[0].Value}/unreadable_objects/`);
      expect(alarm.AlarmActions).toHaveLength(1);
    }
  });

  test('a data-quality ruleset per processed table, derived from its contract', () => {
    const rulesets = Object.values(resourcesOf(t, 'AWS::Glue::DataQualityRuleset')).map((r) => r.Properties);
    expect(rulesets.map((r) => r.TargetTable.TableName).sort()).toEqual(['customers', 'device_updates', 'sensor_readings_enriched', 'shipments', 'telematics', 'weather']);
    const weather = rulesets.find((r) => r.TargetTable.TableName === 'weather')!;
    expect(weather.TargetTable.DatabaseName).toBe(`${db}_processed`);
    expect(weather.Ruleset).toMatch(/^Rules = \[\n    IsPrimaryKey "city" "observation_hour",/);
  });

  test('failed jobs and failed executions alert through the monitoring stack', () => {
    const patterns = Object.values(resourcesOf(templates.monitoring, 'AWS::Events::Rule')).map((r) => r.Properties.EventPattern);
    const glueRule = patterns.find((p) => p.source?.[0] === 'aws.glue')!;
    expect(glueRule.detail.state).toEqual(['FAILED', 'TIMEOUT', 'ERROR']);
    expect(glueRule.detail.jobName).toHaveLength(8);
    const sfnRule = patterns.find((p) => p.source?.[0] === 'aws.states')!;
    expect(sfnRule.detail.status).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
  });

  test('the named queries are the KPI catalogue (queries/), with positional parameters, on the aggregated database, in the workgroup', () => {
    const queries = Object.values(resourcesOf(t, 'AWS::Athena::NamedQuery')).map((q) => q.Properties);
    const files = fs.readdirSync(path.join(__dirname, '..', 'queries')).filter((f) => f.endsWith('.sql')).sort();
    expect(queries).toHaveLength(files.length);
    const byName = new Map(queries.map((q) => [q.Name, q]));
    for (const file of files) {
      const query = byName.get(`${prefix}-${file.replace(/\.sql$/, '').replace(/_/g, '-')}`);
      expect(query).toMatchObject({ Database: `${db}_aggregated`, WorkGroup: `${prefix}-analytics` });
      expect(query.QueryString).not.toMatch(/:[a-z]/);
    }
    const byCity = byName.get(`${prefix}-fuel-by-city`);
    expect(byCity.QueryString).toContain("WHERE metric_date BETWEEN CAST(? AS date) AND CAST(? AS date)\n  AND (? = '' OR city = ?)");
    expect(byCity.Description).toBe(
      'Fuel consumption by city: a ratio of sums, never an average of ratios. Parameters: from (date), to (date), city (string, optional); ' +
        "the console asks for them in this order: from, to, city, city ('' for an absent optional one).",
    );
  });
});
