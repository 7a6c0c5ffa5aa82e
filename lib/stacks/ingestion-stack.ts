import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ConfigError } from '../config';
import { WEATHER_PULL_COUNT_ALARMS, weatherPullEnvironment } from '../config/pull-functions';
import { contractOf, DatasetContract, rawPrefix } from '../contracts';
import { DmsServiceRoles } from '../constructs/dms-service-roles';
import { monitorDmsReplication } from '../constructs/dms-monitoring';
import { DmsToRawZone } from '../constructs/dms-replication';
import { LakeAccess } from '../constructs/lake-access';
import { PlatformKeys } from '../constructs/platform-keys';
import { PlatformMonitoring } from '../constructs/platform-monitoring';
import { PlatformNetwork } from '../constructs/platform-network';
import { monitorScheduledPull } from '../constructs/scheduled-pull-monitoring';
import { ScheduledPullFunction } from '../constructs/scheduled-pull-function';
import { acknowledgeWildcards, escapeRegExp, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface IngestionStackProps extends PlatformStackProps {
  readonly network: PlatformNetwork;
  readonly keys: PlatformKeys;
  readonly rawBucket: s3.IBucket;
  readonly access: LakeAccess;
  readonly dmsServiceRoles: DmsServiceRoles;
  readonly monitoring: PlatformMonitoring;
  readonly contracts: readonly DatasetContract[];
}

/** Batch ingestion into the raw zone: DMS from the business databases, and the weather pull. */
export class IngestionStack extends PlatformStack {
  readonly replications: Record<string, DmsToRawZone> = {};
  readonly weatherPull: ScheduledPullFunction;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const { dms } = config.ingestion;

    for (const [sourceName, source] of Object.entries(dms.sources)) {
      checkDmsSource(config.envName, sourceName, source.tables, props.contracts);
      const replication = new DmsToRawZone(this, `Dms-${sourceName}`, {
        identifier: names.resource(`${sourceName.replace(/_/g, '-')}-to-raw`),
        sourceName,
        source,
        capacity: dms.capacity,
        vpc: props.network.vpc,
        subnets: props.network.privateSubnets,
        rawBucket: props.rawBucket,
        rawKey: props.keys.raw,
        targetRole: props.access.rawWriterRole(sourceName),
        serviceRolesReady: props.dmsServiceRoles.ready,
        cdcMaxBatchIntervalSeconds: dms.cdcMaxBatchIntervalSeconds,
        cdcMinFileSizeKb: dms.cdcMinFileSizeKb,
      });
      monitorDmsReplication(props.monitoring, `dms-${sourceName.replace(/_/g, '-')}`, replication, config.monitoring.dmsCdcLatencySeconds);
      this.replications[sourceName] = replication;
    }

    this.weatherPull = this.buildWeatherPull(props);
    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS]);
  }

  private buildWeatherPull(props: IngestionStackProps): ScheduledPullFunction {
    const { config, names } = this;
    const weather = config.ingestion.weather;
    const cityBatches = Math.ceil(weather.cities.length / weather.concurrency);
    // Worst case: every batch of cities uses all its attempts, each timing out, with the longest backoff between.
    const worstCaseMs = cityBatches * weather.maxAttempts * (weather.requestTimeoutMs + weather.retryMaxDelayMs);
    const role = props.access.rawWriterIn(this, 'weather');
    // A run merges the day's object with the hours it already holds, so the pull reads its own
    // dataset's objects, and lists that prefix only, so that a day not written yet answers
    // NoSuchKey rather than AccessDenied. It decrypts with the raw key to read them back.
    const ownPrefix = rawPrefix(contractOf(props.contracts, 'weather'));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.rawBucket.arnForObjects(`${ownPrefix}*`)] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.rawBucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${ownPrefix}*`] } } }),
    );
    props.keys.raw.grantDecrypt(role);
    acknowledgeWildcards(role, [
      {
        finding: new RegExp(`^Resource::.*\\/${escapeRegExp(ownPrefix)}\\*$`),
        reason: `Objects under ${ownPrefix} of the raw zone: the days the weather pull itself writes, read back to merge a day's hours.`,
      },
    ]);
    const pull = new ScheduledPullFunction(this, 'WeatherPull', {
      name: 'weather-pull',
      description: 'Pulls hourly weather for the configured cities into the raw zone',
      functionName: names.resource('weather-pull'),
      schedule: weather.schedule,
      role,
      environment: weatherPullEnvironment(config, { rawBucket: props.rawBucket.bucketName, account: this.account }),
      timeout: Duration.seconds(Math.min(900, Math.ceil(worstCaseMs / 1000) + 30)),
      vpc: props.network.vpc,
      vpcSubnets: props.network.privateSubnets,
      logsKey: props.keys.logs,
      logRetention: config.monitoring.logRetentionDays,
      deadLetterKey: props.keys.raw,
      removalPolicy: this.removalPolicy,
    });
    monitorScheduledPull(props.monitoring, 'weather-pull', pull, WEATHER_PULL_COUNT_ALARMS);
    return pull;
  }
}

/** Every configured table must land as a dataset whose contract says DMS writes it for this source. */
function checkDmsSource(envName: string, sourceName: string, tables: readonly { dataset: string }[], contracts: readonly DatasetContract[]): void {
  const problems: string[] = [];
  tables.forEach((t, i) => {
    const field = `ingestion.dms.sources.${sourceName}.tables.${i}.dataset`;
    let contract: DatasetContract;
    try {
      contract = contractOf(contracts, t.dataset);
    } catch (e) {
      problems.push(`${field}: ${(e as Error).message}`);
      return;
    }
    if (contract.source !== sourceName) problems.push(`${field}: dataset ${t.dataset} belongs to source ${contract.source}, not ${sourceName}`);
    else if (contract.raw?.writer !== 'dms') problems.push(`${field}: dataset ${t.dataset} is not written by DMS (contract raw.writer)`);
  });
  if (problems.length > 0) throw new ConfigError(envName, problems);
}
