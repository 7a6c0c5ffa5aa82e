import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadContracts } from '../lib/contracts';
import { JobDeclaration, loadJobs, processedDatasets, registryProblems } from '../lib/registry';
import { ENVIRONMENTS, resourcesOf, synthesize } from './helpers/platform';

const contracts = loadContracts();
const jobs = loadJobs(contracts);
const job = (overrides: Partial<JobDeclaration>): JobDeclaration => ({
  name: 'x-etl', engine: 'glue', script: 'x_etl.py', stage: 'sources', pipeline: 'telematics', inputs: ['telematics'], outputs: ['telematics'], ...overrides,
});

describe('the job registry (lib/registry/jobs.json)', () => {
  test('every dataset with a processed table is written by exactly one registered job (a landed job moves a streaming job\'s landing in)', () => {
    const written = jobs.filter((j) => j.pipeline !== 'landed').flatMap((j) => j.outputs);
    for (const c of contracts.filter((x) => x.processed)) expect(written.filter((d) => d === c.dataset)).toHaveLength(1);
  });

  test('a landed job needs a landing in its contract, a streaming job that fills it, and reads nothing else', () => {
    const landed = jobs.find((j) => j.pipeline === 'landed')!;
    expect(landed.outputs).toEqual(['sensor_readings_enriched']);
    expect(registryProblems([...jobs.filter((j) => j !== landed), { ...landed, name: 'w-etl', inputs: ['weather'], outputs: ['weather'] }], contracts)).toEqual([
      'w-etl: weather has no landing in its contract',
      'w-etl: no streaming job lands weather',
    ]);
    expect(registryProblems([...jobs.filter((j) => j !== landed), { ...landed, inputs: ['sensor_readings_enriched', 'weather'] }], contracts)).toEqual([
      `${landed.name}: a landed job reads its own dataset's landing, and nothing else`,
    ]);
  });

  test('a contract with a processed table and no job, a dataset without contract, a dataset written twice: refused, each named', () => {
    const withoutTelematics = jobs.filter((j) => j.name !== 'telematics-etl');
    expect(registryProblems(withoutTelematics, contracts)).toEqual(['telematics: its contract has a processed table but no job writes it']);
    expect(registryProblems([...jobs, job({ name: 'y-etl', inputs: ['nope'], outputs: ['telematics'] })], contracts)).toEqual([
      'y-etl: nope has no contract',
      'y-etl: telematics is already written by telematics-etl',
    ]);
    expect(registryProblems([...jobs, job({ name: 'crm-etl', stage: 'maintenance', pipeline: 'maintenance', inputs: [], outputs: [] })], contracts)).toEqual([
      'crm-etl: declared twice',
      'maintenance: the daily pipeline has exactly one maintenance job',
    ]);
  });

  test("a state table kept twice, or named as a dataset's processed table: refused, each named", () => {
    expect(registryProblems([...jobs, job({ name: 'y-etl', inputs: ['weather'], outputs: [], keeps: ['telematics__vehicle_days', 'weather'] })], contracts)).toEqual([
      'y-etl: a source job writes exactly one dataset',
      'y-etl: telematics__vehicle_days is already kept by telematics-etl',
      "y-etl: weather is a dataset's processed table, not a job's state",
    ]);
  });

  test('a registry that breaks its schema fails naming the field', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'registry-')), 'jobs.json');
    fs.writeFileSync(file, JSON.stringify({ description: 'd', jobs: [{ ...job({}), stage: 'hourly' }] }));
    expect(() => loadJobs(contracts, file)).toThrow(/Invalid job registry jobs.json:\n {2}- jobs\.jobs\.0\.stage: /);
  });
});

describe.each(ENVIRONMENTS)('the processing stack follows the registry (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const prefix = config.resourcePrefix;

  test('one Glue job per registered Glue job, each with its script and the one day argument in the state machine', () => {
    const glue = Object.values(resourcesOf(templates.processing, 'AWS::Glue::Job')).map((j) => j.Properties);
    const registered = jobs.filter((j) => j.engine === 'glue');
    expect(glue.map((j) => j.Name).sort()).toEqual(registered.map((j) => `${prefix}-${j.name}`).sort());
    // the script is an asset named by its hash: jobs with one script share one location, and only they
    const location = (j: JobDeclaration) => JSON.stringify(glue.find((g) => g.Name === `${prefix}-${j.name}`)!.Command.ScriptLocation);
    for (const a of registered) for (const b of registered) expect(location(a) === location(b)).toBe(a.script === b.script);
    const sm = Object.values(resourcesOf(templates.processing, 'AWS::StepFunctions::StateMachine'))[0].Properties;
    const definition = sm.DefinitionString['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : '')).join('');
    expect(definition).not.toContain('--ingest_date');
    expect(definition.match(/"--day\.\$":"\$\.day"/g)).toHaveLength(registered.filter((j) => j.stage !== 'streaming').length);
  });

  test('every processed table a daily job writes has its data-quality ruleset', () => {
    const rulesets = Object.values(resourcesOf(templates.processing, 'AWS::Glue::DataQualityRuleset')).map((r) => r.Properties.TargetTable.TableName);
    expect(rulesets.sort()).toEqual(processedDatasets(jobs, contracts).map((c) => c.processed?.table ?? c.dataset).sort());
  });
});
