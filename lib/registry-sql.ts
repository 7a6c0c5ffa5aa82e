import * as fs from 'fs';
import * as path from 'path';
import { PATHS } from './paths';

/**
 * The device registry's SQL (registry/migrations/) as the deploy-time custom resource runs it
 * through the RDS Data API, which takes one statement a call. Locally, tools/engines/registry_sql.py
 * runs each file whole (PostgreSQL's simple query protocol splits it itself); the Data API tests
 * run these statements one by one on PostgreSQL, so the two must agree.
 */
export interface RegistryMigration {
  /** `V<n>__<name>`, recorded in public.registry_migrations once applied. */
  readonly version: string;
  readonly statements: string[];
}

const VERSION = /^V(\d+)__[a-z0-9_]+$/;

/**
 * The statements of a PostgreSQL file, split at the semicolons that end a statement: not those in
 * a quoted literal ('...', with '' inside), a quoted identifier ("..."), a dollar-quoted body
 * ($$...$$ or $tag$...$tag$, where a function's own statements live) or a comment (-- to the end of
 * the line, /* ... *\/). Comments are dropped; an unterminated quote or body is an error naming it.
 */
export function postgresStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  const take = (n: number) => {
    current += sql.slice(i, i + n);
    i += n;
  };
  while (i < sql.length) {
    const rest = sql.slice(i);
    if (rest.startsWith('--')) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
    } else if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw new Error(`an unterminated /* comment at offset ${i}`);
      i = end + 2;
      current += ' ';
    } else if (sql[i] === "'" || sql[i] === '"') {
      const quote = sql[i];
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(quote, j);
        if (k === -1) throw new Error(`an unterminated ${quote} quote at offset ${i}`);
        if (sql[k + 1] === quote) j = k + 2;
        else {
          j = k + 1;
          break;
        }
      }
      take(j - i);
    } else if (sql[i] === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(rest)) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest)![0];
      const end = sql.indexOf(tag, i + tag.length);
      if (end === -1) throw new Error(`an unterminated ${tag} body at offset ${i}`);
      take(end + tag.length - i);
    } else if (sql[i] === ';') {
      if (current.trim() !== '') statements.push(current.trim());
      current = '';
      i += 1;
    } else {
      take(1);
    }
  }
  if (current.trim() !== '') statements.push(current.trim());
  return statements;
}

/** Every migration under registry/migrations, in version order, split into its statements. */
export function registryMigrations(root: string = PATHS.registry): RegistryMigration[] {
  const folder = path.join(root, 'migrations');
  const files = fs.readdirSync(folder).filter((f) => f.endsWith('.sql'));
  const migrations = files.map((file) => {
    const version = file.replace(/\.sql$/, '');
    const match = VERSION.exec(version);
    if (!match) throw new Error(`registry/migrations/${file}: a migration is named V<n>__<lower_snake_name>.sql`);
    return { n: Number(match[1]), version, statements: postgresStatements(fs.readFileSync(path.join(folder, file), 'utf8')) };
  });
  migrations.sort((a, b) => a.n - b.n);
  migrations.forEach((m, i) => {
    if (i > 0 && m.n === migrations[i - 1].n) throw new Error(`registry/migrations: two migrations numbered ${m.n}`);
  });
  return migrations.map(({ version, statements }) => ({ version, statements }));
}
