import { EnvironmentConfig } from '../schema';

type DmsSources = EnvironmentConfig['ingestion']['dms']['sources'];

/**
 * The business databases every environment replicates: the same tables, each environment's own
 * secret (telemetry-lakehouse/<env>/...), which holds that environment's host and credentials, and
 * its own SSM parameter with the CA that signed that environment's server certificate.
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
      caCertificateParameter: `/telemetry-lakehouse/${envName}/crm-source-ca`,
      tables: [{ schema: 'public', table: 'customers', dataset: 'customers' }],
    },
    legacy_sql: {
      engine: 'sqlserver',
      databaseName: 'Logistics',
      secret: `telemetry-lakehouse/${envName}/legacy-sql-source`,
      sourceCidr: '10.100.1.0/24',
      port: 1433,
      sslMode: 'verify-full',
      caCertificateParameter: `/telemetry-lakehouse/${envName}/legacy-sql-source-ca`,
      tables: [{ schema: 'dbo', table: 'Shipments', dataset: 'shipments' }],
    },
  };
}
