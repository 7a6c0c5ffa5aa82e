import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as quicksight from 'aws-cdk-lib/aws-quicksight';
import { Construct } from 'constructs';

export interface KpiDashboardProps {
  /** Prefix of every QuickSight id and name, e.g. `tlh-dev`. */
  readonly namePrefix: string;
  readonly workGroup: string;
  /** The aggregated zone's database, where telemetry_metrics lives. */
  readonly database: string;
  /** Grants the data source's role what the analyst role may do (LakeAccess.grantAggregatedQueries). */
  readonly grantQueries: (grantee: iam.IGrantable) => void;
  /** QuickSight users or groups who own the data source, dataset and dashboard. */
  readonly authors: readonly string[];
  /** @default - nobody but the authors */
  readonly readers?: readonly string[];
  readonly importMode: 'SPICE' | 'DIRECT_QUERY';
  /** HH:mm UTC of the daily SPICE refresh; unused in DIRECT_QUERY. */
  readonly refreshTimeUtc: string;
}

/** telemetry_metrics as the aggregation job writes it (glue-scripts/lakehouse/pipelines.py, METRICS_COLUMNS; a test holds the two together). */
export const TELEMETRY_METRICS_COLUMNS: readonly (readonly [string, 'DATETIME' | 'STRING' | 'INTEGER' | 'DECIMAL'])[] = [
  ['metric_date', 'DATETIME'],
  ['city', 'STRING'],
  ['temp_range', 'STRING'],
  ['weather_condition', 'STRING'],
  ['customer_segment', 'STRING'],
  ['intervals', 'INTEGER'],
  ['vehicles', 'INTEGER'],
  ['distance_km', 'DECIMAL'],
  ['fuel_l', 'DECIMAL'],
  ['fuel_l_per_100km', 'DECIMAL'],
];

/** Fuel per 100 km over whatever a visual groups: a ratio of sums, as the KPI catalogue computes it. */
const FUEL_PER_100_KM = 'sum({fuel_l}) * 100 / sum({distance_km})';

const OWNER_ACTIONS = {
  dataSource: ['DescribeDataSource', 'DescribeDataSourcePermissions', 'PassDataSource', 'UpdateDataSource', 'DeleteDataSource', 'UpdateDataSourcePermissions'],
  dataSet: ['DescribeDataSet', 'DescribeDataSetPermissions', 'PassDataSet', 'DescribeIngestion', 'ListIngestions', 'UpdateDataSet', 'DeleteDataSet', 'CreateIngestion', 'CancelIngestion', 'UpdateDataSetPermissions'],
  dashboard: [
    'DescribeDashboard',
    'ListDashboardVersions',
    'QueryDashboard',
    'UpdateDashboard',
    'DeleteDashboard',
    'DescribeDashboardPermissions',
    'UpdateDashboardPermissions',
    'UpdateDashboardPublishedVersion',
  ],
};
const READER_ACTIONS = ['DescribeDashboard', 'ListDashboardVersions', 'QueryDashboard'];

/**
 * The KPI dashboard in QuickSight, defined in code: an Athena data source in the platform's
 * workgroup through a role of its own (the aggregated zone only), a dataset over telemetry_metrics
 * (SPICE refreshed daily after the pipeline, or direct query), and a dashboard with fuel per 100 km
 * by city, temperature range, weather condition and customer segment, and the daily trend, shared
 * with the configured authors and readers.
 */
export class KpiDashboard extends Construct {
  readonly role: iam.Role;
  readonly dataSource: quicksight.CfnDataSource;
  readonly dataSet: quicksight.CfnDataSet;
  readonly dashboard: quicksight.CfnDashboard;

  constructor(scope: Construct, id: string, props: KpiDashboardProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    const permissions = (actions: readonly string[], principals: readonly string[]) => principals.map((principal) => ({ principal, actions: actions.map((a) => `quicksight:${a}`) }));

    this.role = new iam.Role(this, 'DataSourceRole', {
      assumedBy: new iam.ServicePrincipal('quicksight.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': account } } }),
      description: `QuickSight ${props.namePrefix}-kpis data source: Athena queries over the aggregated zone only`,
    });
    props.grantQueries(this.role);

    this.dataSource = new quicksight.CfnDataSource(this, 'DataSource', {
      awsAccountId: account,
      dataSourceId: `${props.namePrefix}-athena`,
      name: `${props.namePrefix} KPIs (Athena)`,
      type: 'ATHENA',
      dataSourceParameters: { athenaParameters: { workGroup: props.workGroup, roleArn: this.role.roleArn } },
      sslProperties: { disableSsl: false },
      permissions: permissions(OWNER_ACTIONS.dataSource, props.authors),
    });

    this.dataSet = new quicksight.CfnDataSet(this, 'DataSet', {
      awsAccountId: account,
      dataSetId: `${props.namePrefix}-telemetry-metrics`,
      name: `${props.namePrefix} telemetry_metrics`,
      importMode: props.importMode,
      physicalTableMap: {
        metrics: {
          relationalTable: {
            dataSourceArn: this.dataSource.attrArn,
            catalog: 'AwsDataCatalog',
            schema: props.database,
            name: 'telemetry_metrics',
            inputColumns: TELEMETRY_METRICS_COLUMNS.map(([name, type]) => ({ name, type })),
          },
        },
      },
      permissions: permissions(OWNER_ACTIONS.dataSet, props.authors),
    });

    if (props.importMode === 'SPICE') {
      const [hour, minute] = props.refreshTimeUtc.split(':');
      const refresh = new quicksight.CfnRefreshSchedule(this, 'DailyRefresh', {
        awsAccountId: account,
        dataSetId: this.dataSet.dataSetId!,
        schedule: {
          scheduleId: 'daily',
          refreshType: 'FULL_REFRESH',
          scheduleFrequency: { interval: 'DAILY', timeOfTheDay: `${hour}:${minute}`, timeZone: 'UTC' },
        },
      });
      refresh.node.addDependency(this.dataSet);
    }

    this.dashboard = new quicksight.CfnDashboard(this, 'Dashboard', {
      awsAccountId: account,
      dashboardId: `${props.namePrefix}-kpis`,
      name: `Telemetry KPIs (${props.namePrefix})`,
      permissions: [...permissions(OWNER_ACTIONS.dashboard, props.authors), ...permissions(READER_ACTIONS, props.readers ?? [])],
      dashboardPublishOptions: { adHocFilteringOption: { availabilityStatus: 'ENABLED' }, exportToCsvOption: { availabilityStatus: 'ENABLED' } },
      definition: {
        dataSetIdentifierDeclarations: [{ identifier: 'metrics', dataSetArn: this.dataSet.attrArn }],
        sheets: [
          {
            sheetId: 'fuel',
            name: 'Fuel consumption',
            visuals: [
              byDimension('city', 'Fuel per 100 km by city'),
              byDimension('temp_range', 'Fuel per 100 km by temperature range'),
              byDimension('weather_condition', 'Fuel per 100 km by weather condition'),
              byDimension('customer_segment', 'Fuel per 100 km by customer segment'),
              dailyTrend(),
            ],
          },
        ],
      },
    });
  }
}

function title(text: string): quicksight.CfnDashboard.VisualTitleLabelOptionsProperty {
  return { visibility: 'VISIBLE', formatText: { plainText: text } };
}

function byDimension(column: string, text: string): quicksight.CfnDashboard.VisualProperty {
  return {
    barChartVisual: {
      visualId: `fuel-by-${column.replace(/_/g, '-')}`,
      title: title(text),
      chartConfiguration: {
        orientation: 'HORIZONTAL',
        fieldWells: {
          barChartAggregatedFieldWells: {
            category: [{ categoricalDimensionField: { fieldId: `${column}`, column: { dataSetIdentifier: 'metrics', columnName: column } } }],
            values: [{ calculatedMeasureField: { fieldId: `${column}-fuel-per-100km`, expression: FUEL_PER_100_KM } }],
          },
        },
      },
    },
  };
}

function dailyTrend(): quicksight.CfnDashboard.VisualProperty {
  return {
    lineChartVisual: {
      visualId: 'daily-fuel',
      title: title('Fuel per 100 km, day by day'),
      chartConfiguration: {
        fieldWells: {
          lineChartAggregatedFieldWells: {
            category: [{ dateDimensionField: { fieldId: 'metric-date', column: { dataSetIdentifier: 'metrics', columnName: 'metric_date' }, dateGranularity: 'DAY' } }],
            values: [{ calculatedMeasureField: { fieldId: 'daily-fuel-per-100km', expression: FUEL_PER_100_KM } }],
          },
        },
      },
    },
  };
}
