import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../lib/config';
import { DatasetContract, loadContracts } from '../lib/contracts';
import { buildPlatform } from '../lib/platform';
import { JobDeclaration, loadJobs } from '../lib/registry';
import { CDK_CONTEXT } from './helpers/platform';

/**
 * CONTRIBUTING.md's recipe for a source with no logic of its own: a contract and a registry entry
 * (pipeline "keyed") are all the processing side needs. Built here with both added to the
 * repository's, the platform must give the source its raw writer role and raw table, a Glue job
 * with the keyed entry point and its arguments, a place in the daily state machine, a data-quality
 * ruleset and Iceberg maintenance of its table, with no other file changed.
 */
const airQuality: DatasetContract = {
  dataset: 'air_quality',
  source: 'air',
  description: 'Hourly air quality per station, pulled from an API',
  key: ['station', 'hour'],
  columns: [
    { name: 'station', type: 'string', required: true, description: 'Station id' },
    { name: 'hour', type: 'timestamp', required: true, description: 'Start of the hour (UTC)' },
    { name: 'pm25', type: 'double', required: true, min: 0, max: 1000, description: 'PM2.5 in µg/m³' },
    { name: 'measured_at', type: 'timestamp', required: true, description: 'When the station measured it' },
  ],
  raw: { writer: 'lambda', format: 'json', partitions: [{ name: 'ingest_date', type: 'date' }] },
  processed: { partitioning: [{ column: 'hour', transform: 'day' }], versionColumn: 'measured_at' },
} as DatasetContract;
const contracts = [...loadContracts(), airQuality];
const keyedJob: JobDeclaration = {
  name: 'air-quality-etl',
  engine: 'glue',
  script: 'keyed_etl.py',
  stage: 'sources',
  pipeline: 'keyed',
  inputs: ['air_quality'],
  outputs: ['air_quality'],
};

const app = new App({ context: CDK_CONTEXT });
const platform = buildPlatform(app, loadConfig('dev'), { contracts, jobs: [...loadJobs(loadContracts()), keyedJob] });
app.synth(); // with cdk-nag: the new resources bring no unacknowledged finding
const processing = Template.fromStack(platform.processing);
const lakehouse = Template.fromStack(platform.lakehouse);

test('the Glue job gets the dataset and its paths as arguments', () => {
  const job = Object.values(processing.findResources('AWS::Glue::Job')).find((j) => j.Properties.Name === 'tlh-dev-air-quality-etl');
  expect(job).toBeDefined();
  const args = job!.Properties.DefaultArguments;
  expect(args['--dataset']).toBe('air_quality');
  expect(args['--table']).toBe('lake.tlh_dev_processed.air_quality');
  expect(JSON.stringify(args['--raw_path'])).toContain('/raw/air/air_quality/ingest_date={day}/');
});

test('the daily state machine runs it with the other sources, and maintenance keeps its table', () => {
  const machine = Object.values(processing.findResources('AWS::StepFunctions::StateMachine'))[0];
  const definition = JSON.stringify(machine.Properties.DefinitionString);
  expect(definition).toContain('tlh-dev-air-quality-etl');
  const maintenance = Object.values(processing.findResources('AWS::Glue::Job')).find((j) => j.Properties.Name === 'tlh-dev-iceberg-maintenance');
  expect(maintenance!.Properties.DefaultArguments['--tables']).toContain('lake.tlh_dev_processed.air_quality');
});

test('its table gets a data-quality ruleset from the contract', () => {
  processing.hasResourceProperties('AWS::Glue::DataQualityRuleset', {
    Name: 'tlh-dev-air_quality',
    TargetTable: { DatabaseName: 'tlh_dev_processed', TableName: 'air_quality' },
  });
});

test('the source gets its raw writer role (Lambda, raw/air/ only) and its raw table', () => {
  const roles = Object.values(lakehouse.findResources('AWS::IAM::Role')).filter((r) => String(r.Properties.Description).startsWith('Writes air data'));
  expect(roles).toHaveLength(1);
  expect(JSON.stringify(roles[0].Properties.AssumeRolePolicyDocument)).toContain('lambda.amazonaws.com');
  lakehouse.hasResourceProperties('AWS::Glue::Table', { TableInput: { Name: 'air_quality' } });
});
