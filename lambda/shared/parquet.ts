import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ColumnType, DatasetContract } from '../../lib/contracts';

type BasicType = 'STRING' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';

/** Parquet type of each contract type; timestamps as milliseconds since the epoch, UTC. */
const PARQUET_TYPES: Record<Exclude<ColumnType, 'date'>, BasicType> = {
  string: 'STRING',
  int: 'INT32',
  bigint: 'INT64',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

/**
 * One Parquet file (Snappy) holding `records`, with the columns, names, order and types of the
 * dataset's contract in its raw shape. Records must already satisfy the contract
 * (recordProblems); a timestamp is an ISO-8601 UTC string or a Date.
 */
export function contractParquet(contract: DatasetContract, records: readonly Record<string, unknown>[]): Uint8Array {
  const columnData = contract.columns.map((column) => {
    const name = column.raw?.name ?? column.name;
    const type = column.raw?.type ?? column.type;
    if (type === 'date') throw new Error(`${contract.dataset}.${name}: date columns are not written by the Lambdas`);
    const parquetType = PARQUET_TYPES[type];
    const data = records.map((r) => {
      const value = r[name];
      if (value === undefined || value === null) return null;
      if (parquetType === 'TIMESTAMP') return value instanceof Date ? value : new Date(value as string);
      if (parquetType === 'INT64') return BigInt(value as number);
      return value;
    });
    return { name, data, type: parquetType, nullable: !column.required };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData, createdBy: 'telemetry-lakehouse' }));
}
