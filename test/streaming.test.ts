import { SENSOR_PULL_SETTINGS, sensorPullSettings } from '../lambda/sensor-pull/settings';
import { settingsFromEnvironment } from '../lambda/shared/settings';
import { shardsFor, telemetryLoad } from '../lib/config/capacity';
import { ENVIRONMENTS, joinedText, resourcesOf, synthesize } from './helpers/platform';

describe.each(ENVIRONMENTS)('streaming (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.streaming;
  const prefix = config.resourcePrefix;
  const ruleName = `${prefix.replace(/-/g, '_')}_vehicle_telemetry`;

  test('three KMS-encrypted streams, sized from the declared load, with the configured retention', () => {
    const streams = Object.values(resourcesOf(t, 'AWS::Kinesis::Stream')).map((s) => s.Properties);
    expect(streams.map((s) => s.Name).sort()).toEqual([`${prefix}-device-updates`, `${prefix}-sensor-readings`, `${prefix}-telemetry`]);
    const load = config.streaming.expectedLoad;
    const expected: Record<string, number> = {
      [`${prefix}-telemetry`]: shardsFor(telemetryLoad(load.telemetry), config.streaming.headroom).shards,
      [`${prefix}-sensor-readings`]: shardsFor(load.sensorReadings, config.streaming.headroom).shards,
      [`${prefix}-device-updates`]: shardsFor(load.deviceUpdates, config.streaming.headroom).shards,
    };
    for (const s of streams) {
      expect(s.StreamEncryption).toEqual({ EncryptionType: 'KMS', KeyId: expect.anything() });
      expect(JSON.stringify(s.StreamEncryption.KeyId)).toMatch(/Keysstreams/);
      expect(s.RetentionPeriodHours).toBe(config.streaming.retentionHours);
      if (config.streaming.capacityMode === 'provisioned') {
        expect(s.StreamModeDetails).toEqual({ StreamMode: 'PROVISIONED' });
        expect(s.ShardCount).toBe(expected[s.Name]);
      } else {
        expect(s.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
        expect(s.ShardCount).toBeUndefined();
      }
    }
  });

  test('the thing policy: connect only as the own attached thing, publish only to the own Basic Ingest topic', () => {
    const policy = Object.values(resourcesOf(t, 'AWS::IoT::Policy'))[0].Properties;
    expect(policy.PolicyName).toBe(`${prefix}-vehicle`);
    const [connect, publish] = policy.PolicyDocument.Statement;
    expect(connect.Action).toBe('iot:Connect');
    expect(JSON.stringify(connect.Resource)).toContain(':client/${iot:Connection.Thing.ThingName}');
    expect(connect.Condition).toEqual({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
    expect(publish.Action).toBe('iot:Publish');
    expect(JSON.stringify(publish.Resource)).toContain(`:topic/$aws/rules/${ruleName}/vehicles/\${iot:Connection.Thing.ThingName}/telemetry`);
    expect(policy.PolicyDocument.Statement).toHaveLength(2);
    t.hasResourceProperties('AWS::IoT::ThingType', { ThingTypeName: `${prefix}-vehicle` });
  });

  test('the topic rule adds vehicle_id and ingested_at, feeds the stream and Firehose, and logs every failure', () => {
    const rule = Object.values(resourcesOf(t, 'AWS::IoT::TopicRule'))[0].Properties;
    expect(rule.RuleName).toBe(ruleName);
    const payload = rule.TopicRulePayload;
    expect(payload.AwsIotSqlVersion).toBe('2016-03-23');
    expect(payload.Sql).toBe("SELECT *, topic(2) AS vehicle_id, timestamp() AS ingested_at FROM 'vehicles/+/telemetry'");
    expect(payload.Actions).toHaveLength(2);
    expect(payload.Actions[0].Kinesis.PartitionKey).toBe('${topic(2)}');
    expect(payload.Actions[1].Firehose).toMatchObject({ Separator: '\n', BatchMode: false });
    const errorGroup = payload.ErrorAction.CloudwatchLogs.LogGroupName.Ref;
    expect(resourcesOf(t, 'AWS::Logs::LogGroup')[errorGroup].Properties).toMatchObject({
      LogGroupName: `/${prefix}/iot-telemetry-errors`,
      KmsKeyId: expect.anything(),
      RetentionInDays: config.monitoring.logRetentionDays,
    });
  });

  test('Firehose lands raw telemetry by date and hour, GZIP, SSE-KMS, with an error prefix', () => {
    const streams = Object.values(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream')).map((d) => d.Properties);
    const raw = streams.find((d) => d.DeliveryStreamName === `${prefix}-raw-telemetry`)!;
    expect(raw.DeliveryStreamEncryptionConfigurationInput.KeyType).toBe('CUSTOMER_MANAGED_CMK');
    const dest = raw.ExtendedS3DestinationConfiguration;
    expect(dest.Prefix).toBe('raw/iot/telematics/ingest_date=!{timestamp:yyyy-MM-dd}/ingest_hour=!{timestamp:HH}/');
    expect(dest.ErrorOutputPrefix).toBe('raw/iot/_errors/telematics/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/');
    expect(dest.CompressionFormat).toBe('GZIP');
    expect(dest.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toBeDefined();
    expect(dest.BufferingHints).toEqual({ IntervalInSeconds: config.streaming.firehose.bufferIntervalSeconds, SizeInMBs: config.streaming.firehose.bufferSizeMiB });
  });

  test('enriched readings: Parquet against the processed table, by the reading date and hour, with an error prefix', () => {
    const enriched = Object.values(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream'))
      .map((d) => d.Properties)
      .find((d) => d.DeliveryStreamName === `${prefix}-sensor-readings-enriched`)!;
    const dest = enriched.ExtendedS3DestinationConfiguration;
    expect(dest.Prefix).toBe('processed/sensor_readings/event_date=!{partitionKeyFromQuery:event_date}/event_hour=!{partitionKeyFromQuery:event_hour}/');
    expect(dest.ErrorOutputPrefix).toMatch(/^processed\/_errors\/sensor_readings\//);
    expect(dest.CompressionFormat).toBe('UNCOMPRESSED');
    expect(dest.DataFormatConversionConfiguration.SchemaConfiguration).toMatchObject({ DatabaseName: `${prefix.replace(/-/g, '_')}_processed`, TableName: 'sensor_readings' });
    expect(dest.DataFormatConversionConfiguration.OutputFormatConfiguration.Serializer.ParquetSerDe.Compression).toBe('SNAPPY');
    expect(dest.DynamicPartitioningConfiguration.Enabled).toBe(true);
    expect(dest.ProcessingConfiguration.Processors[0].Parameters[0].ParameterValue).toBe('{event_date: .ts[0:10], event_hour: .ts[11:13]}');
    expect(dest.BufferingHints.SizeInMBs).toBeGreaterThanOrEqual(64);
    const table = Object.values(resourcesOf(t, 'AWS::Glue::Table'))[0].Properties.TableInput;
    expect(table.Name).toBe('sensor_readings');
    expect(table.PartitionKeys.map((p: any) => p.Name)).toEqual(['event_date', 'event_hour']);
    expect(table.StorageDescriptor.Columns.map((c: any) => c.Name)).toEqual([
      'reading_id', 'sensor_id', 'vehicle_id', 'sensor_type', 'ts', 'metric', 'raw_value', 'unit', 'calibrated_value', 'device_version', 'enrichment_status',
    ]);
  });

  test('device updates: read from their stream by Firehose into the raw zone by arrival date, one record a line, as the registry writer', () => {
    const [id, delivery] = Object.entries(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream')).find(([, d]) => d.Properties.DeliveryStreamName === `${prefix}-raw-device-updates`)!;
    const props = delivery.Properties;
    expect(props.DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(props.KinesisStreamSourceConfiguration.KinesisStreamARN).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^StreamsdeviceUpdates/), 'Arn'] });
    expect(props.DeliveryStreamEncryptionConfigurationInput).toBeUndefined(); // the stream's key covers it; Firehose SSE is for Direct PUT
    const dest = props.ExtendedS3DestinationConfiguration;
    expect(dest.Prefix).toBe('raw/device_registry/device_updates/ingest_date=!{timestamp:yyyy-MM-dd}/');
    expect(dest.CompressionFormat).toBe('GZIP');
    expect(dest.ProcessingConfiguration.Processors).toEqual([{ Type: 'AppendDelimiterToRecord' }]);
    expect(JSON.stringify(dest.RoleARN)).toMatch(/RawWriterdeviceregistry/);
    expect(dest.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toBeDefined();
    // The role may read that stream (and decrypt with its key) before the delivery is created.
    const policy = Object.entries(resourcesOf(t, 'AWS::IAM::Policy')).find(([pid]) => delivery.DependsOn?.includes(pid) && pid.startsWith('RawDeviceUpdates'))!;
    const read = policy[1].Properties.PolicyDocument.Statement.find((s: any) => JSON.stringify(s.Action).includes('kinesis:GetRecords'));
    expect(read.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^StreamsdeviceUpdates/), 'Arn'] });
    expect(id).toMatch(/^RawDeviceUpdates/);
  });

  test('Flink: FLINK-1_20 Python app with checkpoints, snapshots, configured parallelism and runtime properties, in the VPC', () => {
    const app = Object.values(resourcesOf(t, 'AWS::KinesisAnalyticsV2::Application'))[0].Properties;
    const flink = config.streaming.flink;
    expect(app.RuntimeEnvironment).toBe('FLINK-1_20');
    const conf = app.ApplicationConfiguration;
    expect(conf.ApplicationCodeConfiguration.CodeContentType).toBe('ZIPFILE');
    expect(conf.ApplicationSnapshotConfiguration.SnapshotsEnabled).toBe(true);
    expect(conf.FlinkApplicationConfiguration.CheckpointConfiguration).toMatchObject({
      ConfigurationType: 'CUSTOM',
      CheckpointingEnabled: true,
      CheckpointInterval: flink.checkpointIntervalSeconds * 1000,
    });
    expect(conf.FlinkApplicationConfiguration.ParallelismConfiguration).toEqual({
      ConfigurationType: 'CUSTOM',
      Parallelism: flink.parallelism,
      ParallelismPerKPU: flink.parallelismPerKpu,
      AutoScalingEnabled: flink.autoScaling,
    });
    const groups = Object.fromEntries(conf.EnvironmentProperties.PropertyGroups.map((g: any) => [g.PropertyGroupId, g.PropertyMap]));
    expect(groups['kinesis.analytics.flink.run.options']).toEqual({ python: 'main.py', jarfile: 'lib/connectors.jar' });
    expect(groups.enrichment).toMatchObject({
      'state.ttl.hours': String(flink.stateTtlHours),
      'readings.max-delay.seconds': String(flink.readingsMaxDelaySeconds),
      'enriched.delivery-stream': `${prefix}-sensor-readings-enriched`,
      'rejected.delivery-stream': `${prefix}-sensor-readings-rejected`,
    });
    expect(conf.VpcConfigurations[0].SubnetIds).toHaveLength(config.network.availabilityZoneCount);
    t.resourceCountIs('AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', 1);
  });

  test("Flink's network interfaces: created only in its subnets with its security group, shared or deleted only in the platform's VPC", () => {
    const statements = Object.entries(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('EnrichmentRole'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const ec2 = statements.filter((s: any) => JSON.stringify(s.Action).includes('ec2:'));
    const onEverything = ec2.filter((s: any) => s.Resource === '*').flatMap((s: any) => [s.Action].flat());
    expect(onEverything.every((a: string) => a.startsWith('ec2:Describe'))).toBe(true);
    const create = ec2.find((s: any) => s.Action === 'ec2:CreateNetworkInterface');
    const resources = JSON.stringify(create.Resource);
    expect(resources).toMatch(/:network-interface\/\*/);
    expect(resources).toMatch(/:security-group\/.*EnrichmentSecurityGroup/);
    expect((resources.match(/:subnet\//g) ?? []).length).toBe(config.network.availabilityZoneCount);
    const shareOrDelete = ec2.find((s: any) => JSON.stringify(s.Action).includes('ec2:DeleteNetworkInterface'));
    expect(shareOrDelete.Action).toEqual(['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface']);
    expect(JSON.stringify(shareOrDelete.Condition.ArnEquals['ec2:Vpc'])).toMatch(/:vpc\//);
  });

  test('rejected readings: GZIP JSON into the quarantine, by arrival date; only Flink may put to it; the Firehose writes only there', () => {
    const rejected = Object.values(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream'))
      .map((d) => d.Properties)
      .find((d) => d.DeliveryStreamName === `${prefix}-sensor-readings-rejected`)!;
    const dest = rejected.ExtendedS3DestinationConfiguration;
    expect(dest.Prefix).toBe('quarantine/sensor_readings/ingest_date=!{timestamp:yyyy-MM-dd}/');
    expect(dest.ErrorOutputPrefix).toMatch(/^quarantine\/_errors\/sensor_readings\//);
    expect(dest.CompressionFormat).toBe('GZIP');
    expect(dest.DataFormatConversionConfiguration).toBeUndefined();
    expect(rejected.DeliveryStreamEncryptionConfigurationInput.KeyType).toBe('CUSTOMER_MANAGED_CMK');
    const policies = Object.values(resourcesOf(t, 'AWS::IAM::Policy')).map((p) => p.Properties);
    const writerStatements = policies.filter((p) => JSON.stringify(p.Roles).includes('RejectedReadingsRole')).flatMap((p) => p.PolicyDocument.Statement);
    const objects = writerStatements.filter((st: any) => [st.Action].flat().includes('s3:PutObject')).map((st: any) => JSON.stringify(st.Resource));
    expect(objects.join(' ')).toMatch(/quarantine\/sensor_readings\/\*/);
    expect(objects.join(' ')).not.toMatch(/processed\//);
    // the Flink role's put statement names both of its Firehoses, and only those
    const flinkPut = policies
      .flatMap((p) => p.PolicyDocument.Statement)
      .find((st: any) => JSON.stringify(st.Action).includes('firehose:PutRecordBatch') && JSON.stringify(st.Resource).includes('EnrichedReadings'));
    expect(flinkPut.Resource.map((r: any) => r['Fn::GetAtt'][0])).toEqual([expect.stringMatching(/^EnrichedReadings/), expect.stringMatching(/^RejectedReadings/)]);
  });

  test('the sensor pull: scheduled, writes its stream, as the sensors raw writer', () => {
    const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) => f.Properties.FunctionName === `${prefix}-sensor-pull`)!;
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    const pull = config.streaming.sensorPull;
    // the handler's settings, as its own schema parses them (lambda/sensor-pull/settings.ts)
    const variables = fn.Properties.Environment.Variables;
    expect(settingsFromEnvironment(SENSOR_PULL_SETTINGS, sensorPullSettings, { [SENSOR_PULL_SETTINGS]: joinedText(variables[SENSOR_PULL_SETTINGS]) })).toMatchObject({
      apiBaseUrl: pull.apiBaseUrl,
      windowMinutes: pull.windowMinutes,
      http: { maxAttempts: pull.maxAttempts, baseDelayMs: pull.retryBaseDelayMs, maxDelayMs: pull.retryMaxDelayMs },
      putRecords: pull.putRecords,
    });
    expect(fn.Properties).toMatchObject({ Timeout: pull.timeoutSeconds, MemorySize: pull.memoryMiB });
    // Runs never overlap: one at a time, the next waiting in the async queue (each pulls its own event's window).
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(JSON.stringify(fn.Properties.Role)).toMatch(/AccessRawWritersensors/);
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: config.streaming.sensorPull.schedule });
  });

  test('alarms: iterator age at half the retention, write throttling, IoT rule failures, Flink downtime and checkpoints, Firehose freshness', () => {
    const alarms = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const byName = (n: string) => alarms.find((a) => a.AlarmName === `${prefix}-${n}`)!;
    expect(byName('telemetry-iterator-age').Threshold).toBe((config.streaming.retentionHours * 3_600_000) / 2);
    expect(byName('sensorReadings-write-throttling').EvaluationPeriods).toBe(3);
    expect(byName('iot-rule-failures').MetricName).toBe('IotRuleActionFailures');
    expect(byName('flink-downtime').Namespace).toBe('AWS/KinesisAnalytics');
    expect(byName('flink-failed-checkpoints').MetricName).toBe('numberOfFailedCheckpoints');
    for (const n of ['raw-telemetry-freshness', 'enriched-readings-freshness', 'rejected-readings-freshness']) expect(byName(n).Threshold).toBe(config.monitoring.firehoseFreshnessSeconds);
    expect(byName('sensor-readings-rejected')).toMatchObject({
      Namespace: 'AWS/Firehose',
      MetricName: 'IncomingRecords',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: `${prefix}-sensor-readings-rejected` }],
      Statistic: 'Sum',
      Threshold: 1,
    });
    const filter = Object.values(resourcesOf(t, 'AWS::Logs::MetricFilter'))[0].Properties;
    expect(filter.FilterPattern).toBe(''); // every event in the error log group is one failure
    expect(filter.MetricTransformations[0]).toMatchObject({ MetricName: 'IotRuleActionFailures', MetricValue: '1' });
  });
});
