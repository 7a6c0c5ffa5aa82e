import { contractOf, DatasetContract, landingFolder, processedTableName, rawDayPath } from '../contracts';
import { DAY_ARGUMENT, JobDeclaration } from './index';

/** The Iceberg catalog name the Glue scripts use (glue-scripts/lakehouse/spark.py). */
export const ICEBERG_CATALOG = 'lake';

/** What a job's arguments are made of, known only where the jobs are deployed (or run locally). */
export interface JobArgumentContext {
  readonly contracts: readonly DatasetContract[];
  /** s3:// URL of an object key in the raw bucket. */
  readonly rawUrl: (key: string) => string;
  /** s3:// URL of an object key in the processed bucket. */
  readonly processedUrl: (key: string) => string;
  /** s3:// URL of the quarantine folder (processed bucket). */
  readonly quarantineRoot: string;
  readonly processedDatabase: string;
  readonly aggregatedDatabase: string;
  readonly weatherCities: readonly string[];
  readonly latenessHorizonDays: number;
  readonly snapshotRetentionDays: number;
  /** Every Iceberg table maintenance keeps, catalog-qualified. */
  readonly icebergTables: readonly string[];
}

/** `lake.<processed database>.<table>` of a dataset. */
export function processedIcebergTable(ctx: Pick<JobArgumentContext, 'contracts' | 'processedDatabase'>, dataset: string): string {
  return `${ICEBERG_CATALOG}.${ctx.processedDatabase}.${processedTableName(contractOf(ctx.contracts, dataset))}`;
}

/** `lake.<processed database>.<table>` of a table a job keeps as its state (`keeps` in jobs.json). */
export function keptIcebergTable(ctx: Pick<JobArgumentContext, 'processedDatabase'>, table: string): string {
  return `${ICEBERG_CATALOG}.${ctx.processedDatabase}.${table}`;
}

/** `lake.<aggregated database>.<table>`. */
export function aggregatedIcebergTable(ctx: Pick<JobArgumentContext, 'aggregatedDatabase'>, table: string): string {
  return `${ICEBERG_CATALOG}.${ctx.aggregatedDatabase}.${table}`;
}

/**
 * A Glue job's fixed arguments, which follow from its kind of pipeline and its datasets
 * (lib/registry/jobs.json); the day (`--day`) is added per run by the state machine.
 */
export function jobArguments(job: JobDeclaration, ctx: JobArgumentContext): Record<string, string> {
  const dataset = job.outputs[0];
  const sourceArguments = () => ({
    '--raw_path': ctx.rawUrl(rawDayPath(contractOf(ctx.contracts, dataset), `{${DAY_ARGUMENT}}`)),
    '--table': processedIcebergTable(ctx, dataset),
    '--quarantine_root': ctx.quarantineRoot,
  });
  switch (job.pipeline) {
    case 'cdc':
    case 'keyed':
      // One entry point serves every dataset of its kind; the dataset names the contract.
      return { '--dataset': dataset, ...sourceArguments() };
    case 'landed': {
      return {
        '--dataset': dataset,
        '--landing_path': ctx.processedUrl(landingFolder(contractOf(ctx.contracts, dataset))),
        '--table': processedIcebergTable(ctx, dataset),
        '--quarantine_root': ctx.quarantineRoot,
        '--lateness_horizon_days': String(ctx.latenessHorizonDays),
      };
    }
    case 'telematics':
      return sourceArguments();
    case 'weather':
      // The daily run; a reload of a range (the pull re-fetched history) passes its first day: one
      // job run over every day's folder instead of one run a day (docs/decisions.md 154).
      return { ...sourceArguments(), '--cities': ctx.weatherCities.join(','), '--backfill_from': 'none' };
    case 'aggregation':
      return {
        '--processed_database': ctx.processedDatabase,
        '--metrics_table': aggregatedIcebergTable(ctx, dataset),
        '--lateness_horizon_days': String(ctx.latenessHorizonDays),
        // The daily run; the state machine's backfill branch passes the range's first day.
        '--backfill_from': 'none',
      };
    case 'maintenance':
      return { '--tables': ctx.icebergTables.join(','), '--snapshot_retention_days': String(ctx.snapshotRetentionDays) };
    default:
      throw new Error(`${job.name}: a ${job.pipeline} job does not run on Glue`);
  }
}
