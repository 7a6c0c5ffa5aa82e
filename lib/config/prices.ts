/**
 * The price table the capacity model (lib/config/cost-model.ts) turns usage into money with: one
 * per region, in one currency, each dated and with its source. Prices change; the date says which
 * ones these are, and `npm run capacity` prints it beside every figure it gives.
 *
 * Only the rates of what the model counts are here. The billing rules that are not prices (a PUT
 * payload unit is 25 KB, Firehose rounds each record up to 5 KB, Glue bills at least a minute per
 * run, Athena at least 10 MB per query, Managed Flink adds one KPU per application) sit with the
 * model as BILLING_RULES.
 */
export interface PriceTable {
  readonly region: string;
  readonly currency: 'USD';
  /** The day these rates were recorded. */
  readonly asOf: string;
  /** Where they come from, and how far to trust them. */
  readonly source: string;
  readonly kinesis: {
    readonly provisioned: { readonly shardHour: number; readonly putPayloadUnitsPerMillion: number; readonly extendedRetentionShardHour: number };
    readonly onDemand: { readonly streamHour: number; readonly ingestedGb: number; readonly retrievedGb: number; readonly extendedRetentionGbMonth: number };
  };
  readonly firehose: { readonly ingestedGb: number; readonly formatConversionGb: number; readonly dynamicPartitioningGb: number; readonly dynamicPartitioningPerThousandObjects: number };
  readonly flink: { readonly kpuHour: number; readonly runningStorageGbMonth: number };
  readonly glue: { readonly dpuHour: number };
  readonly athena: { readonly scannedTb: number };
  readonly s3: { readonly standardGbMonth: number; readonly infrequentAccessGbMonth: number; readonly glacierFlexibleGbMonth: number };
  /** AWS Transfer Family: each protocol enabled on a server is billed by the hour, whether used or not. */
  readonly transfer: { readonly protocolEndpointHour: number };
  /** Amazon MSK Serverless: each cluster is billed by the hour whether used or not (partitions and data on top). */
  readonly msk: { readonly serverlessClusterHour: number };
}

/** Every region an environment may deploy to needs its table here: the model refuses a region without one. */
export const PRICE_TABLES: Readonly<Record<string, PriceTable>> = {
  'eu-west-1': {
    region: 'eu-west-1',
    currency: 'USD',
    asOf: '2026-12-02',
    source:
      "On-demand list prices for Europe (Ireland) as the team knew them from AWS's public pricing pages, recorded on the date above " +
      'from that knowledge: the build machine has no internet, so they were not read again that day. The billing rules the model ' +
      'applies (increments, minimums, the extra Flink KPU) were checked against the stored AWS pages. Check each rate in the AWS ' +
      'Pricing Calculator before a budget rests on it; tiered rates are taken at their first tier, with no free tier, savings plan or credits.',
    kinesis: {
      provisioned: { shardHour: 0.017, putPayloadUnitsPerMillion: 0.0168, extendedRetentionShardHour: 0.022 },
      onDemand: { streamHour: 0.044, ingestedGb: 0.088, retrievedGb: 0.044, extendedRetentionGbMonth: 0.11 },
    },
    firehose: { ingestedGb: 0.031, formatConversionGb: 0.02, dynamicPartitioningGb: 0.022, dynamicPartitioningPerThousandObjects: 0.0055 },
    flink: { kpuHour: 0.121, runningStorageGbMonth: 0.11 },
    glue: { dpuHour: 0.44 },
    athena: { scannedTb: 5 },
    s3: { standardGbMonth: 0.023, infrequentAccessGbMonth: 0.0125, glacierFlexibleGbMonth: 0.0036 },
    transfer: { protocolEndpointHour: 0.3 },
    msk: { serverlessClusterHour: 0.75 },
  },
};

/** The table of `region`, or an error naming the regions that have one. */
export function priceTableFor(region: string): PriceTable {
  const table = PRICE_TABLES[region];
  if (!table) throw new Error(`no price table for region ${region}: add one to lib/config/prices.ts (tables exist for ${Object.keys(PRICE_TABLES).join(', ')})`);
  return table;
}
