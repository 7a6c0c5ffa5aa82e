import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MOVING_INDEX, OPEN_INDEX } from '../../lambda/telemetry-alerts/store';
import { MOTO_CREDENTIALS, MOTO_REGION } from './moto';

/** A DynamoDB document client for moto_server on 127.0.0.1. */
export function motoDynamoDb(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** The alerts table as the stack declares it (keys, the sparse indexes of open alerts by severity and of vehicles last seen moving). */
export async function createAlertsTable(client: DynamoDBDocumentClient, tableName: string, openIndex: string = OPEN_INDEX): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'vehicle_id', AttributeType: 'S' },
        { AttributeName: 'alert_id', AttributeType: 'S' },
        { AttributeName: 'open_severity', AttributeType: 'S' },
        { AttributeName: 'opened_at', AttributeType: 'S' },
        { AttributeName: 'moving_key', AttributeType: 'S' },
        { AttributeName: 'last_seen', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'vehicle_id', KeyType: 'HASH' },
        { AttributeName: 'alert_id', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: openIndex,
          KeySchema: [
            { AttributeName: 'open_severity', KeyType: 'HASH' },
            { AttributeName: 'opened_at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: MOVING_INDEX,
          KeySchema: [
            { AttributeName: 'moving_key', KeyType: 'HASH' },
            { AttributeName: 'last_seen', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['silent_since'] },
        },
      ],
    }),
  );
}
