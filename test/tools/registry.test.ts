import { spawnSync } from 'child_process';
import * as path from 'path';
import { applyRegistryMigrations } from '../../lambda/registry-migrations/core';
import { queryRows, RdsDataTarget } from '../../lambda/shared/rds-data';
import { registryMigrations } from '../../lib/registry-sql';
import * as fs from 'fs';
import * as os from 'os';
import { parseRegistryArguments, parseRegistryFile, runRegistryRequest } from '../../tools/registry/core';
import { RdsDataStandIn, startRdsData } from '../../tools/stand-ins/rds-data';
import { MOTO_CREDENTIALS } from '../../tools/stand-ins/moto';

/**
 * The fleet team's registry command: its command line checked before anything is sent, its
 * operations through the AWS SDK's RDS Data API client against the stand-in on PostgreSQL with the
 * project's migrations applied, signed in as the fleet team's login (registry_fleet, V005), and
 * the command itself run as `npm run registry` runs it.
 */
jest.setTimeout(120_000);
let api: RdsDataStandIn;
const cluster = 'arn:aws:rds:eu-west-1:123456789012:cluster:tlh-test-registry';
const master = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:master';
// The fleet team's login (V005): the stand-in runs this secret's calls as registry_fleet.
const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tlh-test-registry-fleet';
const where: RdsDataTarget = { resourceArn: cluster, secretArn: secret, database: 'registry' };
const NOW = new Date('2026-11-01T08:00:00Z');
const run = (argv: string[]) => runRegistryRequest(api.client, where, parseRegistryArguments(argv, NOW).request);

beforeAll(async () => {
  api = await startRdsData({ secretRoles: { [secret]: 'registry_fleet' } });
  await applyRegistryMigrations(api.client, { ...where, secretArn: master }, registryMigrations());
});
afterAll(async () => api?.stop());

describe('the registry command line', () => {
  test('every operation with its flags, the time defaulting to now', () => {
    expect(parseRegistryArguments(['add-vehicle', '--vehicle', 'VAN-001'], NOW).request).toEqual({ op: 'add-vehicle', vehicle: 'VAN-001', at: '2026-11-01T08:00:00.000Z' });
    expect(parseRegistryArguments(['mount-sensor', '--sensor', 'S1', '--type', 'temp', '--vehicle', 'V1', '--at', '2026-11-01T09:00:00+01:00'], NOW).request).toEqual({
      op: 'mount-sensor', sensor: 'S1', type: 'temp', vehicle: 'V1', at: '2026-11-01T09:00:00+01:00', scale: 1, offset: 0,
    });
    expect(parseRegistryArguments(['calibrate', '--sensor', 'S1', '--version', '2', '--scale', '1.02', '--offset', '-1.5', '--env', 'dev'], NOW)).toEqual({
      request: { op: 'calibrate', sensor: 'S1', version: 2, scale: 1.02, offset: -1.5, at: '2026-11-01T08:00:00.000Z' },
      flags: { sensor: 'S1', version: '2', scale: '1.02', offset: '-1.5', env: 'dev' },
    });
  });

  test.each([
    [[], /no operation given/],
    [['remove-vehicle', '--vehicle', 'V1'], /unknown operation 'remove-vehicle'/],
    [['add-vehicle'], /add-vehicle: missing --vehicle/],
    [['add-vehicle', '--vehicle', 'V1', '--colour', 'red'], /unknown argument '--colour'/],
    [['add-vehicle', '--vehicle'], /--vehicle needs a value/],
    [['add-vehicle', '--vehicle', 'V1', '--vehicle', 'V2'], /--vehicle given twice/],
    [['add-vehicle', '--vehicle', 'V1', '--at', '2026-11-01 08:00'], /--at 2026-11-01 08:00 is not an ISO-8601 time with its zone/],
    [['add-vehicle', '--vehicle', 'V1', '--at', '2026-11-01T08:00:00'], /is not an ISO-8601 time with its zone/],
    [['calibrate', '--sensor', 'S1', '--version', '2.5', '--scale', '1', '--offset', '0'], /--version 2.5 is not a whole number/],
    [['calibrate', '--sensor', 'S1', '--version', '2', '--scale', 'x1', '--offset', '0'], /--scale x1 is not a number/],
  ])('%j is refused before anything is sent', (argv, message) => {
    expect(() => parseRegistryArguments(argv as string[], NOW)).toThrow(message);
    expect(() => parseRegistryArguments(argv as string[], NOW)).toThrow(/usage: npm run registry --/);
  });
});

describe('the registry operations through the RDS Data API', () => {
  test('each operation once, then again: the same answer, unchanged, and no second device version', async () => {
    expect(await run(['add-vehicle', '--vehicle', 'VAN-101', '--at', '2026-11-01T08:00:00Z'])).toEqual({ outcome: 'added' });
    expect(await run(['add-vehicle', '--vehicle', 'VAN-101', '--at', '2026-11-01T08:00:00Z'])).toEqual({ outcome: 'unchanged' });
    const mount = ['mount-sensor', '--sensor', 'VAN-101-temp', '--type', 'temp', '--vehicle', 'VAN-101', '--at', '2026-11-01T08:00:00Z'];
    expect(await run(mount)).toEqual({ outcome: 'mounted', deviceVersion: 1 });
    expect(await run(mount)).toEqual({ outcome: 'unchanged', deviceVersion: 1 });
    const calibrate = ['calibrate', '--sensor', 'VAN-101-temp', '--version', '2', '--scale', '1.02', '--offset', '-1.5', '--at', '2026-11-02T12:00:30Z'];
    expect(await run(calibrate)).toEqual({ outcome: 'calibrated', deviceVersion: 2 });
    expect(await run(calibrate)).toEqual({ outcome: 'unchanged', deviceVersion: 2 });
    // A time in another zone is the same instant: 13:00:30+01:00 is 12:00:30Z.
    expect(await run([...calibrate.slice(0, -1), '2026-11-02T13:00:30+01:00'])).toEqual({ outcome: 'unchanged', deviceVersion: 2 });
    const rows = await queryRows(api.client, where, "SELECT version, calibration_scale, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM registry.device_versions WHERE sensor_id = 'VAN-101-temp' ORDER BY 1", 'versions');
    expect(rows).toEqual([[1, 1, '2026-11-01 08:00:00'], [2, 1.02, '2026-11-02 12:00:30']]);
  });

  test("a request that contradicts the registry is refused with the registry's words, and changes nothing", async () => {
    await expect(run(['mount-sensor', '--sensor', 'VAN-999-temp', '--type', 'temp', '--vehicle', 'VAN-999'])).rejects.toThrow(/mount-sensor: .*vehicle VAN-999 is not registered \(add-vehicle first\)/);
    await expect(run(['calibrate', '--sensor', 'VAN-101-temp', '--version', '2', '--scale', '1.05', '--offset', '-1.5', '--at', '2026-11-02T12:00:30Z'])).rejects.toThrow(
      /calibration version 2 of sensor VAN-101-temp exists with other values/,
    );
    await expect(run(['calibrate', '--sensor', 'VAN-101-temp', '--version', '3', '--scale', '0', '--offset', '0', '--at', '2026-11-03T00:00:00Z'])).rejects.toThrow(/calibration_scale_positive/);
    // "now" (08:00 on the 1st here) is before version 2's time: a back-dated calibration is refused.
    await expect(run(['calibrate', '--sensor', 'VAN-101-temp', '--version', '3', '--scale', '1.1', '--offset', '0'])).rejects.toThrow(/starts at 2026-11-01 08:00:00\+00, before version 2/);
    expect(await queryRows(api.client, where, "SELECT COUNT(*) FROM registry.device_versions WHERE sensor_id = 'VAN-101-temp'", 'count')).toEqual([[2]]);
  });
});

describe('npm run registry', () => {
  const command = (argv: string[]) =>
    spawnSync(path.join(__dirname, '..', '..', 'node_modules', '.bin', 'ts-node'), ['--transpile-only', path.join(__dirname, '..', '..', 'tools', 'registry', 'index.ts'), ...argv], {
      encoding: 'utf8',
      env: {
        ...process.env,
        // The SDK's own override of one service's endpoint: the Data API is the stand-in.
        AWS_ENDPOINT_URL_RDS_DATA: api.endpoint,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        NODE_NO_WARNINGS: '1',
      },
    });

  test('prints one JSON line of what it did; exits 2 on a bad command line, 1 on a refusal', () => {
    const target = ['--cluster-arn', cluster, '--secret-arn', secret, '--database', 'registry', '--env', 'dev'];
    const ok = command(['add-vehicle', '--vehicle', 'VAN-202', '--at', '2026-11-05T07:00:00Z', ...target]);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ op: 'add-vehicle', vehicle: 'VAN-202', at: '2026-11-05T07:00:00Z', outcome: 'added' });
    const usage = command(['add-vehicle', ...target]);
    expect([usage.status, usage.stdout]).toEqual([2, '']);
    expect(usage.stderr).toMatch(/^registry: add-vehicle: missing --vehicle/);
    const refused = command(['mount-sensor', '--sensor', 'X-temp', '--type', 'temp', '--vehicle', 'NOPE', ...target]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/vehicle NOPE is not registered/);
  });

  test('apply --file: every line checked before any is sent; then each in order, stopping at a refusal with the ones before it applied', () => {
    const target = ['--cluster-arn', cluster, '--secret-arn', secret, '--database', 'registry', '--env', 'dev'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-apply-'));
    const file = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const typo = command(['apply', '--file', file('typo.txt', 'add-vehicle --vehicle VAN-301 --at 2026-11-06T07:00:00Z\nmount-sensor --sensor VAN-301-temp --vehicle VAN-301\n'), ...target]);
    expect([typo.status, typo.stdout]).toEqual([2, '']);
    expect(typo.stderr).toMatch(/^registry: apply: 1 line\(s\) cannot be run, nothing was sent:\n {2}line 2: mount-sensor: missing --type/);
    const fleet = file(
      'fleet.txt',
      [
        '# the van and its sensor',
        'add-vehicle --vehicle VAN-301 --at 2026-11-06T07:00:00Z',
        '',
        'mount-sensor --sensor VAN-301-temp --type temp --vehicle VAN-301 --at 2026-11-06T07:00:00Z',
        'calibrate --sensor VAN-301-temp --version 2 --scale 1.02 --offset -1.5 --at 2026-11-06T08:00:00Z',
        'mount-sensor --sensor VAN-301-fuel --type fuel --vehicle VAN-999 --at 2026-11-06T07:00:00Z',
      ].join('\n'),
    );
    const partly = command(['apply', '--file', fleet, ...target]);
    expect(partly.status).toBe(1);
    expect(partly.stdout.trim().split('\n').map((l) => JSON.parse(l).outcome)).toEqual(['added', 'mounted', 'calibrated']);
    expect(partly.stderr).toMatch(/operation 4 of 4 \(mount-sensor\) refused, the ones before it applied: .*vehicle VAN-999 is not registered/);
    // fixed and run again whole: what was applied is unchanged, the rest is applied
    fs.writeFileSync(fleet, fs.readFileSync(fleet, 'utf8').replace('VAN-999', 'VAN-301'));
    const again = command(['apply', '--file', fleet, ...target]);
    expect(again.status).toBe(0);
    expect(again.stdout.trim().split('\n').map((l) => [JSON.parse(l).outcome, JSON.parse(l).deviceVersion])).toEqual([
      ['unchanged', undefined], ['unchanged', 2], ['unchanged', 2], ['mounted', 1],
    ]);
  });
});

describe('a file of registry operations', () => {
  test('a line that names where is refused: the apply command line says it once', () => {
    expect(() => parseRegistryFile('add-vehicle --vehicle V1 --env prod\n', NOW)).toThrow(/line 1: --env belongs on the apply command line/);
    expect(() => parseRegistryFile('# nothing\n\n', NOW)).toThrow('apply: the file has no operation');
    expect(parseRegistryFile('add-vehicle --vehicle V1\n  calibrate --sensor S1 --version 2 --scale 1 --offset 0 --at 2026-11-02T00:00:00Z  \n', NOW)).toEqual([
      { op: 'add-vehicle', vehicle: 'V1', at: '2026-11-01T08:00:00.000Z' },
      { op: 'calibrate', sensor: 'S1', version: 2, scale: 1, offset: 0, at: '2026-11-02T00:00:00Z' },
    ]);
  });
});
