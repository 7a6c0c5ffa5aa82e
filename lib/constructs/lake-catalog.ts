import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DatasetContract, RawLayout, RawPartition, rawColumns, rawPartitionPathTemplate, rawPrefix } from '../contracts';
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
      const table = projectedTable(this, `raw-${contract.dataset}`, {
        databaseName: props.databaseNames.raw,
        tableName: contract.dataset,
        description: contract.description,
        location: props.zoneBuckets.raw.s3UrlForObject(rawPrefix(contract)),
        format: contract.raw.format,
        columns: rawColumns(contract).map((c) => ({ name: c.name.toLowerCase(), type: c.type, comment: c.description })),
        partitions: contract.raw.partitions,
        pathStyle: contract.raw.pathStyle ?? 'hive',
        projectionStartDate: props.rawProjectionStartDate,
      });
      table.node.addDependency(databases.raw);
      this.rawTables[contract.dataset] = table;
    }
  }
}

export interface ProjectedTableProps {
  readonly databaseName: string;
  readonly tableName: string;
  readonly description: string;
  /** s3:// URL of the table's root folder, with a trailing slash. */
  readonly location: string;
  readonly format: 'parquet' | 'json';
  readonly columns: glue.CfnTable.ColumnProperty[];
  /** Partition folders below the location, outermost first. */
  readonly partitions: readonly RawPartition[];
  readonly pathStyle: 'hive' | 'values';
  /** First day partition projection offers (yyyy-MM-dd). */
  readonly projectionStartDate: string;
}

/** A Hive-style (Parquet or JSON) Glue table whose partitions Athena projects from the path. */
export function projectedTable(scope: Construct, id: string, props: ProjectedTableProps): glue.CfnTable {
  return new glue.CfnTable(scope, id, {
    catalogId: Stack.of(scope).account,
    databaseName: props.databaseName,
    tableInput: {
      name: props.tableName,
      description: props.description,
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: props.format,
        EXTERNAL: 'TRUE',
        ...projectionParameters({ partitions: props.partitions, pathStyle: props.pathStyle }, props.location, props.projectionStartDate),
      },
      partitionKeys: props.partitions.map((p) => ({ name: p.name, type: 'string', comment: `${p.type} partition` })),
      storageDescriptor: { location: props.location, columns: props.columns, ...FORMATS[props.format] },
    },
  });
}

/** Athena partition projection settings for a partition layout under `location`. */
export function projectionParameters(layout: Pick<RawLayout, 'partitions' | 'pathStyle'>, location: string, startDate: string): Record<string, string> {
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
