import { CfnOutput } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { kpiAthenaSettings } from '../config/serving';
import { KpiApi, monitorKpiApi } from '../constructs/kpi-api';
import { KpiDashboard } from '../constructs/kpi-dashboard';
import { LakeAccess } from '../constructs/lake-access';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformNetwork } from '../constructs/platform-network';
import { loadCatalogue } from '../../lambda/shared/kpi/catalogue';
import { PATHS } from '../paths';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ServingStackProps extends PlatformStackProps {
  /** The live alerts table (operations stack), served by the API next to the KPIs. */
  readonly alertsTable: dynamodb.ITable;
  readonly network: PlatformNetwork;
  readonly keys: PlatformKeys;
  readonly access: LakeAccess;
  readonly monitoring: PlatformMonitoring;
}

/** The ways people read the KPIs and the live alerts: the KPI API for applications, the QuickSight dashboard where configured (the kpi command needs no stack). */
export class ServingStack extends PlatformStack {
  /** The REST API, its function, access logs, and where configured its user pool and web ACL. */
  readonly kpiApi: KpiApi;
  /** The QuickSight data source, dataset and dashboard (config bi.quicksight). */
  readonly dashboard?: KpiDashboard;

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const api = config.serving.api;
    this.kpiApi = new KpiApi(this, 'KpiApi', {
      apiName: names.resource('kpi-api'),
      settings: {
        athena: kpiAthenaSettings(config),
        maxRangeDays: config.serving.maxRangeDays,
        syncWaitMs: api.syncWaitSeconds * 1000,
        pageSize: api.pageSize,
      },
      catalogue: loadCatalogue(PATHS.queries),
      grantQueries: props.access.grantAggregatedQueries,
      alerts: { table: props.alertsTable, key: props.keys.operations },
      throttle: api.throttle,
      dailyQuota: api.dailyQuota,
      cognito: api.cognito.enabled,
      waf: api.waf.enabled ? { requestsPerFiveMinutesPerIp: api.waf.requestsPerFiveMinutesPerIp } : undefined,
      memoryMiB: api.memoryMiB,
      reservedConcurrency: api.reservedConcurrency,
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      removalPolicy: this.removalPolicy,
    });
    monitorKpiApi(props.monitoring, this.kpiApi);

    const quicksight = config.bi.quicksight;
    if (quicksight.enabled) {
      this.dashboard = new KpiDashboard(this, 'Dashboard', {
        namePrefix: config.resourcePrefix,
        workGroup: kpiAthenaSettings(config).workGroup,
        database: kpiAthenaSettings(config).database,
        grantQueries: props.access.grantAggregatedQueries,
        authors: quicksight.authors,
        readers: quicksight.readers,
        importMode: quicksight.importMode,
        refreshTimeUtc: quicksight.refreshTimeUtc,
      });
    }
    new CfnOutput(this, 'KpiApiUrl', { value: this.kpiApi.url, description: 'KPI API base URL: sign requests with SigV4 (service execute-api)' });
  }
}
