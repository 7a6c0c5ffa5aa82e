import * as path from 'path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { loadCatalogue } from '../shared/kpi/catalogue';
import { settingsFromEnvironment } from '../shared/settings';
import { route } from './core';
import { KPI_API_SETTINGS, kpiApiSettings } from './settings';

/**
 * API Gateway (REST, proxy integration) entry point of the KPI API: settings from the environment,
 * the KPI catalogue from the queries/ folder bundled beside this file (the same files as the named
 * queries), Athena through the function's role.
 */
const logger = new Logger({ serviceName: 'kpi-api' });
const athena = new AthenaClient({});
// Parsed at start: a deployment that wrote them wrong fails every invocation with the field named.
const settings = settingsFromEnvironment(KPI_API_SETTINGS, kpiApiSettings, process.env);
const catalogue = loadCatalogue(process.env.KPI_QUERIES_DIR ?? path.join(__dirname, 'queries'));
const alerts = { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: settings.alertsTableName, pageSize: Math.min(settings.pageSize, 100) };

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const response = await route(
    { path: event.path, query: event.queryStringParameters ?? {} },
    { athena, alerts, catalogue, settings, log: (message, details) => logger.error(message, details) },
  );
  logger.info('answered', { path: event.path, status: response.statusCode, code: response.body.code, queryId: response.body.queryId });
  return {
    statusCode: response.statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(response.body),
  };
}
