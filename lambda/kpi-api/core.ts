import { AthenaSender, queryStatus, QueryStatus, resultPage, startKpiQuery, waitForQuery } from '../shared/kpi/athena';
import { Kpi, kpiOf, validateParameters } from '../shared/kpi/catalogue';
import { KpiError } from '../shared/kpi/errors';
import { AlertsReader, openAlerts, vehicleAlerts } from './alerts';
import { KpiApiSettings } from './settings';

/**
 * The KPI API's routes, independent of API Gateway's event shape (handler.ts adapts it):
 *
 * - `GET /kpis`: the catalogue, each KPI with its title and parameters;
 * - `GET /kpis/{kpi}?from=...&to=...&city=...`: runs the KPI; 200 with the first page of rows when
 *   Athena answers within `syncWaitMs`, else 202 with the query id to poll;
 * - `GET /queries/{id}[?pageToken=...]`: 202 while the query runs, then 200 with a page of rows and
 *   the token of the next page;
 * - `GET /alerts?status=open&severity=...` and `GET /vehicles/{id}/alerts?status=...`: the live
 *   fleet alerts (alerts.ts).
 *
 * Every error is JSON `{code, message, parameter?}` with a stable code and its HTTP status.
 */

export interface ApiRequest {
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly body: Record<string, unknown>;
}

export interface ApiDeps {
  readonly athena: AthenaSender;
  /** The live alerts table (operations stack). */
  readonly alerts: AlertsReader;
  readonly catalogue: readonly Kpi[];
  readonly settings: KpiApiSettings;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (message: string, details: Record<string, unknown>) => void;
}

export async function route(request: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    const parts = request.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 1 && parts[0] === 'kpis') return listKpis(deps);
    if (parts.length === 2 && parts[0] === 'kpis') return await runKpi(parts[1], request.query, deps);
    if (parts.length === 2 && parts[0] === 'queries') return await queryResults(parts[1], request.query, deps);
    if (parts.length === 1 && parts[0] === 'alerts') return { statusCode: 200, body: { ...(await openAlerts(deps.alerts, request.query)) } };
    if (parts.length === 3 && parts[0] === 'vehicles' && parts[2] === 'alerts') {
      return { statusCode: 200, body: { ...(await vehicleAlerts(deps.alerts, parts[1], request.query)) } };
    }
    return { statusCode: 404, body: { code: 'UNKNOWN_ROUTE', message: `no route ${request.path}; try GET /kpis` } };
  } catch (error) {
    if (error instanceof KpiError) return { statusCode: error.status, body: error.toJSON() };
    deps.log?.('unexpected error', { error: String((error as Error).stack ?? error), path: request.path });
    return { statusCode: 500, body: { code: 'INTERNAL', message: 'internal error; the function log has the details' } };
  }
}

function listKpis(deps: ApiDeps): ApiResponse {
  return {
    statusCode: 200,
    body: { kpis: deps.catalogue.map((k) => ({ name: k.name, title: k.title, parameters: k.parameters })) },
  };
}

async function runKpi(name: string, query: ApiRequest['query'], deps: ApiDeps): Promise<ApiResponse> {
  const kpi = kpiOf(deps.catalogue, name);
  const values = validateParameters(kpi, query, { maxRangeDays: deps.settings.maxRangeDays });
  const queryId = await startKpiQuery(deps.athena, deps.settings.athena, kpi, values);
  const status = await waitForQuery(deps.athena, deps.settings.athena, queryId, {
    timeoutMs: deps.settings.syncWaitMs,
    pollInitialMs: 200,
    pollMaxMs: 2_000,
    now: deps.now,
    sleep: deps.sleep,
  });
  return status.state === 'SUCCEEDED' ? page(status, undefined, deps) : running(status);
}

async function queryResults(queryId: string, query: ApiRequest['query'], deps: ApiDeps): Promise<ApiResponse> {
  const unknown = Object.keys(query).filter((k) => k !== 'pageToken' && query[k] !== undefined);
  if (unknown.length > 0) throw new KpiError('UNKNOWN_PARAMETER', `/queries/{id} takes only pageToken, not ${unknown.join(', ')}`, unknown[0]);
  const token = decodeToken(query.pageToken); // before Athena is asked
  const status = await queryStatus(deps.athena, deps.settings.athena, queryId);
  return status.state === 'SUCCEEDED' ? page(status, token, deps) : running(status);
}

async function page(status: QueryStatus, nextToken: string | undefined, deps: ApiDeps): Promise<ApiResponse> {
  let rows;
  try {
    rows = await resultPage(deps.athena, status.queryId, { nextToken, maxResults: deps.settings.pageSize });
  } catch (error) {
    if (nextToken && (error as { name?: string }).name === 'InvalidRequestException') {
      throw new KpiError('BAD_PAGE_TOKEN', 'the pageToken is not one this query gave', 'pageToken');
    }
    throw error;
  }
  return {
    statusCode: 200,
    body: {
      queryId: status.queryId,
      state: status.state,
      bytesScanned: status.bytesScanned,
      reused: status.reused,
      columns: rows.columns,
      rows: rows.rows,
      ...(rows.nextToken ? { nextPageToken: encodeToken(rows.nextToken), next: `/queries/${status.queryId}?pageToken=${encodeToken(rows.nextToken)}` } : {}),
    },
  };
}

function running(status: QueryStatus): ApiResponse {
  return { statusCode: 202, body: { queryId: status.queryId, state: status.state, poll: `/queries/${status.queryId}` } };
}

/** Athena's page token, opaque to clients and safe in a URL. */
function encodeToken(token: string): string {
  return Buffer.from(token, 'utf8').toString('base64url');
}

function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(token)) throw new KpiError('BAD_PAGE_TOKEN', 'the pageToken is not one this API gave', 'pageToken');
  return Buffer.from(token, 'base64url').toString('utf8');
}
