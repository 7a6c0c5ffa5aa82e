import { EnvironmentConfig } from '../schema';

type DmsSources = EnvironmentConfig['ingestion']['dms']['sources'];

/**
 * The business databases every environment replicates: the same tables, each environment's own
 * secret (telemetry-lakehouse/<env>/...), which holds that environment's host and credentials.
 */
export function dmsSources(envName: EnvironmentConfig['envName']): DmsSources {
  return {
    crm: {
      engine: 'postgres',
      databaseName: 'crm',
      secret: `telemetry-lakehouse/${envName}/crm-source`,
      sourceCidr: '10.100.0.0/24',
      port: 5432,
      sslMode: 'verify-full',
      tables: [{ schema: 'public', table: 'customers', dataset: 'customers' }],
    },
    legacy_sql: {
      engine: 'sqlserver',
      databaseName: 'Logistics',
      secret: `telemetry-lakehouse/${envName}/legacy-sql-source`,
      sourceCidr: '10.100.1.0/24',
      port: 1433,
      sslMode: 'require',
      tables: [{ schema: 'dbo', table: 'Shipments', dataset: 'shipments' }],
    },
  };
}
