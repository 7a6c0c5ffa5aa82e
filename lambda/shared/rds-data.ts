import { BeginTransactionCommand, CommitTransactionCommand, ExecuteStatementCommand, Field, RDSDataClient, RollbackTransactionCommand, SqlParameter } from '@aws-sdk/client-rds-data';

/** Which cluster, database and credentials (a Secrets Manager secret) the RDS Data API uses. */
export interface RdsDataTarget {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

/** A value of a named parameter (`:name` in the SQL). */
export type SqlValue = string | number | boolean | null;

/** Parameters in the Data API's typed form: an integer as a long, another number as a double. */
export function sqlParameters(values: Record<string, SqlValue>): SqlParameter[] {
  return Object.entries(values).map(([name, v]) => {
    if (v === null) return { name, value: { isNull: true } };
    if (typeof v === 'boolean') return { name, value: { booleanValue: v } };
    if (typeof v === 'number') return { name, value: Number.isInteger(v) ? { longValue: v } : { doubleValue: v } };
    return { name, value: { stringValue: v } };
  });
}

/** A field of a result row as a plain value. */
export function fieldValue(field: Field): SqlValue {
  if (field.isNull) return null;
  return field.stringValue ?? field.longValue ?? field.doubleValue ?? field.booleanValue ?? null;
}

/** Why a statement failed: what it was doing, and the database's words. */
export class StatementFailed extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StatementFailed';
  }
}

/** One statement on its own (it commits by itself); its rows as plain values. */
export async function queryRows(client: RDSDataClient, where: RdsDataTarget, sql: string, what: string, values: Record<string, SqlValue> = {}): Promise<SqlValue[][]> {
  try {
    const out = await client.send(new ExecuteStatementCommand({ ...where, sql, parameters: sqlParameters(values) }));
    return (out.records ?? []).map((row) => row.map(fieldValue));
  } catch (e) {
    throw new StatementFailed(what, e);
  }
}

/**
 * Statements in one transaction, one call each (the Data API takes one statement a call): all of
 * them or, on the first failure, none (rolled back), the failure naming the statement.
 */
export async function runInOneTransaction(client: RDSDataClient, where: RdsDataTarget, statements: readonly string[], what: string): Promise<void> {
  const { transactionId } = await client.send(new BeginTransactionCommand(where));
  try {
    for (const [i, sql] of statements.entries()) {
      try {
        await client.send(new ExecuteStatementCommand({ ...where, sql, transactionId }));
      } catch (e) {
        throw new StatementFailed(`${what}, statement ${i + 1} of ${statements.length} (${sql.split('\n')[0].slice(0, 120)})`, e);
      }
    }
    await client.send(new CommitTransactionCommand({ resourceArn: where.resourceArn, secretArn: where.secretArn, transactionId }));
  } catch (e) {
    // The statement's error is the one to report; a rollback that fails too (the transaction
    // already gone) changes nothing, as the Data API ends an unfinished transaction on its own.
    await client.send(new RollbackTransactionCommand({ resourceArn: where.resourceArn, secretArn: where.secretArn, transactionId })).catch(() => undefined);
    throw e;
  }
}
