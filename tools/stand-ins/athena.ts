import { AthenaClient, CreateWorkGroupCommand } from '@aws-sdk/client-athena';
import { MOTO_CREDENTIALS, MOTO_REGION } from './moto';

/**
 * moto_server's Athena, for the KPI core, command and API: it runs no SQL, but answers each query
 * with the next result set queued through its API, and walks a query through QUEUED, RUNNING and
 * SUCCEEDED one step per GetQueryExecution when `stepByStep` is set. Real SDK round trips.
 */
export function motoAthena(endpoint: string): AthenaClient {
  return new AthenaClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
}

export async function createWorkGroup(athena: AthenaClient, name: string, outputLocation: string): Promise<void> {
  await athena.send(new CreateWorkGroupCommand({ Name: name, Configuration: { ResultConfiguration: { OutputLocation: outputLocation } } }));
}

export interface QueuedResult {
  /** Column name and Athena type, e.g. ['city', 'varchar'], ['fuel_l', 'double']. */
  readonly columns: readonly (readonly [string, string])[];
  /** Values as Athena's text; null for a SQL NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
}

/** Queues result sets, each answering the next query started; a SELECT's header row is added as Athena adds it. */
export async function queueResults(endpoint: string, results: readonly QueuedResult[]): Promise<void> {
  const body = {
    account_id: '123456789012',
    region: MOTO_REGION,
    results: results.map((r) => ({
      rows: [r.columns.map(([name]) => name), ...r.rows].map((row) => ({ Data: row.map((v) => (v === null ? {} : { VarCharValue: v })) })),
      column_info: r.columns.map(([name, type]) => ({ CatalogName: 'hive', SchemaName: '', TableName: '', Name: name, Label: name, Type: type, Precision: 0, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: false })),
    })),
  };
  const response = await fetch(`${endpoint}/moto-api/static/athena/query-results`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (response.status !== 201) throw new Error(`moto refused the queued results: ${response.status} ${await response.text()}`);
}

/** Each state (QUEUED, RUNNING) lasts `times` GetQueryExecution calls; 0 makes every query succeed at once. */
export async function stepQueries(endpoint: string, times: number): Promise<void> {
  const transition = times > 0 ? { progression: 'manual', times } : { progression: 'immediate' };
  const response = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 'athena::execution', transition }),
    headers: { 'content-type': 'application/json' },
  });
  if (!response.ok) throw new Error(`moto refused the transition: ${response.status}`);
}
