import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../lib/paths';
import { DATA_API_BATCH_LIMIT, renderSql, sqlStatements, warehouseLoadStatements, warehouseMigrations } from '../lib/warehouse-sql';

const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');

/** What tools/engines/warehouse_sql.py (the runner the PostgreSQL tests use) makes of the same files. */
function pythonSide(): { migrations: Record<string, [string, string[]][]>; load: string[] } {
  const script = [
    'import json, sys',
    `sys.path.insert(0, ${JSON.stringify(path.join(REPO_ROOT, 'tools', 'engines'))})`,
    'import warehouse_sql as w',
    'values = {"processed_database": "lake_processed", "aggregated_database": "lake_aggregated", "namespace_role_arn": "arn:aws:iam::123456789012:role/r"}',
    'out = {"migrations": {e: [(n, w.statements(w.render(p.read_text(), values if e == "redshift" else {}))) for n, p in w.migrations(e)] for e in ("redshift", "postgres")},',
    '       "load": w.load_statements()}',
    'print(json.dumps(out))',
  ].join('\n');
  const run = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the Python runner failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

describe('the warehouse SQL as the Data API runs it', () => {
  const values = { processed_database: 'lake_processed', aggregated_database: 'lake_aggregated', namespace_role_arn: 'arn:aws:iam::123456789012:role/r' };

  test('the deployed platform runs exactly the statements the PostgreSQL tests run (the TypeScript and Python runners agree)', () => {
    const python = pythonSide();
    for (const engine of ['redshift', 'postgres'] as const) {
      const ts = warehouseMigrations(engine, engine === 'redshift' ? values : {}).map((m) => [m.version, m.statements]);
      expect(ts).toEqual(python.migrations[engine]);
    }
    expect(warehouseLoadStatements()).toEqual(python.load);
  });

  test('Redshift gets its own files, PostgreSQL their local stand-ins or nothing', () => {
    const v008 = 'V008__devices_and_readings_physical_and_grants';
    expect(warehouseMigrations('redshift', values).map((m) => m.version)).toEqual([
      'V001__schemas', 'V002__staging', 'V003__core', 'V004__physical', 'V005__mart', 'V006__roles', 'V007__devices_and_readings', v008,
    ]);
    expect(warehouseMigrations('postgres').map((m) => m.version)).toEqual([
      'V001__schemas', 'V002__staging', 'V003__core', 'V005__mart', 'V006__roles', 'V007__devices_and_readings', v008,
    ]);
    expect(warehouseMigrations('redshift', values)[7].statements).toContain('ALTER TABLE core.fact_sensor_reading ALTER DISTSTYLE KEY DISTKEY sensor_id');
    expect(warehouseMigrations('postgres')[6].statements.join('\n')).not.toMatch(/DISTSTYLE|SORTKEY|TO ROLE/);
    const staging = warehouseMigrations('redshift', values)[1].statements;
    expect(staging[0]).toContain("FROM DATA CATALOG DATABASE 'lake_processed' IAM_ROLE 'arn:aws:iam::123456789012:role/r'");
    expect(warehouseMigrations('redshift', values)[5].statements).toContain('GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA core TO ROLE warehouse_loader');
  });

  test('a placeholder without a value is an error naming it, not an empty string', () => {
    expect(() => warehouseMigrations('redshift', { processed_database: 'p' })).toThrow('no value for aggregated_database, namespace_role_arn');
    expect(renderSql("SELECT '{{a}}'", { a: 'x' })).toBe("SELECT 'x'");
  });

  test('statements split at a ; that ends a line; comments dropped; a ; inside a line stays', () => {
    expect(sqlStatements("-- why\nSELECT 1;\nDO $$BEGIN x; END$$;\n  -- more\nSELECT 'a;b' FROM t;")).toEqual(['SELECT 1', 'DO $$BEGIN x; END$$', "SELECT 'a;b' FROM t"]);
  });

  test('the daily load fits one BatchExecuteStatement, so it is one transaction', () => {
    const load = warehouseLoadStatements();
    expect(load.length).toBeLessThanOrEqual(DATA_API_BATCH_LIMIT);
    expect(load[1]).toMatch(/^CREATE TEMP TABLE load_dates AS/);
    expect(load.slice(-2).map((s) => s.split(' (')[0])).toEqual(['INSERT INTO core.load_watermark', 'INSERT INTO core.readings_watermark']);
  });

  test('a migration too long for one transaction of the Data API, or with a name that is not V<n>__<name>, fails synth', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'warehouse-'));
    fs.mkdirSync(path.join(folder, 'migrations'));
    fs.mkdirSync(path.join(folder, 'local'));
    fs.writeFileSync(path.join(folder, 'migrations', 'V001__long.sql'), Array.from({ length: DATA_API_BATCH_LIMIT }, (_, i) => `SELECT ${i};`).join('\n'));
    expect(() => warehouseMigrations('postgres', {}, folder)).toThrow(`warehouse migration V001__long has ${DATA_API_BATCH_LIMIT} statements: the Data API runs at most ${DATA_API_BATCH_LIMIT - 1} and its record in one transaction; split it`);
    fs.writeFileSync(path.join(folder, 'migrations', 'V001__long.sql'), 'SELECT 1;');
    fs.writeFileSync(path.join(folder, 'migrations', 'V002__Bad-Name.sql'), 'SELECT 1;');
    expect(() => warehouseMigrations('postgres', {}, folder)).toThrow('warehouse migration V002__Bad-Name.sql: its name must be V<n>__<lower_snake_name>.sql');
  });
});
