import { DynamoDBDocumentClient, QueryCommand, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { KpiError } from '../shared/kpi/errors';
import { OPEN_INDEX, STATE_SORT_KEY } from '../telemetry-alerts/store';

/**
 * The live alerts as the KPI API serves them (`GET /alerts`, `GET /vehicles/{id}/alerts`), read
 * from the alerts table the operations stack keeps (lambda/telemetry-alerts): open alerts by
 * severity through the sparse index, a vehicle's alerts through its partition. Pages of at most
 * `pageSize` items, with an opaque token for the next.
 */

export interface AlertsReader {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly pageSize: number;
}

const SEVERITIES = ['critical', 'warning'] as const;
const STATUSES = ['open', 'closed'] as const;
const VEHICLE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** What an alert item shows; the table's bookkeeping (index key, TTL) stays inside. */
const FIELDS = ['vehicle_id', 'alert_id', 'rule', 'severity', 'status', 'opened_at', 'updated_at', 'closed_at', 'peak', 'last_value'] as const;

export interface AlertsPage {
  readonly alerts: Record<string, unknown>[];
  readonly nextPageToken?: string;
}

/** Open alerts of one severity, or of both (critical first), oldest opening first. */
export async function openAlerts(reader: AlertsReader, query: Readonly<Record<string, string | undefined>>): Promise<AlertsPage> {
  onlyParameters(query, ['status', 'severity', 'pageToken']);
  if (query.status !== undefined && query.status !== 'open') {
    throw new KpiError('BAD_PARAMETER', "'status' of /alerts can only be open; a vehicle's closed alerts are at /vehicles/{id}/alerts?status=closed", 'status');
  }
  const severity = oneOf(query.severity, SEVERITIES, 'severity');
  const token = decodePageToken(query.pageToken);
  // Without a severity: critical first, then warning; the token says where the walk stands.
  const severities = severity ? [severity] : [...SEVERITIES];
  const start = token?.severity ? severities.indexOf(token.severity as (typeof SEVERITIES)[number]) : 0;
  const alerts: Record<string, unknown>[] = [];
  for (let i = Math.max(0, start); i < severities.length; i++) {
    const page = await queryPage(reader, {
      IndexName: OPEN_INDEX,
      KeyConditionExpression: 'open_severity = :s',
      ExpressionAttributeValues: { ':s': severities[i] },
      ExclusiveStartKey: i === start ? token?.key : undefined,
      Limit: reader.pageSize - alerts.length,
    });
    alerts.push(...page.items);
    if (page.lastKey) return { alerts, nextPageToken: encodePageToken({ severity: severities[i], key: page.lastKey }) };
    if (alerts.length >= reader.pageSize && i + 1 < severities.length) return { alerts, nextPageToken: encodePageToken({ severity: severities[i + 1] }) };
  }
  return { alerts };
}

/** One vehicle's alerts, open and closed (or one of them), in order of opening. */
export async function vehicleAlerts(reader: AlertsReader, vehicleId: string, query: Readonly<Record<string, string | undefined>>): Promise<AlertsPage> {
  onlyParameters(query, ['status', 'pageToken']);
  if (!VEHICLE_ID.test(vehicleId)) throw new KpiError('BAD_PARAMETER', `'${vehicleId.slice(0, 40)}' is not a vehicle id`, 'id');
  const status = oneOf(query.status, STATUSES, 'status');
  const token = decodePageToken(query.pageToken);
  const page = await queryPage(reader, {
    KeyConditionExpression: 'vehicle_id = :v',
    // The vehicle's rule state shares its partition; only alerts (items with a rule) are shown.
    FilterExpression: status ? 'attribute_exists(#rule) AND #status = :status' : 'attribute_exists(#rule)',
    ExpressionAttributeNames: { '#rule': 'rule', ...(status ? { '#status': 'status' } : {}) },
    ExpressionAttributeValues: { ':v': vehicleId, ...(status ? { ':status': status } : {}) },
    ExclusiveStartKey: token?.key,
    Limit: reader.pageSize,
  });
  return { alerts: page.items, ...(page.lastKey ? { nextPageToken: encodePageToken({ key: page.lastKey }) } : {}) };
}

async function queryPage(reader: AlertsReader, input: Omit<QueryCommandInput, 'TableName'>): Promise<{ items: Record<string, unknown>[]; lastKey?: Record<string, unknown> }> {
  const response = await reader.client.send(new QueryCommand({ TableName: reader.tableName, ...input }));
  const items = (response.Items ?? []).filter((i) => i.alert_id !== STATE_SORT_KEY).map((i) => Object.fromEntries(FIELDS.filter((f) => i[f] !== undefined).map((f) => [f, i[f]])));
  return { items, lastKey: response.LastEvaluatedKey };
}

function onlyParameters(query: Readonly<Record<string, string | undefined>>, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((k) => query[k] !== undefined && !allowed.includes(k));
  if (unknown.length > 0) throw new KpiError('UNKNOWN_PARAMETER', `this route takes ${allowed.join(', ')}, not ${unknown.join(', ')}`, unknown[0]);
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new KpiError('BAD_PARAMETER', `'${name}' must be one of ${allowed.join(', ')}, got '${value.slice(0, 40)}'`, name);
  return value as T;
}

interface PageToken {
  readonly severity?: string;
  readonly key?: Record<string, unknown>;
}

function encodePageToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

function decodePageToken(text: string | undefined): PageToken | undefined {
  if (text === undefined) return undefined;
  try {
    if (!/^[A-Za-z0-9_-]{1,2048}$/.test(text)) throw new Error('not base64url');
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as PageToken;
    if (typeof token !== 'object' || token === null) throw new Error('not an object');
    return token;
  } catch {
    throw new KpiError('BAD_PAGE_TOKEN', 'the pageToken is not one this API gave', 'pageToken');
  }
}
