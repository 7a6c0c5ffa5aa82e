import { ENVIRONMENTS, joinedText, resourcesOf, synthesize } from './helpers/platform';

/** The live alerts as deployed: the table, the mapping on the telemetry stream, the function's grants, the alarms and the on-call routing. */
describe.each(ENVIRONMENTS)('live fleet alerts (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.operations;
  const table = Object.values(resourcesOf(t, 'AWS::DynamoDB::Table'))[0];

  test('the table: on demand, a customer-managed key, point-in-time recovery, TTL on closed alerts, the open-alerts index', () => {
    const p = table.Properties;
    expect(p.TableName).toBe(`${config.resourcePrefix}-fleet-alerts`);
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    expect(JSON.stringify(p.SSESpecification.KMSMasterKeyId)).toContain('Keysoperations');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'expires_at', Enabled: true });
    expect(p.KeySchema).toEqual([{ AttributeName: 'vehicle_id', KeyType: 'HASH' }, { AttributeName: 'alert_id', KeyType: 'RANGE' }]);
    expect(p.GlobalSecondaryIndexes.map((i: { IndexName: string; KeySchema: unknown }) => [i.IndexName, i.KeySchema])).toEqual([
      ['open-by-severity', [{ AttributeName: 'open_severity', KeyType: 'HASH' }, { AttributeName: 'opened_at', KeyType: 'RANGE' }]],
      ['moving-by-last-seen', [{ AttributeName: 'moving_key', KeyType: 'HASH' }, { AttributeName: 'last_seen', KeyType: 'RANGE' }]],
    ]);
    // the check reads keys and the silence mark only
    expect(p.GlobalSecondaryIndexes[1].Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['silent_since'] });
  });

  test('deletion protection and retention everywhere but dev', () => {
    expect(table.Properties.DeletionProtectionEnabled).toBe(envName !== 'dev');
    expect(table.DeletionPolicy).toBe(envName === 'dev' ? 'Delete' : 'Retain');
  });

  test('the mapping: config batching, partial batch responses, bisect, bounded retries and age, then the encrypted failures queue', () => {
    const mapping = Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'))[0].Properties;
    const s = config.alerts.stream;
    expect(mapping).toMatchObject({
      BatchSize: s.batchSize,
      MaximumBatchingWindowInSeconds: s.batchingWindowSeconds,
      ParallelizationFactor: s.parallelizationFactor,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: s.retryAttempts,
      MaximumRecordAgeInSeconds: s.maxRecordAgeSeconds,
      TumblingWindowInSeconds: s.tumblingWindowSeconds,
      StartingPosition: 'LATEST',
    });
    expect(JSON.stringify(mapping.EventSourceArn)).toContain('telemetry');
    expect(JSON.stringify(mapping.DestinationConfig.OnFailure.Destination)).toContain('AlertsFailures');
    const queue = Object.values(resourcesOf(t, 'AWS::SQS::Queue'))[0].Properties;
    expect(JSON.stringify(queue.KmsMasterKeyId)).toContain('Keysoperations');
  });

  const statementsOf = (roleId: string) =>
    Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const functionsByName = Object.fromEntries(Object.values(resourcesOf(t, 'AWS::Lambda::Function')).map((f) => [f.Properties.FunctionName, f.Properties]));

  test('the stream function may touch items of its table, read the stream and put only alert events, and nothing else', () => {
    const statements = statementsOf('AlertsFunctionRole');
    const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo).toHaveLength(1);
    expect(dynamo[0].Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(JSON.stringify(dynamo[0].Resource)).not.toContain('index');
    const events = statements.find((s) => s.Action === 'events:PutEvents');
    expect(events.Condition).toEqual({ StringEquals: { 'events:source': 'telemetry-lakehouse.alerts' } });
    expect(JSON.stringify(events.Resource)).toContain('event-bus/default');
    const fn = functionsByName[`${config.resourcePrefix}-telemetry-alerts`];
    // the table's name is a reference inside the JSON; everything else is the environment's config
    const settings = JSON.parse(joinedText(fn.Environment.Variables.TELEMETRY_ALERTS_SETTINGS));
    const { stream, closedRetentionDays, ...rules } = config.alerts;
    const { checkEveryMinutes, ...vehicleSilent } = rules.vehicleSilent;
    expect(settings).toEqual({
      tableName: 'TOKEN',
      eventBusName: 'default',
      closedRetentionDays,
      rules: { ...rules, vehicleSilent },
      // the saves lag by a tumbling window and a batching window, and a minute for ingestion
      silenceLagSeconds: stream.tumblingWindowSeconds + stream.batchingWindowSeconds + 60,
    });
    expect(checkEveryMinutes).toBeGreaterThan(0);
  });

  test('the silence check runs on its schedule and may query the moving index and write the table items, nothing else', () => {
    const statements = statementsOf('SilenceCheckFunctionRole');
    const dynamo = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamo.map((s) => [s.Action, joinedText(s.Resource)])).toEqual([
      ['dynamodb:Query', 'TOKEN/index/moving-by-last-seen'],
      [['dynamodb:PutItem', 'dynamodb:UpdateItem'], 'TOKEN'],
    ]);
    expect(statements.find((s) => s.Action === 'events:PutEvents').Condition).toEqual({ StringEquals: { 'events:source': 'telemetry-lakehouse.alerts' } });
    const schedule = Object.values(resourcesOf(t, 'AWS::Events::Rule')).find((r) => JSON.stringify(r.Properties.Targets).includes('SilenceCheck'));
    expect(schedule!.Properties.ScheduleExpression).toBe(`rate(${config.alerts.vehicleSilent.checkEveryMinutes} minutes)`);
    expect(schedule!.Properties.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: config.alerts.vehicleSilent.checkEveryMinutes * 60 });
    expect(functionsByName[`${config.resourcePrefix}-telemetry-alerts-silence`].Handler).toBe('index.handler');
  });

  test('lagging, failing, throttled and given-up batches are alarmed; a critical alert opening pages the on-call topic', () => {
    const alarms = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
    for (const name of ['iterator-age', 'errors', 'throttles', 'given-up', 'silence-errors']) expect(alarms).toContain(`${config.resourcePrefix}-telemetry-alerts-${name}`);
    const rule = Object.values(resourcesOf(templates.monitoring, 'AWS::Events::Rule')).find((r) => r.Properties.EventPattern?.source?.[0] === 'telemetry-lakehouse.alerts');
    expect(rule!.Properties.EventPattern).toEqual({ source: ['telemetry-lakehouse.alerts'], 'detail-type': ['Fleet alert opened'], detail: { severity: ['critical'] } });
  });
});
