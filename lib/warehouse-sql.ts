import * as fs from 'fs';
import * as path from 'path';
import { PATHS } from './paths';

/**
 * The warehouse's SQL (warehouse/) as the deployed platform runs it through the Redshift Data API:
 * the migrations the deploy-time custom resource applies, and the daily load the state machine
 * runs. The same files run on PostgreSQL in the tests through tools/engines/warehouse_sql.py,
 * which follows the same rules; test/warehouse-sql.test.ts holds the two to the same statements.
 *
 * - A migration `V<n>__<name>.redshift.sql` runs on Redshift alone; on PostgreSQL it is replaced by
 *   `warehouse/local/V<n>__<name>.sql` if there is one, or by nothing.
 * - A file is split into statements at a `;` that ends a line, comments dropped (the warehouse's
 *   SQL keeps no `;` inside a literal).
 * - `{{name}}` placeholders are filled from the values given; a missing value is an error.
 */
export type WarehouseEngine = 'redshift' | 'postgres';

export interface WarehouseMigration {
  /** `V<n>__<name>`, recorded in public.schema_migrations once applied. */
  readonly version: string;
  readonly statements: string[];
}

/** The Data API runs at most 40 statements in one BatchExecuteStatement (one transaction). */
export const DATA_API_BATCH_LIMIT = 40;
const REDSHIFT_ONLY = '.redshift.sql';
const VERSION = /^V(\d+)__[a-z0-9_]+$/;
const PLACEHOLDER = /\{\{([a-z_]+)\}\}/g;

export function sqlStatements(sql: string): string[] {
  const text = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return text
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function renderSql(sql: string, values: Readonly<Record<string, string>>): string {
  const missing = [...new Set([...sql.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((name) => !(name in values)))].sort();
  if (missing.length > 0) throw new Error(`no value for ${missing.join(', ')}`);
  return sql.replace(PLACEHOLDER, (_, name: string) => values[name]);
}

/** The migrations in order, each rendered with `values` (the stack's names on Redshift) and split; `root` is warehouse/ (another in the tests). */
export function warehouseMigrations(engine: WarehouseEngine, values: Readonly<Record<string, string>> = {}, root: string = PATHS.warehouse): WarehouseMigration[] {
  const folder = path.join(root, 'migrations');
  const files = fs
    .readdirSync(folder)
    .filter((f) => /^V\d+__.*\.sql$/.test(f))
    .sort((a, b) => Number(a.slice(1).split('__')[0]) - Number(b.slice(1).split('__')[0]));
  const chosen: { version: string; file: string }[] = [];
  for (const file of files) {
    const version = file.endsWith(REDSHIFT_ONLY) ? file.slice(0, -REDSHIFT_ONLY.length) : file.slice(0, -'.sql'.length);
    if (!VERSION.test(version)) throw new Error(`warehouse migration ${file}: its name must be V<n>__<lower_snake_name>.sql`);
    if (file.endsWith(REDSHIFT_ONLY) && engine !== 'redshift') {
      const local = path.join(root, 'local', `${version}.sql`);
      if (fs.existsSync(local)) chosen.push({ version, file: local });
      continue;
    }
    chosen.push({ version, file: path.join(folder, file) });
  }
  return chosen.map(({ version, file }) => {
    const statements = sqlStatements(renderSql(fs.readFileSync(file, 'utf8'), values));
    // One statement more is the record of the migration, in the same transaction.
    if (statements.length + 1 > DATA_API_BATCH_LIMIT) {
      throw new Error(`warehouse migration ${version} has ${statements.length} statements: the Data API runs at most ${DATA_API_BATCH_LIMIT - 1} and its record in one transaction; split it`);
    }
    return { version, statements };
  });
}

/** The load's files in order: the dates the lake recomputed since the last load, the star for them, the watermark. */
export const PENDING_LOAD_FILES = ['pending_dates.sql', 'star.sql', 'advance_watermark.sql'] as const;

/** The daily load's statements, one transaction (one BatchExecuteStatement). */
export function warehouseLoadStatements(): string[] {
  const statements = PENDING_LOAD_FILES.flatMap((f) => sqlStatements(renderSql(fs.readFileSync(path.join(PATHS.warehouse, 'load', f), 'utf8'), {})));
  if (statements.length > DATA_API_BATCH_LIMIT) throw new Error(`the warehouse load has ${statements.length} statements; the Data API runs at most ${DATA_API_BATCH_LIMIT} in one transaction`);
  return statements;
}
