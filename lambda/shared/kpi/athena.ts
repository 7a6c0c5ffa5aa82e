import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { compile, Kpi } from './catalogue';
import { KpiError } from './errors';

/**
 * The Athena core that the `kpi` command and the KPI API share: start a KPI's query in the
 * platform's workgroup with execution parameters, wait with capped backoff, read its results a
 * page at a time with the values typed, and turn every Athena outcome into a result or a
 * `KpiError` with a stable code.
 */

export type AthenaSender = Pick<AthenaClient, 'send'>;

export interface AthenaSettings {
  readonly workGroup: string;
  /** The aggregated zone's Glue database. */
  readonly database: string;
  /** Athena reuses the result of the same query and parameters younger than this; 0 turns reuse off. */
  readonly resultReuseMaxAgeMinutes: number;
  /** The workgroup's bytes-scanned cutoff, to tell a query it cancelled from one a person cancelled. */
  readonly bytesScannedCutoff: number;
}

export interface WaitSettings {
  /** Give up waiting (the query keeps running) after this long. */
  readonly timeoutMs: number;
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface QueryStatus {
  readonly queryId: string;
  readonly state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED';
  readonly bytesScanned: number;
  /** True when Athena answered from a previous result (result reuse). */
  readonly reused: boolean;
}

export type CellValue = string | number | boolean | null;

export interface ResultPage {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly CellValue[][];
  /** Token of the next page; absent on the last. */
  readonly nextToken?: string;
}

export async function startKpiQuery(client: AthenaSender, settings: AthenaSettings, kpi: Kpi, values: Readonly<Record<string, string>>): Promise<string> {
  const { sql, executionParameters } = compile(kpi, values);
  const response = await refusedAsFailed(() =>
    client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        ExecutionParameters: executionParameters.length > 0 ? executionParameters : undefined,
        WorkGroup: settings.workGroup,
        QueryExecutionContext: { Database: settings.database },
        ResultReuseConfiguration: {
          ResultReuseByAgeConfiguration: { Enabled: settings.resultReuseMaxAgeMinutes > 0, MaxAgeInMinutes: settings.resultReuseMaxAgeMinutes || undefined },
        },
      }),
    ),
  );
  if (!response.QueryExecutionId) throw new KpiError('QUERY_FAILED', 'Athena returned no query id');
  return response.QueryExecutionId;
}

/** Where a query stands; a failed or cancelled one throws its KpiError with Athena's reason. */
export async function queryStatus(client: AthenaSender, settings: Pick<AthenaSettings, 'bytesScannedCutoff'>, queryId: string): Promise<QueryStatus> {
  if (!QUERY_ID.test(queryId)) throw new KpiError('UNKNOWN_QUERY_ID', `'${queryId}' is not a query id`);
  const { QueryExecution: execution } = await call(() => client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId })));
  if (!execution?.Status?.State) throw new KpiError('UNKNOWN_QUERY_ID', `no query ${queryId}`);
  const bytesScanned = execution.Statistics?.DataScannedInBytes ?? 0;
  const state = execution.Status.State;
  if (state === 'FAILED') throw new KpiError('QUERY_FAILED', `Athena failed the query ${queryId}: ${reasonOf(execution)}`);
  if (state === 'CANCELLED') {
    const reason = reasonOf(execution);
    if (bytesScanned >= settings.bytesScannedCutoff || /bytes|scan|limit/i.test(reason)) {
      throw new KpiError('SCAN_LIMIT_REACHED', `the query ${queryId} reached the workgroup's limit of ${settings.bytesScannedCutoff} bytes scanned per query (${reason}); narrow the date range`);
    }
    throw new KpiError('QUERY_CANCELLED', `the query ${queryId} was cancelled: ${reason}`);
  }
  return { queryId, state, bytesScanned, reused: execution.Statistics?.ResultReuseInformation?.ReusedPreviousResult ?? false };
}

/**
 * Polls until the query succeeds (returned), fails (thrown), or the timeout passes (returned
 * still QUEUED or RUNNING: the API answers 202 with its id). The wait doubles from pollInitialMs
 * up to pollMaxMs, and never sleeps past the timeout.
 */
export async function waitForQuery(client: AthenaSender, settings: Pick<AthenaSettings, 'bytesScannedCutoff'>, queryId: string, wait: WaitSettings): Promise<QueryStatus> {
  const now = wait.now ?? Date.now;
  const sleep = wait.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + wait.timeoutMs;
  let delay = wait.pollInitialMs;
  for (;;) {
    const status = await queryStatus(client, settings, queryId);
    const left = deadline - now();
    if (status.state === 'SUCCEEDED' || left <= 0) return status;
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, wait.pollMaxMs);
  }
}

/** One page of a succeeded query's rows, typed by their columns; Athena's header row is left out. */
export async function resultPage(client: AthenaSender, queryId: string, options: { nextToken?: string; maxResults: number }): Promise<ResultPage> {
  const response = await call(() => client.send(new GetQueryResultsCommand({ QueryExecutionId: queryId, NextToken: options.nextToken, MaxResults: options.maxResults })));
  const info = response.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
  const columns = info.map((c) => ({ name: c.Name ?? c.Label ?? '', type: (c.Type ?? 'varchar').toLowerCase() }));
  let raw = (response.ResultSet?.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue));
  // A SELECT's first page starts with the column names as a row.
  if (!options.nextToken && raw.length > 0 && raw[0].every((v, i) => v === columns[i]?.name)) raw = raw.slice(1);
  return { columns, rows: raw.map((r) => r.map((v, i) => typedValue(v, columns[i]?.type ?? 'varchar'))), nextToken: response.NextToken };
}

/** Every row of a succeeded query, page after page. */
export async function allRows(client: AthenaSender, queryId: string, pageSize: number): Promise<ResultPage> {
  let page = await resultPage(client, queryId, { maxResults: pageSize });
  const rows = [...page.rows];
  while (page.nextToken) {
    page = await resultPage(client, queryId, { nextToken: page.nextToken, maxResults: pageSize });
    rows.push(...page.rows);
  }
  return { columns: page.columns, rows };
}

export async function cancelQuery(client: AthenaSender, queryId: string): Promise<void> {
  await call(() => client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId })));
}

/** Athena's text of a value as its column's type: numbers as numbers, booleans, dates as yyyy-MM-dd, absent as null. */
export function typedValue(value: string | undefined, type: string): CellValue {
  if (value === undefined) return null;
  switch (type.replace(/\(.*$/, '')) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int': {
      return Number(value);
    }
    case 'bigint': {
      const n = Number(value);
      // Beyond 2^53 a number would round; the exact digits are kept as text.
      return Number.isSafeInteger(n) ? n : value;
    }
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return value === 'NaN' || value === 'Infinity' || value === '-Infinity' ? value : Number(value);
    case 'boolean':
      return value === 'true';
    default:
      return value;
  }
}

const QUERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function reasonOf(execution: QueryExecution): string {
  return execution.Status?.AthenaError?.ErrorMessage ?? execution.Status?.StateChangeReason ?? 'no reason given';
}

/** A start Athena refuses outright (a statement it cannot parse, a parameter count that does not match) is a failed query, with its reason. */
async function refusedAsFailed<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await call(send);
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'InvalidRequestException') throw new KpiError('QUERY_FAILED', `Athena refused the query: ${e.message}`);
    throw error;
  }
}

/** An SDK call, its errors as KpiErrors where they have a meaning for the caller. */
async function call<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'ThrottlingException' || e.name === 'TooManyRequestsException') throw new KpiError('THROTTLED', `Athena is throttling requests: ${e.message}`);
    if (e.name === 'CredentialsProviderError') throw new KpiError('NO_CREDENTIALS', `no AWS credentials: ${e.message}; sign in (aws sso login, or AWS_PROFILE) and try again`);
    if (e.name === 'InvalidRequestException' && /QueryExecution .* (was not found|does not exist)/i.test(e.message ?? '')) {
      throw new KpiError('UNKNOWN_QUERY_ID', e.message ?? 'unknown query id');
    }
    throw error;
  }
}
