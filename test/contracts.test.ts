import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ContractError, contractOf, loadContracts, rawColumns, rawPartitionPathTemplate, rawPrefix } from '../lib/contracts';
import { dqdlRuleset } from '../lib/contracts/dqdl';

const REPO = path.join(__dirname, '..');
const BAD = path.join(__dirname, 'fixtures', 'bad-contracts');
const EXPECTED: Record<string, string> = JSON.parse(fs.readFileSync(path.join(BAD, 'expected.json'), 'utf8'));
const PYTHON = path.join(REPO, '.venv', 'bin', 'python');

/** Runs the Python contract loader and returns what it printed as JSON. */
function python(code: string): any {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run 'npm run setup' (scripts/setup.sh) to create the virtual environment`);
  const result = spawnSync(PYTHON, ['-c', `import json, sys; sys.path.insert(0, 'glue-scripts'); from lakehouse import contracts as c\n${code}`], {
    cwd: REPO,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe('dataset contracts', () => {
  const contracts = loadContracts();

  test('every dataset of the design has a contract', () => {
    expect(contracts.map((c) => `${c.source}.${c.dataset}`)).toEqual([
      'crm.customers',
      'device_registry.device_updates',
      'sensors.sensor_readings',
      'sensors.sensor_readings_enriched',
      'legacy_sql.shipments',
      'iot.telematics',
      'weather.weather',
    ]);
  });

  test('keys follow the design', () => {
    const keys = Object.fromEntries(contracts.map((c) => [c.dataset, c.key]));
    expect(keys).toEqual({
      customers: ['customer_id'],
      device_updates: ['sensor_id', 'version'],
      sensor_readings: ['reading_id'],
      sensor_readings_enriched: ['reading_id'],
      shipments: ['shipment_id'],
      telematics: ['vehicle_id', 'ts'],
      weather: ['city', 'observation_hour'],
    });
  });

  test('raw layout helpers', () => {
    const shipments = contractOf(contracts, 'shipments');
    expect(rawPrefix(shipments)).toBe('raw/legacy_sql/shipments/');
    expect(rawColumns(shipments).slice(0, 2)).toEqual([
      { name: 'ShipmentID', type: 'string', description: 'Shipment identifier.' },
      { name: 'CustID', type: 'string', description: 'CRM customer the shipment is for.' },
    ]);
    expect(rawColumns(shipments).slice(-2).map((c) => c.name)).toEqual(['Op', 'commit_ts']);
    expect(rawPartitionPathTemplate(shipments.raw!)).toBe('${ingest_date}/');
    expect(rawPartitionPathTemplate(contractOf(contracts, 'telematics').raw!)).toBe('ingest_date=${ingest_date}/ingest_hour=${ingest_hour}/');
  });

  test('an unknown dataset names the known ones', () => {
    expect(() => contractOf(contracts, 'nope')).toThrow(/known: customers, device_updates, sensor_readings, sensor_readings_enriched, shipments, telematics, weather/);
  });

  test.each(Object.entries(EXPECTED))('rejects %s', (caseName, problem) => {
    expect(() => loadContracts(path.join(BAD, caseName))).toThrow(ContractError);
    expect(() => loadContracts(path.join(BAD, caseName))).toThrow(problem);
  });

  test('the Python loader reads the same contracts as the TypeScript one', () => {
    const fromPython = python('print(json.dumps(c.load_contracts()))');
    expect(fromPython).toEqual(JSON.parse(JSON.stringify(contracts)));
  });

  test('the data-quality rulesets published by CDK are the ones the Glue jobs evaluate', () => {
    const fromPython = python(
      'from lakehouse import dq\nprint(json.dumps({x["dataset"]: dq.ruleset(x) for x in c.load_contracts()}))',
    );
    expect(Object.keys(fromPython)).toHaveLength(contracts.length);
    for (const contract of contracts) expect(dqdlRuleset(contract)).toBe(fromPython[contract.dataset]);
    expect(dqdlRuleset(contractOf(contracts, 'telematics')).split('\n')[1]).toBe('    IsPrimaryKey "vehicle_id" "ts",');
  });

  test('the Python loader rejects every bad contract with the same problem', () => {
    const fromPython = python(
      `from pathlib import Path\nout = {}\nfor case in ${JSON.stringify(Object.keys(EXPECTED))}:\n    try:\n        c.load_contracts(Path('${BAD}') / case); out[case] = None\n    except c.ContractError as e:\n        out[case] = str(e)\nprint(json.dumps(out))`,
    );
    for (const [caseName, problem] of Object.entries(EXPECTED)) {
      expect(fromPython[caseName]).toContain(problem);
    }
  });
});
