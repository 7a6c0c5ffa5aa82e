import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MOTO_CREDENTIALS, MOTO_REGION } from './moto';

/** A DynamoDB document client for moto_server on 127.0.0.1. */
export function motoDynamoDb(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** The alerts table as the stack declares it (keys, the sparse index of open alerts by severity). */
export async function createAlertsTable(client: DynamoDBDocumentClient, tableName: string, openIndex: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'vehicle_id', AttributeType: 'S' },
        { AttributeName: 'alert_id', AttributeType: 'S' },
        { AttributeName: 'open_severity', AttributeType: 'S' },
        { AttributeName: 'opened_at', AttributeType: 'S' },
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
      ],
    }),
  );
}
