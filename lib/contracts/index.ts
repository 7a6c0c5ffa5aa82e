import * as fs from 'fs';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';

/**
 * Loader of the dataset contracts in contracts/: the one declaration of each dataset's columns,
 * key, zones, partitioning and valid values. glue-scripts/lakehouse/contracts.py is its Python
 * twin; both validate against contracts/contract.schema.json and apply the same cross-field
 * rules, and test/contracts.test.ts fails if they ever disagree.
 */

export type ColumnType = 'string' | 'int' | 'bigint' | 'double' | 'boolean' | 'date' | 'timestamp';
export type TimestampEncoding = 'epoch_millis' | 'iso8601' | 'legacy_mixed';

export interface ContractColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly description: string;
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly allowed?: readonly string[];
  readonly raw?: { readonly name?: string; readonly type?: ColumnType; readonly encoding?: TimestampEncoding };
}

export interface RawPartition {
  readonly name: string;
  readonly type: 'date' | 'hour';
}

export interface MetadataColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly description: string;
  readonly allowed?: readonly string[];
}

/** How a source writes its legacy_mixed timestamps (contract.schema.json, raw.legacyTimestamps). */
export interface LegacyTimestamps {
  readonly timeZone: string;
  readonly dayOrder?: 'day_first' | 'month_first';
  readonly epochSeconds?: boolean;
  readonly formats: readonly string[];
}

export interface RawLayout {
  readonly writer: 'dms' | 'firehose' | 'lambda';
  readonly format: 'parquet' | 'json';
  readonly partitions: readonly RawPartition[];
  readonly pathStyle?: 'hive' | 'values';
  readonly metadataColumns?: readonly MetadataColumn[];
  readonly legacyTimestamps?: LegacyTimestamps;
  readonly envelope?: RawEnvelope;
}

/** The envelope a writer wraps each record in (contract.schema.json, raw.envelope). */
export interface RawEnvelope {
  readonly kind: 'dms-kinesis';
  /** schema.table of the one source table the stream carries. */
  readonly sourceTable: string;
  /** The DMS operations whose record is a row of the dataset. */
  readonly applied: readonly ('load' | 'insert' | 'update' | 'delete')[];
}

/**
 * Problems of the legacy timestamp formats: a format that starts with a numeric day or month
 * (03/01/2026) is ambiguous unless dayOrder names the order, and must agree with it. Year-first
 * and text-month forms are not ambiguous. Quoted literals and what precedes the first field are
 * left out of the look.
 */
export function legacyFormatProblems(legacy: LegacyTimestamps): string[] {
  const problems: string[] = [];
  legacy.formats.forEach((format, i) => {
    const lead = /^(d{1,2}|M{1,2})(?![A-Za-z])/.exec(format.replace(/'[^']*'/g, '').replace(/^[^A-Za-z]+/, ''))?.[1];
    if (!lead) return;
    const first = lead.startsWith('d') ? 'day_first' : 'month_first';
    if (!legacy.dayOrder) {
      problems.push(`raw.legacyTimestamps.formats.${i}: ${format} is ambiguous between day and month; name the order in raw.legacyTimestamps.dayOrder`);
    } else if (legacy.dayOrder !== first) {
      problems.push(`raw.legacyTimestamps.formats.${i}: ${format} is ${first}, but dayOrder is ${legacy.dayOrder}`);
    }
  });
  return problems;
}

export interface DatasetContract {
  readonly dataset: string;
  readonly source: string;
  readonly description: string;
  readonly key: readonly string[];
  readonly columns: readonly ContractColumn[];
  readonly raw?: RawLayout;
  /** A stream's Parquet landing in the processed zone (contract.schema.json, landing). */
  readonly landing?: { readonly table: string; readonly eventTime: string };
  readonly processed?: { readonly table?: string; readonly versionColumn?: string; readonly partitioning: readonly { readonly column: string; readonly transform: 'identity' | 'day' | 'hour' | 'month' }[] };
}

/** A contract file that breaks the schema or a cross-field rule. */
export class ContractError extends Error {
  constructor(file: string, problems: readonly string[]) {
    super(`Invalid dataset contract ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ContractError';
  }
}

export const CONTRACTS_DIR = path.resolve(__dirname, '..', '..', 'contracts');
const SCHEMA_FILE = 'contract.schema.json';

let validator: ReturnType<Ajv2020['compile']> | undefined;
/** The compiled contracts/contract.schema.json: the one definition of the contract format. */
function schemaValidator() {
  if (!validator) {
    const schema = JSON.parse(fs.readFileSync(path.join(CONTRACTS_DIR, SCHEMA_FILE), 'utf8'));
    validator = new Ajv2020({ allErrors: true, strict: true, strictTypes: false }).compile(schema);
  }
  return validator;
}

/** Rules a JSON Schema cannot express. Mirrored by `cross_field_problems` in Python. */
export function crossFieldProblems(contract: DatasetContract, fileName: string): string[] {
  const problems: string[] = [];
  const expectedFile = `${contract.source}.${contract.dataset}.json`;
  if (fileName !== expectedFile) problems.push(`file name: must be ${expectedFile}`);
  const byName = new Map<string, ContractColumn>();
  for (const column of contract.columns) {
    if (byName.has(column.name)) problems.push(`columns.${column.name}: declared twice`);
    byName.set(column.name, column);
    if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
      problems.push(`columns.${column.name}: min ${column.min} is greater than max ${column.max}`);
    }
    if ((column.min !== undefined || column.max !== undefined) && !['int', 'bigint', 'double'].includes(column.type)) {
      problems.push(`columns.${column.name}: min/max apply only to numeric columns, not ${column.type}`);
    }
    if (column.allowed && column.type !== 'string') {
      problems.push(`columns.${column.name}: allowed values apply only to string columns, not ${column.type}`);
    }
    if (column.raw?.encoding && column.type !== 'timestamp') {
      problems.push(`columns.${column.name}: raw.encoding applies only to timestamp columns`);
    }
    if (column.raw?.encoding === 'legacy_mixed' && !contract.raw?.legacyTimestamps) {
      problems.push(`columns.${column.name}: raw.encoding legacy_mixed needs raw.legacyTimestamps (its formats, time zone and day order)`);
    }
  }
  if (contract.raw?.legacyTimestamps) problems.push(...legacyFormatProblems(contract.raw.legacyTimestamps));
  for (const keyColumn of contract.key) {
    const column = byName.get(keyColumn);
    if (!column) problems.push(`key.${keyColumn}: not a declared column`);
    else if (!column.required) problems.push(`key.${keyColumn}: a key column must be required`);
  }
  if (contract.raw?.envelope && (contract.raw.format !== 'json' || contract.raw.metadataColumns)) {
    problems.push('raw.envelope: only a json raw layout without metadataColumns is read from an envelope');
  }
  if (contract.raw) {
    const rawNames = new Set(contract.columns.map((c) => (c.raw?.name ?? c.name).toLowerCase()));
    for (const extra of [...contract.raw.partitions, ...(contract.raw.metadataColumns ?? [])]) {
      if (rawNames.has(extra.name.toLowerCase())) problems.push(`raw: ${extra.name} collides with a column's raw name`);
      rawNames.add(extra.name.toLowerCase());
    }
  }
  for (const spec of contract.processed?.partitioning ?? []) {
    const column = byName.get(spec.column);
    if (!column) problems.push(`processed.partitioning.${spec.column}: not a declared column`);
    else if (['day', 'hour', 'month'].includes(spec.transform) && !['timestamp', 'date'].includes(column.type)) {
      problems.push(`processed.partitioning.${spec.column}: ${spec.transform} needs a date or timestamp column`);
    }
  }
  const version = contract.processed?.versionColumn;
  if (version !== undefined) {
    const column = byName.get(version);
    if (!column) problems.push(`processed.versionColumn: ${version} is not a declared column`);
    else if (!column.required) problems.push(`processed.versionColumn: ${version} must be required (a row without a version cannot be ordered)`);
  }
  if (contract.landing) {
    const column = byName.get(contract.landing.eventTime);
    if (!column || column.type !== 'timestamp' || !column.required) problems.push(`landing.eventTime: ${contract.landing.eventTime} must be a required timestamp column`);
    if (contract.landing.table === processedTableName(contract)) problems.push(`landing.table: ${contract.landing.table} is also the processed table's name`);
  }
  return problems;
}

/** Parses and validates one contract file. */
export function loadContractFile(file: string): DatasetContract {
  const fileName = path.basename(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ContractError(fileName, [`not valid JSON: ${(e as Error).message}`]);
  }
  const validate = schemaValidator();
  if (!validate(parsed)) {
    throw new ContractError(
      fileName,
      (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`),
    );
  }
  const contract = parsed as DatasetContract;
  const problems = crossFieldProblems(contract, fileName);
  if (problems.length > 0) throw new ContractError(fileName, problems);
  return contract;
}

/** Every contract in `dir`, sorted by dataset name; dataset names are unique across sources. */
export function loadContracts(dir: string = CONTRACTS_DIR): DatasetContract[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== SCHEMA_FILE)
    .sort();
  const contracts = files.map((f) => loadContractFile(path.join(dir, f)));
  const seen = new Map<string, string>();
  for (const c of contracts) {
    const other = seen.get(c.dataset);
    if (other) throw new ContractError(`${c.source}.${c.dataset}.json`, [`dataset name ${c.dataset} is also used by source ${other}`]);
    seen.set(c.dataset, c.source);
  }
  return contracts.sort((a, b) => a.dataset.localeCompare(b.dataset));
}

/** The contract of one dataset; fails naming the datasets that exist. */
export function contractOf(contracts: readonly DatasetContract[], dataset: string): DatasetContract {
  const found = contracts.find((c) => c.dataset === dataset);
  if (!found) throw new Error(`No contract for dataset '${dataset}'; known: ${contracts.map((c) => c.dataset).join(', ')}`);
  return found;
}

/**
 * The datasets a partner may send files of (SFTP, lambda/partner-file-check): those whose raw zone
 * holds NDJSON records as written, with no envelope and no writer columns, so that a partner's
 * checked file is a raw object of the dataset as it is.
 */
export function partnerFileDatasets(contracts: readonly DatasetContract[]): string[] {
  return contracts.filter((c) => c.raw?.format === 'json' && !c.raw.envelope && !c.raw.metadataColumns).map((c) => c.dataset);
}

/** Key prefix of a dataset in the raw zone: raw/<source>/<dataset>/ (see DESIGN.md). */
export function rawPrefix(contract: DatasetContract): string {
  return `raw/${contract.source}/${contract.dataset}/`;
}

/**
 * The columns as they are stored in the raw zone: source names and raw types, then writer metadata.
 * In a DMS envelope, the columns are the fields of `data`, and `metadata` says what the record is
 * (its operation; the hyphenated names DMS gives its other fields are not Hive identifiers).
 */
export function rawColumns(contract: DatasetContract): { name: string; type: string; description: string }[] {
  const columns = contract.columns.map((c) => ({ name: c.raw?.name ?? c.name, type: c.raw?.type ?? c.type, description: c.description }));
  if (contract.raw?.envelope) {
    return [
      { name: 'data', type: `struct<${columns.map((c) => `${c.name.toLowerCase()}:${c.type}`).join(',')}>`, description: `The row of ${contract.raw.envelope.sourceTable} (DMS data records; absent in control records)` },
      { name: 'metadata', type: 'struct<operation:string,timestamp:string>', description: 'DMS: the operation (load, insert, update, delete, or a control operation) and when DMS wrote the record' },
    ];
  }
  const metadata = (contract.raw?.metadataColumns ?? []).map((m) => ({ name: m.name, type: m.type, description: m.description }));
  return [...columns, ...metadata];
}

/** Relative folder of one raw partition, e.g. `ingest_date=${ingest_date}/` or `${ingest_date}/`. */
export function rawPartitionPathTemplate(layout: Pick<RawLayout, 'partitions' | 'pathStyle'>): string {
  return layout.partitions
    .map((p) => ((layout.pathStyle ?? 'hive') === 'hive' ? `${p.name}=\${${p.name}}/` : `\${${p.name}}/`))
    .join('');
}

/**
 * Key prefix of one day of a dataset in the raw zone, as its writer lays it out: DMS writes
 * <prefix><day>/ (pathStyle values), Firehose and the pulls <prefix><partition>=<day>/
 * (glue-scripts/lakehouse/contracts.py, raw_day_path).
 */
export function rawDayPath(contract: DatasetContract, day: string): string {
  const raw = contract.raw;
  if (!raw) throw new Error(`${contract.dataset}: no raw layout in its contract`);
  return (raw.pathStyle ?? 'hive') === 'values' ? `${rawPrefix(contract)}${day}/` : `${rawPrefix(contract)}${raw.partitions[0].name}=${day}/`;
}

/** The processed-zone folder a stream's delivery lands the dataset in (its contract's `landing`). */
export function landingFolder(contract: DatasetContract): string {
  return `processed/${landingTable(contract)}/`;
}

/** The Glue table of the dataset's landing, which Firehose converts against and Athena reads. */
export function landingTable(contract: DatasetContract): string {
  if (!contract.landing) throw new Error(`${contract.dataset}: its contract has no landing`);
  return contract.landing.table;
}

/** Name of the dataset's table in the processed zone. */
export function processedTableName(contract: DatasetContract): string {
  return contract.processed?.table ?? contract.dataset;
}
