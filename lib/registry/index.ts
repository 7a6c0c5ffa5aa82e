import * as fs from 'fs';
import * as path from 'path';
import * as z from 'zod';
import { contractOf, DatasetContract } from '../contracts';

/**
 * The registry of processing jobs (lib/registry/jobs.json): one declaration per job, from which
 * the processing stack, the daily state machine, the data-quality rulesets, Iceberg maintenance and
 * the local run's plan are derived, so a job added there cannot be half-wired.
 */
const JOBS_FILE = path.join(__dirname, 'jobs.json');

/** Where a job runs in the daily pipeline: the sources in parallel, then the aggregation, then maintenance; or continuously. */
export const STAGES = ['sources', 'aggregation', 'maintenance', 'streaming'] as const;
export type Stage = (typeof STAGES)[number];
/**
 * What a job's entry point does with its datasets, which decides its arguments. `keyed` is a source
 * with no logic of its own (glue-scripts/lakehouse/keyed.py): contract checks, one row per key, MERGE.
 * `landed` is the same for a dataset a streaming job lands in the processed zone (its contract's
 * `landing`): the event days within the lateness horizon, merged into the Iceberg table.
 */
export const PIPELINES = ['cdc', 'keyed', 'landed', 'telematics', 'weather', 'aggregation', 'maintenance', 'enrichment'] as const;
export type PipelineKind = (typeof PIPELINES)[number];

/**
 * The kinds of source job that read the raw zone's objects (glue-scripts/lakehouse/raw_objects.py):
 * an object they cannot read is left out with its reason and counted (`unreadable_objects`).
 */
export const RAW_READING_PIPELINES: readonly PipelineKind[] = ['cdc', 'keyed', 'telematics', 'weather'];

/** The datasets whose daily job reads raw objects, in registry order. */
export function rawReadDatasets(jobs: readonly JobDeclaration[]): string[] {
  return jobs.filter((j) => j.stage === 'sources' && RAW_READING_PIPELINES.includes(j.pipeline)).map((j) => j.outputs[0]);
}

/** The one day argument every daily job takes: `--day yyyy-MM-dd` (or `yesterday` on the schedule). */
export const DAY_ARGUMENT = 'day';

const jobSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
    engine: z.enum(['glue', 'flink']),
    script: z.string().regex(/^[a-z0-9_]+\.py$/),
    stage: z.enum(STAGES),
    pipeline: z.enum(PIPELINES),
    inputs: z.array(z.string()),
    outputs: z.array(z.string()),
    /**
     * Tables in the processed database the job keeps as its own state beside its outputs (CDC
     * deletes and versions, the telematics vehicle-days, the ledgers of dates): not datasets, but
     * Iceberg tables maintenance must compact and expire like the outputs.
     */
    keeps: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)).optional(),
  })
  .strict();
const registrySchema = z.object({ description: z.string(), jobs: z.array(jobSchema).min(1) }).strict();

export type JobDeclaration = z.infer<typeof jobSchema>;

/** Why a registry is wrong: every problem, each naming the job and the field. */
export function registryProblems(jobs: readonly JobDeclaration[], contracts: readonly DatasetContract[]): string[] {
  const problems: string[] = [];
  const known = new Set(contracts.map((c) => c.dataset));
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) problems.push(`${job.name}: declared twice`);
    names.add(job.name);
    const contracted = job.stage === 'aggregation' ? job.inputs : [...job.inputs, ...job.outputs];
    for (const dataset of contracted) if (!known.has(dataset)) problems.push(`${job.name}: ${dataset} has no contract`);
    if ((job.pipeline === 'cdc' || job.stage === 'sources') && job.outputs.length !== 1) problems.push(`${job.name}: a source job writes exactly one dataset`);
  }
  for (const stage of ['aggregation', 'maintenance'] as const) {
    if (jobs.filter((j) => j.stage === stage).length !== 1) problems.push(`${stage}: the daily pipeline has exactly one ${stage} job`);
  }
  const keepers = new Map<string, string>();
  for (const job of jobs) {
    for (const table of job.keeps ?? []) {
      if (keepers.has(table)) problems.push(`${job.name}: ${table} is already kept by ${keepers.get(table)}`);
      if (contracts.some((c) => (c.processed?.table ?? c.dataset) === table)) problems.push(`${job.name}: ${table} is a dataset's processed table, not a job's state`);
      keepers.set(table, job.name);
    }
  }
  const writers = new Map<string, string>();
  for (const job of jobs) {
    if (job.pipeline === 'landed') continue; // it moves a streaming job's landing into the table: checked below
    for (const out of job.outputs) {
      if (writers.has(out)) problems.push(`${job.name}: ${out} is already written by ${writers.get(out)}`);
      writers.set(out, job.name);
    }
  }
  for (const job of jobs.filter((j) => j.pipeline === 'landed')) {
    const dataset = job.outputs[0];
    const contract = contracts.find((c) => c.dataset === dataset);
    if (contract && !contract.landing) problems.push(`${job.name}: ${dataset} has no landing in its contract`);
    const streamer = jobs.find((j) => j.stage === 'streaming' && j.outputs.includes(dataset));
    if (!streamer) problems.push(`${job.name}: no streaming job lands ${dataset}`);
    if (job.inputs.length !== 1 || job.inputs[0] !== dataset) problems.push(`${job.name}: a landed job reads its own dataset's landing, and nothing else`);
  }
  // Every dataset with a processed table is written by some job, or it would be a table nobody fills.
  for (const c of contracts) if (c.processed && !writers.has(c.dataset)) problems.push(`${c.dataset}: its contract has a processed table but no job writes it`);
  return problems;
}

/** The registry, validated against its schema and the contracts; throws naming every problem. */
export function loadJobs(contracts: readonly DatasetContract[], file: string = JOBS_FILE): JobDeclaration[] {
  const parsed = registrySchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`Invalid job registry ${path.basename(file)}:\n${parsed.error.issues.map((i) => `  - jobs.${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const problems = registryProblems(parsed.data.jobs, contracts);
  if (problems.length > 0) throw new Error(`Invalid job registry ${path.basename(file)}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return parsed.data.jobs;
}

export const glueJobs = (jobs: readonly JobDeclaration[]) => jobs.filter((j) => j.engine === 'glue');
export const jobsAt = (jobs: readonly JobDeclaration[], stage: Stage) => jobs.filter((j) => j.stage === stage);
export const jobAt = (jobs: readonly JobDeclaration[], stage: Stage) => jobsAt(jobs, stage)[0];

/** The processed-database tables the jobs keep as their own state (`keeps`), in registry order. */
export const keptTables = (jobs: readonly JobDeclaration[]) => jobs.flatMap((j) => j.keeps ?? []);

/** The datasets the daily source jobs write to processed tables, in registry order. */
export function processedDatasets(jobs: readonly JobDeclaration[], contracts: readonly DatasetContract[]): DatasetContract[] {
  return jobsAt(jobs, 'sources').map((j) => contractOf(contracts, j.outputs[0]));
}
