import { settingsFromEnvironment } from '../lambda/shared/settings';
import { KAFKA_RECORD_CHECK_SETTINGS, kafkaRecordCheckSettings } from '../lambda/kafka-record-check/settings';
import { ConfigError, EnvironmentConfig } from '../lib/config';
import { environmentConfigSchema } from '../lib/config/schema';
import { kafkaDeliveryName, MSK_IAM_PORT } from '../lib/constructs/kafka-topic-ingestion';
import { joinedText, resourcesOf, synthesize } from './helpers/platform';

/** Kafka topics into the raw zone (issue 18): dev declares an MSK Serverless cluster and one topic of telematics. */
describe('Kafka topics (dev)', () => {
  const { templates, config } = synthesize('dev');
  const t = templates.ingestion;
  const kafka = config.ingestion.kafka;
  const clusters = Object.entries(resourcesOf(t, 'AWS::MSK::ServerlessCluster'));
  const deliveries = Object.values(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream')).filter((d) => d.Properties.DeliveryStreamType === 'MSKAsSource');
  const policies = Object.values(resourcesOf(t, 'AWS::IAM::Policy'));
  const functions = Object.entries(resourcesOf(t, 'AWS::Lambda::Function'));
  const [checkId, check] = functions.find(([, f]) => f.Properties.FunctionName === `${config.resourcePrefix}-kafka-record-check`)!;

  test('one MSK Serverless cluster: IAM authentication only, in the private subnets, reached on 9098 from the VPC alone', () => {
    expect(clusters).toHaveLength(1);
    const [, cluster] = clusters[0];
    expect(cluster.Properties.ClientAuthentication).toEqual({ Sasl: { Iam: { Enabled: true } } });
    expect(JSON.stringify(cluster.Properties.VpcConfigs[0].SubnetIds)).toMatch(/privateSubnet/i);
    const sgId = cluster.Properties.VpcConfigs[0].SecurityGroups[0]['Fn::GetAtt'][0];
    const sg = resourcesOf(t, 'AWS::EC2::SecurityGroup')[sgId].Properties;
    expect(sg.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.FromPort, r.ToPort])).toEqual([[config.network.vpcCidr, MSK_IAM_PORT, MSK_IAM_PORT]]);
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]); // CDK's "no egress" rule
  });

  test("the cluster's policy lets Firehose make its VPC connection, and nothing else", () => {
    const [policy] = Object.values(resourcesOf(t, 'AWS::MSK::ClusterPolicy'));
    expect(policy.Properties.Policy.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: ['kafka:CreateVpcConnection'], Resource: { 'Fn::GetAtt': [clusters[0][0], 'Arn'] } },
    ]);
  });

  test("one Firehose delivery per topic: MSK source over private connectivity, through the record check, into the dataset's raw layout (the IoT delivery's own)", () => {
    expect(deliveries.map((d) => d.Properties.DeliveryStreamName)).toEqual(kafka.topics.map((k) => kafkaDeliveryName(config.resourcePrefix, k.topic)));
    const iotRaw = Object.values(resourcesOf(templates.streaming, 'AWS::KinesisFirehose::DeliveryStream')).find((d) => d.Properties.DeliveryStreamName === `${config.resourcePrefix}-raw-telemetry`)!;
    for (const [i, topic] of kafka.topics.entries()) {
      const d = deliveries[i].Properties;
      expect(d.MSKSourceConfiguration).toMatchObject({ TopicName: topic.topic, AuthenticationConfiguration: { Connectivity: 'PRIVATE' } });
      expect(d.MSKSourceConfiguration.MSKClusterARN).toEqual({ 'Fn::GetAtt': [clusters[0][0], 'Arn'] });
      const s3 = d.ExtendedS3DestinationConfiguration;
      expect(s3.Prefix).toBe(iotRaw.Properties.ExtendedS3DestinationConfiguration.Prefix);
      expect(s3.ErrorOutputPrefix).toBe(`raw/iot/_errors/kafka-${topic.topic}/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/`);
      expect(s3.CompressionFormat).toBe('GZIP');
      expect(s3.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toBeDefined();
      const [processor] = s3.ProcessingConfiguration.Processors;
      expect(processor.Type).toBe('Lambda');
      expect(processor.Parameters.find((p: any) => p.ParameterName === 'LambdaArn').ParameterValue).toEqual({ 'Fn::GetAtt': [checkId, 'Arn'] });
      // No AppendDelimiterToRecord: the check writes each accepted record as one line.
      expect(s3.ProcessingConfiguration.Processors).toHaveLength(1);
    }
  });

  test("the delivery's role reads the topic (describe, read, its groups described) and invokes the check; it never writes, creates or alters Kafka", () => {
    const policy = policies.find((p) => JSON.stringify(p.Properties.PolicyDocument).includes('kafka-cluster:ReadData'))!;
    const statements = policy.Properties.PolicyDocument.Statement;
    const kafkaActions = statements.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith('kafka'));
    expect(kafkaActions.sort()).toEqual(
      ['kafka-cluster:Connect', 'kafka-cluster:DescribeGroup', 'kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration', 'kafka-cluster:ReadData', 'kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'].sort(),
    );
    const read = statements.find((s: any) => [s.Action].flat().includes('kafka-cluster:ReadData'));
    // arn:...:topic/<cluster name>/<cluster uuid, from the cluster's ARN>/<topic>
    expect(joinedText(read.Resource)).toMatch(/^arn:aws:kafka:eu-west-1:TOKEN:topic\/TOKEN$/);
    expect(read.Resource['Fn::Join'][1][3]['Fn::Join']).toEqual(['/', [`${config.resourcePrefix}-kafka`, { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [clusters[0][0], 'Arn'] }] }] }, kafka.topics[0].topic]]);
    const invoke = statements.find((s: any) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invoke.Resource).toEqual([{ 'Fn::GetAtt': [checkId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [checkId, 'Arn'] }, ':*']] }]);
  });

  test("the check is told each delivery's topic and dataset, and may write the topics' quarantine folder alone", () => {
    const text = joinedText(check.Properties.Environment.Variables[KAFKA_RECORD_CHECK_SETTINGS]);
    const settings = settingsFromEnvironment(KAFKA_RECORD_CHECK_SETTINGS, kafkaRecordCheckSettings, { [KAFKA_RECORD_CHECK_SETTINGS]: text });
    expect(settings.deliveries).toEqual(Object.fromEntries(kafka.topics.map((k) => [kafkaDeliveryName(config.resourcePrefix, k.topic), { topic: k.topic, dataset: k.dataset }])));
    expect(settings.maxRecordBytes).toBe(kafka.maxRecordBytes);
    const roleId = check.Properties.Role['Fn::GetAtt'][0];
    const statements = policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const s3 = statements.filter((s: any) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3).toHaveLength(1);
    expect(s3[0].Action).toBe('s3:PutObject');
    expect([s3[0].Resource].flat().map(joinedText)).toEqual([expect.stringMatching(/\/raw\/iot\/_quarantine\/kafka-\*$/)]);
  });

  test('alarms: records refused per topic, a failed transformation, stale records, a failing check', () => {
    const alarms = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm')).map((a) => joinedText(a.Properties.AlarmName ?? ''));
    const id = `kafka-${kafka.topics[0].topic.replace(/[._]/g, '-')}`;
    for (const suffix of [`${id}-refused`, `${id}-transformation-failed`, `${id}-freshness`, 'kafka-record-check-errors']) {
      expect(alarms.some((a) => a.endsWith(suffix))).toBe(true);
    }
  });
});

describe('Kafka topics: an existing cluster, and what config refuses', () => {
  const arn = 'arn:aws:kafka:eu-west-1:123456789012:cluster/fleet-events/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-2';
  const existing = (c: EnvironmentConfig): EnvironmentConfig => ({
    ...c,
    ingestion: { ...c.ingestion, kafka: { ...c.ingestion.kafka, cluster: { kind: 'existing', clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/fleet-events/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-2' } } },
  });

  test('an existing cluster named by its ARN: no cluster, no cluster policy (its owner grants Firehose), the delivery reads its topic by name', () => {
    const { templates } = synthesize('dev', existing);
    const t = templates.ingestion;
    expect(resourcesOf(t, 'AWS::MSK::ServerlessCluster')).toEqual({});
    expect(resourcesOf(t, 'AWS::MSK::ClusterPolicy')).toEqual({});
    const [delivery] = Object.values(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream')).filter((d) => d.Properties.DeliveryStreamType === 'MSKAsSource');
    expect(delivery.Properties.MSKSourceConfiguration.MSKClusterARN).toBe(arn);
    const policy = Object.values(resourcesOf(t, 'AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.PolicyDocument).includes('kafka-cluster:ReadData'))!;
    const read = policy.Properties.PolicyDocument.Statement.find((s: any) => [s.Action].flat().includes('kafka-cluster:ReadData'));
    expect(joinedText(read.Resource)).toMatch(/:topic\/fleet-events\/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-2\/fleet\.telematics$/);
  });

  test('two topics of one dataset: two deliveries, one each, writing as the one raw writer of the source', () => {
    const two = (c: EnvironmentConfig): EnvironmentConfig => ({
      ...c,
      ingestion: { ...c.ingestion, kafka: { ...c.ingestion.kafka, topics: [{ topic: 'fleet.telematics', dataset: 'telematics' }, { topic: 'trailers_telematics', dataset: 'telematics' }] } },
    });
    const { templates, config } = synthesize('dev', two);
    const deliveries = Object.values(resourcesOf(templates.ingestion, 'AWS::KinesisFirehose::DeliveryStream')).filter((d) => d.Properties.DeliveryStreamType === 'MSKAsSource');
    expect(deliveries.map((d) => [d.Properties.DeliveryStreamName, d.Properties.MSKSourceConfiguration.TopicName])).toEqual([
      [`${config.resourcePrefix}-kafka-fleet-telematics`, 'fleet.telematics'],
      [`${config.resourcePrefix}-kafka-trailers-telematics`, 'trailers_telematics'],
    ]);
    expect(new Set(deliveries.map((d) => JSON.stringify(d.Properties.ExtendedS3DestinationConfiguration.RoleARN))).size).toBe(1);
  });

  test("a topic whose dataset cannot come from Kafka is a config error naming the field", () => {
    const wrong = (c: EnvironmentConfig): EnvironmentConfig => ({ ...c, ingestion: { ...c.ingestion, kafka: { ...c.ingestion.kafka, topics: [{ topic: 'weather.obs', dataset: 'weather' }] } } });
    expect(() => synthesize('dev', wrong)).toThrow(ConfigError);
    expect(() => synthesize('dev', wrong)).toThrow(/ingestion\.kafka\.topics\.0\.dataset: weather cannot come from a Kafka topic; those that can: telematics/);
  });

  test.each([
    ['no topic', { enabled: true, topics: [] }, /enabled Kafka ingestion needs at least one topic/],
    ['a topic twice', { enabled: true, topics: [{ topic: 'a', dataset: 'telematics' }, { topic: 'a', dataset: 'telematics' }] }, /topic names must be unique/],
    ['a topic name Kafka refuses', { enabled: true, topics: [{ topic: 'fleet/telematics', dataset: 'telematics' }] }, /must be a Kafka topic name/],
    ['a cluster ARN that is not one', { enabled: true, cluster: { kind: 'existing', clusterArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/x' }, topics: [{ topic: 'a', dataset: 'telematics' }] }, /must be an MSK cluster ARN/],
  ])('config refuses %s', (_what, kafka, message) => {
    const { config } = synthesize('dev');
    const raw = JSON.parse(JSON.stringify(config));
    raw.ingestion.kafka = kafka;
    const parsed = environmentConfigSchema.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error!.issues)).toMatch(message);
  });

  test.each(['staging', 'prod'] as const)('%s declares no Kafka topics: no cluster, no delivery', (env) => {
    const { templates } = synthesize(env);
    expect(resourcesOf(templates.ingestion, 'AWS::MSK::ServerlessCluster')).toEqual({});
    expect(Object.values(resourcesOf(templates.ingestion, 'AWS::KinesisFirehose::DeliveryStream')).filter((d) => d.Properties.DeliveryStreamType === 'MSKAsSource')).toEqual([]);
  });
});
