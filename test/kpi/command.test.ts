import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { loadCatalogue } from '../../lambda/shared/kpi/catalogue';
import { KpiError } from '../../lambda/shared/kpi/errors';
import { footer, listing, parseArguments, render, runKpiCommand } from '../../tools/kpi/core';
import { createWorkGroup, motoAthena, queueResults, stepQueries } from '../../tools/stand-ins/athena';
import { Moto, startMoto } from '../../tools/stand-ins/moto';

const ROOT = path.join(__dirname, '..', '..');
const catalogue = loadCatalogue(path.join(ROOT, 'queries'));
const settings = {
  athena: { workGroup: 'tlh-dev-analytics', database: 'tlh_dev_aggregated', resultReuseMaxAgeMinutes: 60, bytesScannedCutoff: 1_000_000_000 },
  limits: { maxRangeDays: 366 },
  timeoutMs: 10_000,
  pageSize: 1000,
};
const BY_CITY = {
  columns: [['city', 'varchar'], ['intervals', 'bigint'], ['distance_km', 'double'], ['fuel_l', 'double'], ['fuel_l_per_100km', 'double']] as [string, string][],
  rows: [['Barcelona', '720', '504.0', '181.44', '36.0'], ['Madrid, Centro', '1436', '1002.5', '370.9', '36.997']],
};

let moto: Moto;
let athena: AthenaClient;
beforeAll(async () => {
  moto = await startMoto();
  athena = motoAthena(moto.endpoint);
  await createWorkGroup(athena, settings.athena.workGroup, 's3://results/athena-results/');
  await stepQueries(moto.endpoint, 0);
});
afterAll(async () => moto?.stop());

describe('arguments', () => {
  test('a KPI, its parameters and a format', () => {
    expect(parseArguments(['--env', 'prod', 'fuel-by-city', '--from', '2026-11-01', '--to', '2026-11-07', '--city', 'Madrid', '--format', 'csv'])).toEqual({
      env: 'prod',
      list: false,
      kpi: 'fuel-by-city',
      format: 'csv',
      parameters: { from: '2026-11-01', to: '2026-11-07', city: 'Madrid' },
    });
  });

  test.each([
    [[], 'UNKNOWN_QUERY'],
    [['fuel-by-city', '--from'], 'BAD_PARAMETER'],
    [['fuel-by-city', '--format', 'xml'], 'BAD_PARAMETER'],
    [['fuel-by-city', 'daily-fuel'], 'BAD_PARAMETER'],
  ])('%j is a usage error (%s)', (argv, code) => {
    expect(() => parseArguments(argv)).toThrow(expect.objectContaining({ code }));
  });

  test('--list names every KPI with its parameters', () => {
    const text = listing(catalogue);
    for (const kpi of catalogue) expect(text).toContain(`${kpi.name}: ${kpi.title}`);
    expect(text).toContain('    --city string (optional): only this city (every city when absent)');
  });
});

describe('a KPI run on Athena (moto)', () => {
  test('rows in the three formats, and the cost line', async () => {
    await queueResults(moto.endpoint, [BY_CITY]);
    const answer = await runKpiCommand(athena, catalogue, parseArguments(['fuel-by-city', '--from', '2026-11-01', '--to', '2026-11-07']), settings);
    expect(render(answer, 'table')).toBe(
      [
        'city            intervals  distance_km  fuel_l  fuel_l_per_100km',
        '--------------  ---------  -----------  ------  ----------------',
        'Barcelona             720       504.00  181.44             36.00',
        'Madrid, Centro       1436      1002.50  370.90             37.00',
      ].join('\n'),
    );
    expect(render(answer, 'csv')).toBe('city,intervals,distance_km,fuel_l,fuel_l_per_100km\nBarcelona,720,504,181.44,36\n"Madrid, Centro",1436,1002.5,370.9,36.997');
    expect(JSON.parse(render(answer, 'json'))[1]).toEqual({ city: 'Madrid, Centro', intervals: 1436, distance_km: 1002.5, fuel_l: 370.9, fuel_l_per_100km: 36.997 });
    expect(footer(answer)).toMatch(/^2 rows; query [0-9a-f-]{36}; 0\.000 MB scanned$/);
  });

  test('a bad request is refused before Athena is asked', async () => {
    const request = parseArguments(['fuel-by-city', '--from', '2026-11-07', '--to', '2026-11-01']);
    await expect(runKpiCommand(athena, catalogue, request, settings)).rejects.toThrow(KpiError);
    await expect(runKpiCommand(athena, catalogue, request, settings)).rejects.toMatchObject({ code: 'INVERTED_RANGE' });
  });
});

describe('npm run kpi, as a process', () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(path.join(ROOT, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', path.join(ROOT, 'tools', 'kpi', 'index.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      // Nothing of the shell's AWS setup: a home with no profiles, no instance metadata (only 127.0.0.1 is reachable).
      env: { PATH: process.env.PATH!, HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'kpi-home-')), AWS_EC2_METADATA_DISABLED: 'true', NODE_NO_WARNINGS: '1', ...env },
    });

  test('answers on stdout, the cost on stderr, exit 0', async () => {
    await queueResults(moto.endpoint, [BY_CITY]);
    const result = run(['--env', 'dev', 'fuel-by-city', '--from', '2026-11-01', '--to', '2026-11-07', '--format', 'csv'], {
      AWS_ENDPOINT_URL_ATHENA: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe('city,intervals,distance_km,fuel_l,fuel_l_per_100km');
    expect(result.stderr).toMatch(/^2 rows; query /);
  });

  test('a bad value exits 2 naming it; no credentials exits 1 saying so', () => {
    const bad = run(['fuel-by-city', '--from', '2026-13-01', '--to', '2026-11-07'], {});
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("kpi: 'from' must be a day as yyyy-MM-dd, got '2026-13-01' [BAD_PARAMETER]\n");
    const anonymous = run(['fuel-by-city', '--from', '2026-11-01', '--to', '2026-11-07'], { AWS_ENDPOINT_URL_ATHENA: moto.endpoint });
    expect(anonymous.status).toBe(1);
    expect(anonymous.stderr).toMatch(/^kpi: no AWS credentials: .*\[NO_CREDENTIALS\]\n$/);
  });
});
