import { glueDatabaseName, analyticsWorkgroupName } from './naming';
import { EnvironmentConfig } from './schema';

/**
 * What the Athena core needs of an environment (lambda/shared/kpi/athena.ts), computed in one place
 * for the KPI API (its stack writes it into the function's settings) and the kpi command.
 */
export function kpiAthenaSettings(config: EnvironmentConfig) {
  return {
    workGroup: analyticsWorkgroupName(config),
    database: glueDatabaseName(config, 'aggregated'),
    resultReuseMaxAgeMinutes: config.serving.resultReuseMaxAgeMinutes,
    bytesScannedCutoff: config.athena.bytesScannedCutoffPerQuery,
  };
}
