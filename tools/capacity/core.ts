/**
 * The capacity command's pieces: an environment's inputs to the model (its config, the job
 * registry, the contracts and the KPI catalogue, each read from its one declaration) and the text
 * the command prints.
 */
import { EnvironmentConfig } from '../../lib/config';
import { CapacityInputs, CapacityReport, DAYS_PER_MONTH, GlueWorkerType } from '../../lib/config/cost-model';
import { contractOf, DatasetContract } from '../../lib/contracts';
import { JobDeclaration, STAGES } from '../../lib/registry';

/** The temperature ranges of the KPIs (DESIGN.md): Low, Medium, High. */
const TEMPERATURE_RANGES = 3;

function allowedValues(contract: DatasetContract, column: string): number {
  const values = contract.columns.find((c) => c.name === column)?.allowed;
  if (!values) throw new Error(`${contract.dataset}.${column} lists no allowed values: the model counts the KPI groups from them`);
  return values.length;
}

export function capacityInputs(config: EnvironmentConfig, jobs: readonly JobDeclaration[], contracts: readonly DatasetContract[], kpiQueries: readonly string[]): CapacityInputs {
  const cities = config.ingestion.weather.cities.length;
  const conditions = allowedValues(contractOf(contracts, 'weather'), 'condition');
  // An interval whose customer has no segment counts under 'unknown'.
  const segments = allowedValues(contractOf(contracts, 'customers'), 'segment') + 1;
  return {
    envName: config.envName,
    region: config.region,
    streaming: config.streaming,
    processing: { workerType: config.processing.workerType as GlueWorkerType, maxWorkers: config.processing.maxWorkers },
    lifecycle: config.lifecycle,
    weatherCities: cities,
    // The daily pipeline's stages in order (sources in parallel, then aggregation, then maintenance).
    dailyJobs: STAGES.flatMap((stage) => jobs.filter((j) => j.engine === 'glue' && j.stage === stage)).map((j) => ({ name: j.name, stage: j.stage, pipeline: j.pipeline, output: j.outputs[0] ?? '' })),
    kpiQueries,
    kpiGroupsPerDay: cities * TEMPERATURE_RANGES * conditions * segments,
    sftpEndpoints: config.ingestion.partnerFiles.enabled ? 1 : 0,
    mskServerlessClusters: config.ingestion.kafka.enabled && config.ingestion.kafka.cluster.kind === 'serverless' ? 1 : 0,
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const money = (n: number, currency: string) => `${currency} ${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
/** Bytes in the largest binary unit that keeps the figure at least 1. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n.toLocaleString('en-US', { maximumFractionDigits: i === 0 ? 0 : 1 })} ${units[i]}`;
}
const duration = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

/** The report as the command prints it: sections of aligned lines, the assumptions at the end. */
export function renderReport(r: CapacityReport): string {
  const c = r.prices.currency;
  const lines: string[] = [];
  const section = (title: string) => lines.push('', title);
  lines.push(`Capacity and cost of '${r.envName}' (${r.prices.region}); prices of ${r.prices.asOf}; throughputs measured ${r.measured.measuredOn}`);

  section('Daily volumes');
  for (const v of r.volumes) lines.push(`  ${v.dataset.padEnd(26)} ${int(v.recordsPerDay).padStart(14)} records  ${bytes(v.bytesPerDay).padStart(10)}  (${v.basis})`);

  section('Kinesis Data Streams');
  for (const s of r.streams) {
    const shards = s.shards ? `${s.shards.shards} shard${s.shards.shards === 1 ? '' : 's'} (${s.shards.limitedBy} limit: ${s.shards.byRecords.toFixed(2)} by records, ${s.shards.byBytes.toFixed(2)} by bytes, before headroom)` : 'on-demand';
    lines.push(`  ${s.stream.padEnd(26)} ${shards}; ${s.consumers} consumer(s); ${money(s.monthlyCost, c)}/month`);
  }

  section('Firehose deliveries');
  for (const d of r.deliveries) lines.push(`  ${d.delivery.padEnd(26)} ${int(d.deliveriesPerDay).padStart(6)} objects/day; billed ${d.billedGbPerDay.toFixed(2)} GiB/day (records rounded to 5 KiB); ${money(d.monthlyCost, c)}/month`);

  section('Managed Service for Apache Flink');
  lines.push(`  ${r.flink.kpus} KPUs (with the orchestration KPU), ${r.flink.storageGb} GB running storage; ${money(r.flink.monthlyCost, c)}/month`);

  section(`Glue daily pipeline: ${r.glue.workers} x ${r.glue.workerType} (${r.glue.executorCores} executor cores)`);
  for (const j of r.glue.jobs) {
    const rows = j.rowsPerDay === undefined ? '' : `${int(j.rowsPerDay)} rows, `;
    lines.push(`  ${j.job.padEnd(26)} ${rows}${duration(j.seconds)} (billed ${duration(j.billedSeconds)}), ${j.dpuHours.toFixed(2)} DPU-h  [${j.basis}]`);
  }
  lines.push(`  wall time ${duration(r.glue.wallSeconds)} (sources in parallel, then aggregation, then maintenance); ${r.glue.dpuHoursPerDay.toFixed(2)} DPU-hours a day; ${money(r.glue.monthlyCost, c)}/month`);

  section(`Athena: bytes each named query scans (telemetry_metrics, its dates' partitions only: ${bytes(r.queries.bytesPerDay)} a day)`);
  const byQuery = new Map<string, string[]>();
  for (const q of r.queries.figures) {
    byQuery.set(q.query, [...(byQuery.get(q.query) ?? []), `${q.days} d: ${bytes(q.bytesScanned)}, billed ${bytes(q.bytesBilled)}, ${money(q.costPerThousand, c)}/1,000`]);
  }
  for (const [query, figures] of byQuery) lines.push(`  ${query.padEnd(26)} ${figures.join('; ')}`);

  section(`S3 by zone (added a month; held and billed in month ${r.storage.months})`);
  for (const z of r.storage.zones) {
    const held = [z.held.standard && `${bytes(z.held.standard)} Standard`, z.held.infrequentAccess && `${bytes(z.held.infrequentAccess)} Standard-IA`, z.held.glacier && `${bytes(z.held.glacier)} Glacier`].filter(Boolean).join(', ');
    lines.push(`  ${z.zone.padEnd(26)} +${bytes(z.bytesPerMonth)}/month; holds ${held}; ${money(z.monthlyCost, c)}/month`);
  }

  section(`Monthly cost (${DAYS_PER_MONTH.toFixed(2)} days)`);
  for (const m of r.monthly) lines.push(`  ${m.line.padEnd(40)} ${money(m.cost, c).padStart(16)}`);
  lines.push(`  ${'total'.padEnd(40)} ${money(r.monthlyTotal, c).padStart(16)}`);

  section('Assumptions');
  for (const a of r.assumptions) lines.push(`  - ${a}`);
  lines.push(`  - Prices: ${r.prices.source}`);
  return lines.join('\n');
}
