import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DatasetContract, RawLayout, rawColumns, rawPartitionPathTemplate, rawPrefix } from '../contracts';
import { LAKE_ZONES, LakeZone } from '../config/naming';

export interface LakeCatalogProps {
  readonly databaseNames: Record<LakeZone, string>;
  readonly zoneBuckets: Record<LakeZone, s3.IBucket>;
  /** Contracts whose raw layout becomes a raw-zone table. */
  readonly contracts: readonly DatasetContract[];
  /** First day partition projection offers for the raw tables (yyyy-MM-dd). */
  readonly rawProjectionStartDate: string;
}

const FORMATS = {
  parquet: {
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
  },
  json: {
    // Firehose and the Lambdas write GZIP or plain NDJSON; Hadoop's text input reads both.
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    // A malformed line fails the query rather than vanishing from the result.
    serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', parameters: { 'ignore.malformed.json': 'false' } },
  },
} as const;

/**
 * The Glue databases of the three zones, and one raw-zone table per contract with a raw layout.
 *
 * Raw tables use partition projection: Athena computes the partitions from the path template, so
 * no crawler or MSCK REPAIR runs and a new day is queryable the moment its first object lands.
 */
export class LakeCatalog extends Construct {
  readonly databases: Record<LakeZone, glue.CfnDatabase>;
  /** Raw-zone tables by dataset name. */
  readonly rawTables: Record<string, glue.CfnTable>;

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    const databases = {} as Record<LakeZone, glue.CfnDatabase>;
    for (const zone of LAKE_ZONES) {
      databases[zone] = new glue.CfnDatabase(this, `${zone}Database`, {
        catalogId: account,
        databaseInput: {
          name: props.databaseNames[zone],
          description: `Telemetry lakehouse, ${zone} zone`,
          locationUri: props.zoneBuckets[zone].s3UrlForObject(`${zone}/`),
        },
      });
    }
    this.databases = databases;

    this.rawTables = {};
    for (const contract of props.contracts) {
      if (!contract.raw) continue;
      const location = props.zoneBuckets.raw.s3UrlForObject(rawPrefix(contract));
      const table = new glue.CfnTable(this, `raw-${contract.dataset}`, {
        catalogId: account,
        databaseName: props.databaseNames.raw,
        tableInput: {
          name: contract.dataset,
          description: contract.description,
          tableType: 'EXTERNAL_TABLE',
          parameters: {
            classification: contract.raw.format,
            EXTERNAL: 'TRUE',
            ...projectionParameters(contract.raw, location, props.rawProjectionStartDate),
          },
          partitionKeys: contract.raw.partitions.map((p) => ({ name: p.name, type: 'string', comment: `${p.type} partition` })),
          storageDescriptor: {
            location,
            columns: rawColumns(contract).map((c) => ({ name: c.name.toLowerCase(), type: c.type, comment: c.description })),
            ...FORMATS[contract.raw.format],
          },
        },
      });
      table.node.addDependency(databases.raw);
      this.rawTables[contract.dataset] = table;
    }
  }
}

/** Athena partition projection settings for a raw layout. */
export function projectionParameters(layout: RawLayout, location: string, startDate: string): Record<string, string> {
  const parameters: Record<string, string> = {
    'projection.enabled': 'true',
    'storage.location.template': `${location}${rawPartitionPathTemplate(layout)}`,
  };
  for (const p of layout.partitions) {
    if (p.type === 'date') {
      Object.assign(parameters, {
        [`projection.${p.name}.type`]: 'date',
        [`projection.${p.name}.format`]: 'yyyy-MM-dd',
        [`projection.${p.name}.range`]: `${startDate},NOW`,
        [`projection.${p.name}.interval`]: '1',
        [`projection.${p.name}.interval.unit`]: 'DAYS',
      });
    } else {
      Object.assign(parameters, {
        [`projection.${p.name}.type`]: 'integer',
        [`projection.${p.name}.range`]: '0,23',
        [`projection.${p.name}.digits`]: '2',
      });
    }
  }
  return parameters;
}
