import { App, Tags, Validations } from 'aws-cdk-lib';
import { EnvironmentConfig } from './config';
import { DatasetContract, loadContracts } from './contracts';
import { platformNagPacks } from './nag/acknowledgements';
import { JobDeclaration, loadJobs, registryProblems } from './registry';
import { IngestionStack } from './stacks/ingestion-stack';
import { LakehouseStack } from './stacks/lakehouse-stack';
import { MonitoringStack } from './stacks/monitoring-stack';
import { NetworkStack } from './stacks/network-stack';
import { OperationsStack } from './stacks/operations-stack';
import { ProcessingStack } from './stacks/processing-stack';
import { RegistryStack } from './stacks/registry-stack';
import { SecurityStack } from './stacks/security-stack';
import { ServingStack } from './stacks/serving-stack';
import { StreamingStack } from './stacks/streaming-stack';
import { WarehouseStack } from './stacks/warehouse-stack';

export const PROJECT_NAME = 'telemetry-lakehouse';

export interface Platform {
  readonly security: SecurityStack;
  readonly network: NetworkStack;
  readonly lakehouse: LakehouseStack;
  readonly ingestion: IngestionStack;
  readonly streaming: StreamingStack;
  readonly processing: ProcessingStack;
  readonly operations: OperationsStack;
  /** Absent where config switches the warehouse off. */
  readonly warehouse?: WarehouseStack;
  readonly registry: RegistryStack;
  readonly serving: ServingStack;
  readonly monitoring: MonitoringStack;
}

/** Stack name of one layer in one environment, e.g. `TelemetryLakehouse-dev-Security`. */
export function stackName(config: EnvironmentConfig, layer: string): string {
  return `TelemetryLakehouse-${config.envName}-${layer}`;
}

/**
 * Builds every stack of one environment into `app`, tags them, and registers cdk-nag's
 * AwsSolutions checks so that synth fails on any unacknowledged finding.
 *
 * Stacks hand each other typed objects (keys, buckets, the monitoring API); CDK turns the
 * references into exports and orders the deployment from them.
 */
/** What the platform is built from; by default the repository's contracts and job registry. */
export interface PlatformDeclarations {
  readonly contracts?: readonly DatasetContract[];
  readonly jobs?: readonly JobDeclaration[];
}

export function buildPlatform(app: App, config: EnvironmentConfig, declarations: PlatformDeclarations = {}): Platform {
  const common = { config };
  const contracts = declarations.contracts ?? loadContracts();
  const jobs = declarations.jobs ?? loadJobs(contracts);
  const problems = registryProblems(jobs, contracts);
  if (problems.length > 0) throw new Error(`Invalid job registry:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const security = new SecurityStack(app, stackName(config, 'Security'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): KMS keys, CloudTrail data events, DMS service roles`,
  });
  const monitoring = new MonitoringStack(app, stackName(config, 'Monitoring'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): alert topic, dashboard, alarms`,
    keys: security.keys,
  });
  const network = new NetworkStack(app, stackName(config, 'Network'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): VPC, endpoints, flow logs`,
    keys: security.keys,
  });
  const lakehouse = new LakehouseStack(app, stackName(config, 'Lakehouse'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): zone buckets, Glue catalog, Athena workgroup, access roles`,
    keys: security.keys,
    monitoring: monitoring.monitoring,
    contracts,
    backup: security.backup,
  });
  const streaming = new StreamingStack(app, stackName(config, 'Streaming'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): IoT Core, Kinesis, sensor pull, Flink enrichment, Firehose`,
    network: network.network,
    keys: security.keys,
    rawBucket: lakehouse.storage.zoneBuckets.raw,
    processedBucket: lakehouse.storage.zoneBuckets.processed,
    access: lakehouse.access,
    monitoring: monitoring.monitoring,
    contracts,
  });
  const ingestion = new IngestionStack(app, stackName(config, 'Ingestion'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): DMS full load + CDC, the weather pull, partner SFTP files and the HTTPS telemetry API`,
    network: network.network,
    keys: security.keys,
    rawBucket: lakehouse.storage.zoneBuckets.raw,
    accessLogsBucket: lakehouse.storage.accessLogsBucket,
    telemetryStream: streaming.streams.streams.telemetry,
    access: lakehouse.access,
    dmsServiceRoles: security.dmsServiceRoles,
    monitoring: monitoring.monitoring,
    contracts,
  });

  const registry = new RegistryStack(app, stackName(config, 'Registry'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): the device registry of record on Aurora PostgreSQL, its changes streamed by DMS`,
    network: network.network,
    keys: security.keys,
    monitoring: monitoring.monitoring,
    deviceUpdatesStream: streaming.streams.streams.deviceUpdates,
    dmsServiceRoles: security.dmsServiceRoles,
    backup: security.backup,
  });

  // The warehouse is a layer config may switch off (warehouse.enabled): then no stack at all.
  const warehouse = config.warehouse.enabled
    ? new WarehouseStack(app, stackName(config, 'Warehouse'), {
        ...common,
        description: `Telemetry lakehouse (${config.envName}): the Redshift Serverless warehouse with the star schema`,
        network: network.network,
        keys: security.keys,
        access: lakehouse.access,
        monitoring: monitoring.monitoring,
      })
    : undefined;

  const processing = new ProcessingStack(app, stackName(config, 'Processing'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): Glue ETL into Iceberg, KPI aggregation, orchestration, named queries`,
    keys: security.keys,
    zoneBuckets: lakehouse.storage.zoneBuckets,
    access: lakehouse.access,
    workgroupName: lakehouse.workgroup.workgroupName,
    monitoring: monitoring.monitoring,
    contracts,
    jobs,
    warehouseLoad: warehouse?.loadTarget,
  });

  const operations = new OperationsStack(app, stackName(config, 'Operations'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): live fleet alerts on the telemetry stream, in DynamoDB and on EventBridge`,
    network: network.network,
    keys: security.keys,
    telemetryStream: streaming.streams.streams.telemetry,
    monitoring: monitoring.monitoring,
    backup: security.backup,
  });


  const serving = new ServingStack(app, stackName(config, 'Serving'), {
    ...common,
    description: `Telemetry lakehouse (${config.envName}): the KPI API on Athena, the QuickSight dashboard where configured`,
    network: network.network,
    keys: security.keys,
    access: lakehouse.access,
    alertsTable: operations.alerts.table,
    monitoring: monitoring.monitoring,
  });

  // Tags.of() applies the tags through an aspect to every taggable resource of the app.
  const tags: Record<string, string> = {
    project: PROJECT_NAME,
    environment: config.envName,
    owner: config.tags.owner,
    'cost-center': config.tags.costCenter,
  };
  for (const [key, value] of Object.entries(tags)) Tags.of(app).add(key, value);

  Validations.of(app).addPlugins(...platformNagPacks(app));
  return { security, network, lakehouse, ingestion, streaming, processing, operations, warehouse, registry, serving, monitoring };
}
