import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AlertsTable } from '../../lambda/telemetry-alerts/store';
import { createAlertsTable, motoDynamoDb } from '../../tools/stand-ins/dynamodb';
import { Moto, startMoto } from '../../tools/stand-ins/moto';

/** moto_server on 127.0.0.1 for a test file, and a fresh alerts table (as the stack declares it) for each test. */
export function alertsTableFixture(prefix: string): { client: DynamoDBDocumentClient; table: AlertsTable } {
  const fixture = {} as { client: DynamoDBDocumentClient; table: AlertsTable };
  let moto: Moto | undefined;
  let n = 0;
  beforeAll(async () => {
    moto = await startMoto();
    fixture.client = motoDynamoDb(moto.endpoint);
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    fixture.table = { client: fixture.client, tableName: `${prefix}-${++n}`, closedRetentionDays: 30 };
    await createAlertsTable(fixture.client, fixture.table.tableName);
  });
  return fixture;
}
