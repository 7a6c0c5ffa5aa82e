/** A migration as a stack hands it to its custom resource: `V<n>__<name>` and its statements. */
export interface Migration {
  readonly version: string;
  readonly statements: readonly string[];
}

export interface MigrationOutcome {
  readonly applied: string[];
  readonly alreadyApplied: string[];
}

const VERSION = /^V(\d+)__[a-z0-9_]+$/;

/**
 * Checks the migrations before any SQL runs (their versions are written into SQL): each named
 * `V<n>__<lower_snake_name>`, none empty, in strictly increasing order.
 */
export function checkMigrations(migrations: readonly Migration[]): void {
  const numbers = migrations.map((m) => {
    const match = VERSION.exec(m.version);
    if (!match) throw new Error(`migration version ${JSON.stringify(m.version)} is not V<n>__<lower_snake_name>`);
    if (m.statements.length === 0) throw new Error(`migration ${m.version} has no statements`);
    return Number(match[1]);
  });
  numbers.forEach((n, i) => {
    if (i > 0 && n <= numbers[i - 1]) throw new Error(`migrations out of order: ${migrations[i].version} after ${migrations[i - 1].version}`);
  });
}

/** A timestamp as SQL reads it, to the millisecond, in UTC: `2026-12-01 03:00:00.000`. */
export function sqlTimestamp(at: Date): string {
  return at.toISOString().replace('T', ' ').replace('Z', '');
}
