import { KAFKA_RECORD_CHECK_SETTINGS } from '../../lambda/kafka-record-check/settings';
import { loadConfig } from '../../lib/config';
import { kafkaRecordCheckSettingsOf } from '../../lib/constructs/kafka-topic-ingestion';
import { PULL_FUNCTIONS, pullEnvironment } from '../../lib/registry/pulls';
import { LOCAL_ACCOUNT, platformNames, rateMinutes } from '../../tools/local-run/platform';
import { resourcesOf, synthesize } from '../helpers/platform';

/**
 * The local run (tools/local-run) must use what the stacks deploy: the same bucket, database and
 * stream names, and the same environment for the pull handlers. Compared here with the
 * synthesized dev templates, so a change to one side alone fails.
 */
const { templates, config } = synthesize('dev');
const names = platformNames('dev');

/** A name the template builds with Fn::Join from the account and region, resolved for moto's account. */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref: string }).Ref;
      if (ref === 'AWS::AccountId') return names.account;
      if (ref === 'AWS::Region') return config.region;
      throw new Error(`unexpected part ${JSON.stringify(part)}`);
    })
    .join(join[0]);
}

test('bucket names are those of the lakehouse stack', () => {
  const buckets = Object.values(resourcesOf(templates.lakehouse, 'AWS::S3::Bucket'))
    .map((b) => b.Properties.BucketName)
    .filter((n) => n !== undefined)
    .map(resolve);
  expect(buckets).toEqual(expect.arrayContaining(Object.values(names.buckets)));
});

test('Glue database names are those of the lakehouse stack', () => {
  const databases = Object.values(resourcesOf(templates.lakehouse, 'AWS::Glue::Database')).map((d) => d.Properties.DatabaseInput.Name);
  expect(databases.sort()).toEqual(Object.values(names.databases).sort());
});

test('stream names are those of the streaming stack', () => {
  const streams = Object.values(resourcesOf(templates.streaming, 'AWS::Kinesis::Stream')).map((s) => s.Properties.Name);
  expect(streams.sort()).toEqual(Object.values(names.streams).sort());
});

test.each(PULL_FUNCTIONS.map((p) => [p.name, p] as const))('the %s handler gets the environment its stack deploys, and its stand-in is there', (name, pull) => {
  const deployed = Object.values(resourcesOf(templates[pull.layer], 'AWS::Lambda::Function')).find((f) => f.Properties.FunctionName === `${config.resourcePrefix}-${name}`);
  expect(deployed).toBeDefined();
  const { NODE_OPTIONS, ...variables } = deployed!.Properties.Environment.Variables as Record<string, unknown>;
  // The construct adds this one for the Lambda runtime (stack traces through the bundle's source
  // map); the local run's handlers run unbundled, with their sources.
  expect(NODE_OPTIONS).toBe('--enable-source-maps');
  // tools/local-run/platform.ts builds it with the same function, from the same configuration
  const local = pullEnvironment(pull, loadConfig('dev'), { rawBucket: names.buckets.raw, account: LOCAL_ACCOUNT, streams: names.streams });
  expect(Object.keys(local).sort()).toEqual(Object.keys(variables).sort());
  for (const [key, value] of Object.entries(variables)) {
    if (typeof value === 'string') expect([key, local[key]]).toEqual([key, value]); // tokens (bucket, account, stream) aside
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  expect(typeof require(`../../tools/stand-ins/${pull.localStandIn}`).serveFile).toBe('function');
});

test("the Kafka topics are the ingestion stack's, and the local record check gets its deployed settings", () => {
  const deliveries = Object.values(resourcesOf(templates.ingestion, 'AWS::KinesisFirehose::DeliveryStream')).filter((d) => d.Properties.DeliveryStreamType === 'MSKAsSource');
  expect(deliveries.map((d) => d.Properties.MSKSourceConfiguration.TopicName)).toEqual(names.kafka.topics.map((t) => t.topic));
  const deployed = Object.values(resourcesOf(templates.ingestion, 'AWS::Lambda::Function')).find((f) => f.Properties.FunctionName === `${config.resourcePrefix}-kafka-record-check`)!;
  const text = deployed.Properties.Environment.Variables[KAFKA_RECORD_CHECK_SETTINGS];
  // tools/local-run/platform.ts builds them with the same function, from the same configuration; the bucket is a token in the template.
  const local = kafkaRecordCheckSettingsOf(loadConfig('dev').ingestion.kafka, config.resourcePrefix, names.buckets.raw, LOCAL_ACCOUNT);
  const deployedSettings = JSON.parse(resolveSettings(text));
  expect(deployedSettings).toEqual(local);
});

/** The settings JSON as the template writes it: the raw zone bucket's export resolved to its name, the account to moto's. */
function resolveSettings(value: unknown): string {
  if (typeof value === 'string') return value;
  const [, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part).includes('RawZone') ? names.buckets.raw : names.account)).join('');
}

test('rate schedules give the minutes between runs; a cron schedule is refused with the reason', () => {
  expect(rateMinutes('rate(5 minutes)')).toBe(5);
  expect(rateMinutes('rate(1 hour)')).toBe(60);
  expect(rateMinutes('rate(2 days)')).toBe(2880);
  expect(() => rateMinutes('cron(30 1 * * ? *)')).toThrow('is not a rate(...) expression');
  expect(() => rateMinutes('rate(5 fortnights)')).toThrow();
});
