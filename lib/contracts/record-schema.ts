import type { ColumnType, ContractColumn, DatasetContract } from './index';

/**
 * A contract's raw record as a JSON Schema, in the subset of draft 4 that API Gateway's request
 * models validate (type, properties, required, enum, minimum, maximum, pattern, items, minItems,
 * maxItems, additionalProperties). It says what lambda/shared/contract-records.ts checks, field for
 * field, except what a schema cannot: that an ISO-8601 text names a real day and time (no 30
 * February), which the Glue job's contract rules then quarantine. test/record-schema.test.ts holds
 * the two equal on a corpus of good and hostile records.
 */

/** The bounds recordProblems puts on integers: int below 2^31 in size, bigint a safe integer. */
const INT32_MAX = 2 ** 31 - 1;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;
/** yyyy-MM-ddTHH:mm:ss[.SSS]Z, as contract-records' ISO_UTC. */
export const ISO_UTC_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$';
const ISO_DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

export interface RecordSchemaOptions {
  /** Columns the caller does not send, because the integration adds them (e.g. ingested_at). */
  readonly omit?: readonly string[];
  /** The longest a string field may be (e.g. a Kinesis partition key, at most 256 characters). */
  readonly maxLengths?: Readonly<Record<string, number>>;
}

function fieldSchema(column: ContractColumn): Record<string, unknown> {
  const type: ColumnType = column.raw?.type ?? column.type;
  const nullable = (t: string) => (column.required ? t : [t, 'null']);
  const bounded = (lowest: number, highest: number) => ({
    minimum: Math.max(lowest, column.min ?? lowest),
    maximum: Math.min(highest, column.max ?? highest),
  });
  switch (type) {
    case 'string':
      if (column.raw?.encoding === 'iso8601') return { type: nullable('string'), pattern: ISO_UTC_PATTERN };
      return column.allowed ? { type: nullable('string'), enum: [...column.allowed, ...(column.required ? [] : [null])] } : { type: nullable('string') };
    case 'int':
      return { type: nullable('integer'), ...bounded(-INT32_MAX, INT32_MAX) };
    case 'bigint':
      return { type: nullable('integer'), ...bounded(-SAFE_MAX, SAFE_MAX) };
    case 'double':
      // JSON's 1e400 parses to Infinity, which contract-records refuses as not finite: bounded by the largest double.
      return { type: nullable('number'), ...bounded(-Number.MAX_VALUE, Number.MAX_VALUE) };
    case 'boolean':
      return { type: nullable('boolean') };
    case 'date':
      return { type: nullable('string'), pattern: ISO_DATE_PATTERN };
    case 'timestamp':
      return { type: nullable('string'), pattern: ISO_UTC_PATTERN };
  }
}

/** The schema of one raw record of the dataset, the raw names as keys, nothing else allowed. */
export function rawRecordJsonSchema(contract: DatasetContract, options: RecordSchemaOptions = {}): Record<string, unknown> {
  const omit = new Set(options.omit ?? []);
  const columns = contract.columns.filter((c) => !omit.has(c.raw?.name ?? c.name));
  return {
    title: `${contract.dataset} record`,
    type: 'object',
    properties: Object.fromEntries(
      columns.map((c) => {
        const name = c.raw?.name ?? c.name;
        const maxLength = options.maxLengths?.[name];
        return [name, { description: c.description, ...fieldSchema(c), ...(maxLength !== undefined ? { maxLength } : {}) }];
      }),
    ),
    required: columns.filter((c) => c.required).map((c) => c.raw?.name ?? c.name),
    additionalProperties: false,
  };
}

/** A batch of records: `{"records": [record, ...]}`, from one to `maxRecords`. */
export function recordBatchJsonSchema(contract: DatasetContract, maxRecords: number, options: RecordSchemaOptions = {}): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: `${contract.dataset} records`,
    type: 'object',
    properties: { records: { type: 'array', minItems: 1, maxItems: maxRecords, items: rawRecordJsonSchema(contract, options) } },
    required: ['records'],
    additionalProperties: false,
  };
}
