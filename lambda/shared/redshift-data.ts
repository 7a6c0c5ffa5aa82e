import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  DescribeStatementResponse,
  ExecuteStatementCommand,
  Field,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { sleep } from './retry';

/** Where the SQL runs: a Redshift Serverless workgroup's database, as the admin (its secret) or as the caller's IAM identity. */
export interface DataApiTarget {
  readonly workgroupName: string;
  readonly database: string;
  /** The namespace's managed admin secret. @default - the caller's IAM identity (IAMR:<role>) */
  readonly secretArn?: string;
}

/** How long to wait for a statement: the Data API is asynchronous and every statement is polled to its end. */
export interface Polling {
  readonly intervalMs: number;
  /** Epoch milliseconds after which waiting stops with an error (before the Lambda's own timeout kills it silently). */
  readonly deadline: number;
  readonly now?: () => number;
  readonly wait?: (ms: number) => Promise<void>;
}

/** A statement that ended FAILED or ABORTED, with the service's error and the statement that failed. */
export class StatementFailed extends Error {
  constructor(
    readonly label: string,
    readonly status: string,
    readonly serviceError: string,
    readonly failedStatement?: string,
  ) {
    super(`${label} ${status.toLowerCase()}: ${serviceError}${failedStatement ? ` (in: ${failedStatement.slice(0, 200)})` : ''}`);
  }
}

const target = (t: DataApiTarget) => ({ WorkgroupName: t.workgroupName, Database: t.database, ...(t.secretArn ? { SecretArn: t.secretArn } : {}) });

async function waitForEnd(client: RedshiftDataClient, id: string, label: string, polling: Polling, sqls: readonly string[]): Promise<DescribeStatementResponse> {
  const now = polling.now ?? Date.now;
  const wait = polling.wait ?? sleep;
  for (;;) {
    const described = await client.send(new DescribeStatementCommand({ Id: id }));
    if (described.Status === 'FINISHED') return described;
    if (described.Status === 'FAILED' || described.Status === 'ABORTED') {
      const failedIndex = (described.SubStatements ?? []).findIndex((s) => s.Status === 'FAILED');
      const failed = failedIndex >= 0 ? sqls[failedIndex] : sqls.length === 1 ? sqls[0] : undefined;
      throw new StatementFailed(label, described.Status, described.Error ?? 'no error given', failed);
    }
    if (now() + polling.intervalMs > polling.deadline) {
      throw new Error(`${label} still ${described.Status} at the deadline (statement ${id}); it may still finish: check it with DescribeStatement before running it again`);
    }
    await wait(polling.intervalMs);
  }
}

/** Runs `sqls` in one transaction (BatchExecuteStatement) and waits for its end; throws StatementFailed if it failed (then nothing of it was written). */
export async function runInOneTransaction(client: RedshiftDataClient, where: DataApiTarget, sqls: readonly string[], label: string, polling: Polling): Promise<string> {
  const { Id } = await client.send(new BatchExecuteStatementCommand({ ...target(where), Sqls: [...sqls], StatementName: label.slice(0, 500) }));
  if (!Id) throw new Error(`${label}: the Data API returned no statement id`);
  await waitForEnd(client, Id, label, polling, sqls);
  return Id;
}

const fieldText = (f: Field): string | null =>
  f.isNull ? null : f.stringValue ?? (f.longValue !== undefined ? String(f.longValue) : f.doubleValue !== undefined ? String(f.doubleValue) : f.booleanValue !== undefined ? String(f.booleanValue) : null);

/** Runs one query and returns its rows as text (every page). */
export async function queryRows(client: RedshiftDataClient, where: DataApiTarget, sql: string, label: string, polling: Polling): Promise<(string | null)[][]> {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...target(where), Sql: sql, StatementName: label.slice(0, 500) }));
  if (!Id) throw new Error(`${label}: the Data API returned no statement id`);
  await waitForEnd(client, Id, label, polling, [sql]);
  const rows: (string | null)[][] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetStatementResultCommand({ Id, NextToken: nextToken }));
    for (const record of page.Records ?? []) rows.push(record.map(fieldText));
    nextToken = page.NextToken;
  } while (nextToken);
  return rows;
}
