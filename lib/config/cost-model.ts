/**
 * The capacity and cost model behind `npm run capacity -- --env <name>`: from an environment's
 * declared load, the benchmark's measured costs (bench/measured.json, written by
 * bench/processing.py) and a dated price table (lib/config/prices.ts), what a day moves and what a
 * month costs. Every figure is arithmetic a reader can redo; every assumption the model makes is
 * returned with the figures (`assumptions`) and printed with them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { ShardPlan, streamShardPlans, telemetryLoad } from './capacity';
import { PriceTable } from './prices';

/** Billing rules that are not prices (the AWS pricing pages of each service). */
export const BILLING_RULES = {
  hoursPerMonth: 730,
  /** Kinesis provisioned: a PUT payload unit is each 25 KB chunk of a record. */
  putPayloadUnitBytes: 25 * 1024,
  /** Kinesis on-demand: each record counts rounded up to the next 1 KB. */
  onDemandRecordRoundingBytes: 1024,
  /** Firehose ingestion: each record counts rounded up to the next 5 KB. */
  firehoseRecordRoundingBytes: 5 * 1024,
  /** Glue Spark jobs: per second, at least a minute per run. */
  glueMinimumSecondsPerRun: 60,
  /** Athena: at least 10 MB per query. */
  athenaMinimumBytesPerQuery: 10 * 1024 ** 2,
  /** Managed Flink: one more KPU per application for orchestration, 50 GB of running storage per processing KPU. */
  flinkOrchestrationKpus: 1,
  flinkStorageGbPerKpu: 50,
} as const;

const GB = 1024 ** 3;
const TB = 1024 ** 4;
const SECONDS_PER_DAY = 86_400;
export const DAYS_PER_MONTH = BILLING_RULES.hoursPerMonth / 24;

/** Glue worker types: DPUs billed and vCPUs given (AWS Glue worker types). */
export const GLUE_WORKERS = {
  'G.1X': { dpus: 1, vcpus: 4 },
  'G.2X': { dpus: 2, vcpus: 8 },
  'G.4X': { dpus: 4, vcpus: 16 },
  'G.8X': { dpus: 8, vcpus: 32 },
} as const;
export type GlueWorkerType = keyof typeof GLUE_WORKERS;

/** One weather observation as the pull writes it: about 230 bytes of JSON. */
const WEATHER_ROW_BYTES = 250;

const stepFit = z.object({ fixedSeconds: z.number().min(0), coreSecondsPerMillionRows: z.number().positive() }).strict();
export const measuredSchema = z
  .object({
    measuredOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    by: z.string(),
    machine: z.object({ cores: z.number().int().positive() }).strict(),
    sizes: z.array(z.number().int().positive()).length(2),
    steps: z.object({ telematics: stepFit, aggregation: stepFit, cdcSecondsPerRun: z.number().positive(), weatherSecondsPerRun: z.number().positive() }).strict(),
    bytes: z
      .object({
        rawTelemetryGzipRatio: z.number().positive().max(1),
        rawTelemetryJsonBytesPerRow: z.number().positive(),
        processedTelematicsBytesPerRow: z.number().positive(),
        aggregatedBytesPerKpiRow: z.number().positive(),
        aggregatedKpiRowsPerDay: z.number().positive(),
      })
      .strict(),
  })
  .strict();
export type Measured = z.infer<typeof measuredSchema>;

export const MEASURED_FILE = path.resolve(__dirname, '..', '..', 'bench', 'measured.json');

/** The benchmark's figures, checked: a missing or malformed file is an error, never a default. */
export function loadMeasured(file: string = MEASURED_FILE): Measured {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run 'npm run bench' (bench/processing.py writes it)`);
  return measuredSchema.parse(JSON.parse(fs.readFileSync(file, 'utf-8')));
}

interface Load {
  readonly recordsPerSecond: number;
  readonly bytesPerRecord: number;
}

/** What the model reads from an environment (lib/config), the job registry and the contracts. */
export interface CapacityInputs {
  readonly envName: string;
  readonly region: string;
  readonly streaming: {
    readonly expectedLoad: { readonly telemetry: { vehicles: number; messagesPerVehiclePerSecond: number; bytesPerMessage: number }; readonly sensorReadings: Load; readonly deviceUpdates: Load };
    readonly capacityMode: 'provisioned' | 'on-demand';
    readonly headroom: number;
    readonly retentionHours: number;
    readonly firehose: { readonly bufferIntervalSeconds: number; readonly bufferSizeMiB: number };
    readonly flink: { readonly parallelism: number; readonly parallelismPerKpu: number };
  };
  readonly processing: { readonly workerType: GlueWorkerType; readonly maxWorkers: number };
  readonly lifecycle: { readonly rawToInfrequentAccessDays: number; readonly rawToGlacierDays: number };
  readonly weatherCities: number;
  /** The daily Glue jobs of the registry, in stage order: name, stage, pipeline kind, the dataset each writes first. */
  readonly dailyJobs: readonly { readonly name: string; readonly stage: string; readonly pipeline: string; readonly output: string }[];
  /** The KPI catalogue's query names. */
  readonly kpiQueries: readonly string[];
  /** The most KPI rows one metric date can hold: cities x temperature ranges x conditions x segments (with unknown). */
  readonly kpiGroupsPerDay: number;
  /** SFTP protocol endpoints (partner file drops: one server, SFTP only, where enabled). @default 0 */
  readonly sftpEndpoints?: number;
  /** MSK Serverless clusters the platform creates (Kafka topics, where enabled with a serverless cluster). @default 0 */
  readonly mskServerlessClusters?: number;
}

export interface DatasetVolume {
  readonly dataset: string;
  readonly recordsPerDay: number;
  readonly bytesPerDay: number;
  readonly basis: string;
}
export interface StreamFigures {
  readonly stream: string;
  readonly mode: 'provisioned' | 'on-demand';
  readonly shards?: ShardPlan;
  readonly consumers: number;
  readonly monthlyCost: number;
}
export interface DeliveryFigures {
  readonly delivery: string;
  readonly dataset: string;
  readonly recordsPerDay: number;
  readonly billedGbPerDay: number;
  readonly deliveriesPerDay: number;
  readonly monthlyCost: number;
}
export interface GlueJobFigures {
  readonly job: string;
  readonly rowsPerDay?: number;
  readonly seconds: number;
  readonly billedSeconds: number;
  readonly dpuHours: number;
  readonly basis: string;
}
export interface QueryFigures {
  readonly query: string;
  readonly days: number;
  readonly bytesScanned: number;
  readonly bytesBilled: number;
  readonly costPerThousand: number;
}
export interface ZoneFigures {
  readonly zone: 'raw' | 'processed' | 'aggregated';
  readonly bytesPerMonth: number;
  /** What the zone holds after `months` months, by storage class. */
  readonly held: { readonly standard: number; readonly infrequentAccess: number; readonly glacier: number };
  readonly monthlyCost: number;
}
export interface CapacityReport {
  readonly envName: string;
  readonly prices: PriceTable;
  readonly measured: Measured;
  readonly volumes: DatasetVolume[];
  readonly streams: StreamFigures[];
  readonly deliveries: DeliveryFigures[];
  readonly flink: { readonly kpus: number; readonly storageGb: number; readonly monthlyCost: number };
  readonly glue: { readonly workerType: GlueWorkerType; readonly workers: number; readonly executorCores: number; readonly jobs: GlueJobFigures[]; readonly wallSeconds: number; readonly dpuHoursPerDay: number; readonly monthlyCost: number };
  readonly queries: { readonly bytesPerDay: number; readonly figures: QueryFigures[] };
  readonly storage: { readonly months: number; readonly zones: ZoneFigures[] };
  readonly monthly: { readonly line: string; readonly cost: number }[];
  readonly monthlyTotal: number;
  readonly assumptions: string[];
}

/** The month whose storage bill the model gives: a year in, with a year of data held. */
export const STORAGE_MONTHS = 12;
/** The date ranges a KPI question is priced for. */
export const QUESTION_DAYS = [1, 30, 365] as const;

/**
 * The model. Volumes are the declared peak held all day (an upper bound); a Glue job holds all its
 * workers for its whole run (an upper bound: auto scaling releases idle ones); Spark's per-row cost
 * divides over the executors' cores (the benchmark measured 2 cores; wider is assumed linear).
 */
export function capacityModel(inputs: CapacityInputs, measured: Measured, prices: PriceTable): CapacityReport {
  if (prices.region !== inputs.region) throw new Error(`the price table is for ${prices.region}, the environment deploys to ${inputs.region}`);
  const { streaming, processing } = inputs;
  if (streaming.retentionHours > 168) throw new Error(`retention of ${streaming.retentionHours} h is Kinesis long-term retention, which the model does not price`);
  const assumptions: string[] = [
    'Every declared load is its peak, held 24 hours a day: an upper bound on volumes.',
    `Throughputs from the processing benchmark (${measured.by}, ${measured.measuredOn}, ${measured.machine.cores} cores, ${measured.sizes.map((s) => s.toLocaleString('en-US')).join(' and ')} rows): each step's time is a fixed part plus core-seconds per row, fitted through the two sizes; Glue divides the per-row part over its executors' cores (workers less the driver, times vCPUs), which assumes Spark scales linearly beyond the ${measured.machine.cores} cores measured.`,
    'A Glue job run holds all its configured workers for its whole run, at least a minute: an upper bound (auto scaling releases idle executors). Glue start-up, not billed, is left out of the wall time.',
  ];

  // Daily volumes per dataset.
  const t = streaming.expectedLoad.telemetry;
  const perDay = (l: Load) => l.recordsPerSecond * SECONDS_PER_DAY;
  const telemetryRecords = perDay(telemetryLoad(t)); // the same load the shard plan sizes the stream for
  const { sensorReadings, deviceUpdates } = streaming.expectedLoad;
  const enrichedBytes = sensorReadings.bytesPerRecord + deviceUpdates.bytesPerRecord;
  const volumes: DatasetVolume[] = [
    { dataset: 'telematics', recordsPerDay: telemetryRecords, bytesPerDay: telemetryRecords * t.bytesPerMessage, basis: `${t.vehicles} vehicles x ${t.messagesPerVehiclePerSecond}/s x ${t.bytesPerMessage} B` },
    { dataset: 'sensor_readings', recordsPerDay: perDay(sensorReadings), bytesPerDay: perDay(sensorReadings) * sensorReadings.bytesPerRecord, basis: `${sensorReadings.recordsPerSecond}/s x ${sensorReadings.bytesPerRecord} B` },
    { dataset: 'sensor_readings_enriched', recordsPerDay: perDay(sensorReadings), bytesPerDay: perDay(sensorReadings) * enrichedBytes, basis: `each reading with its device record: ${enrichedBytes} B (reading + device update, a bound)` },
    { dataset: 'device_updates', recordsPerDay: perDay(deviceUpdates), bytesPerDay: perDay(deviceUpdates) * deviceUpdates.bytesPerRecord, basis: `${deviceUpdates.recordsPerSecond}/s x ${deviceUpdates.bytesPerRecord} B` },
    { dataset: 'weather', recordsPerDay: inputs.weatherCities * 24, bytesPerDay: inputs.weatherCities * 24 * WEATHER_ROW_BYTES, basis: `${inputs.weatherCities} cities x 24 hourly observations` },
  ];
  assumptions.push('CDC (shipments, customers) declares no volume: a few thousand changes a day are priced as the benchmark\'s per-run cost, and their raw and processed bytes are left out.');
  const volume = (dataset: string) => {
    const v = volumes.find((x) => x.dataset === dataset);
    if (!v) throw new Error(`no volume for dataset ${dataset}`);
    return v;
  };

  // Kinesis.
  const hours = BILLING_RULES.hoursPerMonth;
  const extraRetentionHours = Math.max(0, streaming.retentionHours - 24);
  const plans = streamShardPlans(streaming);
  const streamOf = (name: string, dataset: string, plan: ShardPlan, bytesPerRecord: number, consumers: number): StreamFigures => {
    const recordsPerMonth = volume(dataset).recordsPerDay * DAYS_PER_MONTH;
    if (streaming.capacityMode === 'provisioned') {
      const p = prices.kinesis.provisioned;
      const units = recordsPerMonth * Math.ceil(bytesPerRecord / BILLING_RULES.putPayloadUnitBytes);
      const cost = plan.shards * hours * p.shardHour + (units / 1e6) * p.putPayloadUnitsPerMillion + (extraRetentionHours > 0 ? plan.shards * hours * p.extendedRetentionShardHour : 0);
      return { stream: name, mode: 'provisioned', shards: plan, consumers, monthlyCost: cost };
    }
    const p = prices.kinesis.onDemand;
    const gbIn = (recordsPerMonth * Math.ceil(bytesPerRecord / BILLING_RULES.onDemandRecordRoundingBytes) * BILLING_RULES.onDemandRecordRoundingBytes) / GB;
    const storedGb = (gbIn / DAYS_PER_MONTH) * (extraRetentionHours / 24);
    const cost = hours * p.streamHour + gbIn * p.ingestedGb + gbIn * consumers * p.retrievedGb + storedGb * p.extendedRetentionGbMonth;
    return { stream: name, mode: 'on-demand', consumers, monthlyCost: cost };
  };
  // Consumers: the live alerts read telemetry; Flink reads both streams; device updates also feed their raw Firehose.
  const streams = [
    streamOf('telemetry', 'telematics', plans.telemetry, t.bytesPerMessage, 1),
    streamOf('sensor-readings', 'sensor_readings', plans.sensorReadings, sensorReadings.bytesPerRecord, 1),
    streamOf('device-updates', 'device_updates', plans.deviceUpdates, deviceUpdates.bytesPerRecord, 2),
  ];

  // Firehose: a delivery when the buffer fills or its interval passes, whichever comes first.
  const f = prices.firehose;
  const { bufferIntervalSeconds, bufferSizeMiB } = streaming.firehose;
  const deliveryOf = (delivery: string, dataset: string, bytesPerRecord: number, options: { parquet?: boolean; hourPartitions?: boolean } = {}): DeliveryFigures => {
    const v = volume(dataset);
    const billedGbPerDay = (v.recordsPerDay * Math.ceil(bytesPerRecord / BILLING_RULES.firehoseRecordRoundingBytes) * BILLING_RULES.firehoseRecordRoundingBytes) / GB;
    let deliveriesPerDay = Math.max(Math.ceil(v.bytesPerDay / (bufferSizeMiB * 1024 ** 2)), Math.ceil(SECONDS_PER_DAY / bufferIntervalSeconds));
    if (options.hourPartitions) deliveriesPerDay = Math.max(deliveriesPerDay, 24);
    let daily = billedGbPerDay * f.ingestedGb;
    if (options.parquet) daily += billedGbPerDay * f.formatConversionGb;
    if (options.hourPartitions) daily += (v.bytesPerDay / GB) * f.dynamicPartitioningGb + (deliveriesPerDay / 1000) * f.dynamicPartitioningPerThousandObjects;
    return { delivery, dataset, recordsPerDay: v.recordsPerDay, billedGbPerDay, deliveriesPerDay, monthlyCost: daily * DAYS_PER_MONTH };
  };
  const deliveries = [
    deliveryOf('raw-telemetry', 'telematics', t.bytesPerMessage),
    deliveryOf('raw-device-updates', 'device_updates', deviceUpdates.bytesPerRecord),
    deliveryOf('sensor-readings-enriched', 'sensor_readings_enriched', enrichedBytes, { parquet: true, hourPartitions: true }),
  ];
  assumptions.push('Firehose: the rejected readings\' delivery carries only rejects and is left out; the enriched readings arrive close to their event hour, so one partition is active at a time (at least one object per hour).');

  // Managed Flink, at its configured parallelism.
  const processingKpus = Math.ceil(streaming.flink.parallelism / streaming.flink.parallelismPerKpu);
  const kpus = processingKpus + BILLING_RULES.flinkOrchestrationKpus;
  const storageGb = processingKpus * BILLING_RULES.flinkStorageGbPerKpu;
  const flink = { kpus, storageGb, monthlyCost: kpus * hours * prices.flink.kpuHour + storageGb * prices.flink.runningStorageGbMonth };
  assumptions.push('Managed Flink runs at its configured parallelism all month; auto scaling, where enabled, can add KPUs at peaks.');

  // Glue: each daily job of the registry, priced from what the benchmark measured of its kind.
  const worker = GLUE_WORKERS[processing.workerType];
  const executorCores = (processing.maxWorkers - 1) * worker.vcpus;
  const { steps } = measured;
  const perRow = (fit: z.infer<typeof stepFit>, rows: number) => fit.fixedSeconds + (rows * fit.coreSecondsPerMillionRows) / 1e6 / executorCores;
  const jobs: GlueJobFigures[] = inputs.dailyJobs.map((job) => {
    const cost = (seconds: number, basis: string, rowsPerDay?: number): GlueJobFigures => {
      const billedSeconds = Math.max(BILLING_RULES.glueMinimumSecondsPerRun, seconds);
      return { job: job.name, rowsPerDay, seconds, billedSeconds, dpuHours: (billedSeconds * processing.maxWorkers * worker.dpus) / 3600, basis };
    };
    switch (job.pipeline) {
      case 'telematics':
        return cost(perRow(steps.telematics, volume('telematics').recordsPerDay), 'measured: telematics step', volume('telematics').recordsPerDay);
      case 'aggregation':
        return cost(perRow(steps.aggregation, volume('telematics').recordsPerDay), 'measured: aggregation step, per telematics row', volume('telematics').recordsPerDay);
      case 'cdc':
        return cost(steps.cdcSecondsPerRun, 'measured: per CDC run');
      case 'weather':
        return cost(steps.weatherSecondsPerRun, 'measured: per weather run');
      case 'keyed':
      case 'landed':
        // Contract checks, one row per key and a MERGE of the day, as the telematics step does less its intervals.
        return cost(perRow(steps.telematics, volume(job.output).recordsPerDay), 'ASSUMED: the telematics step\'s rate (not benchmarked)', volume(job.output).recordsPerDay);
      case 'maintenance':
        return cost(0, 'NOT MEASURED: priced at the minimum run');
      default:
        throw new Error(`the capacity model has no cost for ${job.pipeline} jobs (${job.name}): add one to lib/config/cost-model.ts`);
    }
  });
  // The stages run one after the other; the jobs of a stage in parallel.
  const stages = [...new Set(inputs.dailyJobs.map((j) => j.stage))];
  const wallSeconds = stages.reduce((sum, stage) => sum + Math.max(...jobs.filter((_, i) => inputs.dailyJobs[i].stage === stage).map((j) => j.billedSeconds)), 0);
  const dpuHoursPerDay = jobs.reduce((s, j) => s + j.dpuHours, 0);
  const glue = { workerType: processing.workerType, workers: processing.maxWorkers, executorCores, jobs, wallSeconds, dpuHoursPerDay, monthlyCost: dpuHoursPerDay * DAYS_PER_MONTH * prices.glue.dpuHour };

  // Athena over the aggregated table: each day is one partition of telemetry_metrics.
  const b = measured.bytes;
  const bytesPerDay = inputs.kpiGroupsPerDay * b.aggregatedBytesPerKpiRow;
  const figures: QueryFigures[] = inputs.kpiQueries.flatMap((query) =>
    QUESTION_DAYS.map((days) => {
      const bytesScanned = days * bytesPerDay;
      const bytesBilled = Math.max(BILLING_RULES.athenaMinimumBytesPerQuery, Math.ceil(bytesScanned / 1024 ** 2) * 1024 ** 2);
      return { query, days, bytesScanned, bytesBilled, costPerThousand: (1000 * bytesBilled * prices.athena.scannedTb) / TB };
    }),
  );
  assumptions.push(`A KPI question reads telemetry_metrics alone, only the partitions of its dates (the local run checks this), all columns of every row: at most ${inputs.kpiGroupsPerDay} rows a day at ${b.aggregatedBytesPerKpiRow} B each (measured).`);

  // S3 per zone, from the measured bytes per row; raw ages through its lifecycle, the rest stays in Standard.
  const rawPerDay = (volume('telematics').bytesPerDay + volume('device_updates').bytesPerDay) * b.rawTelemetryGzipRatio + volume('weather').bytesPerDay;
  const processedRows = volume('telematics').recordsPerDay + volume('device_updates').recordsPerDay + 2 * volume('sensor_readings_enriched').recordsPerDay;
  const processedPerDay = processedRows * b.processedTelematicsBytesPerRow;
  // fuel_intervals holds one row per telematics interval; telemetry_metrics a few hundred a day.
  const aggregatedPerDay = volume('telematics').recordsPerDay * b.processedTelematicsBytesPerRow + bytesPerDay;
  assumptions.push(
    `S3: raw JSON compresses as the benchmark's telemetry does (GZIP ratio ${b.rawTelemetryGzipRatio}); every processed and interval row takes the processed telematics row's ${b.processedTelematicsBytesPerRow} B; enriched readings are held twice (Firehose's landing and the Iceberg table); Iceberg snapshots kept for rollback, request charges and lifecycle transitions are left out.`,
  );
  const s3 = prices.s3;
  const zone = (name: ZoneFigures['zone'], bytesPerDay: number, lifecycle?: { toIa: number; toGlacier: number }): ZoneFigures => {
    const bytesPerMonth = bytesPerDay * DAYS_PER_MONTH;
    const heldDays = STORAGE_MONTHS * DAYS_PER_MONTH;
    const standardDays = lifecycle ? Math.min(heldDays, lifecycle.toIa) : heldDays;
    const iaDays = lifecycle ? Math.min(heldDays, lifecycle.toGlacier) - standardDays : 0;
    const held = { standard: standardDays * bytesPerDay, infrequentAccess: iaDays * bytesPerDay, glacier: (heldDays - standardDays - iaDays) * bytesPerDay };
    const monthlyCost = (held.standard * s3.standardGbMonth + held.infrequentAccess * s3.infrequentAccessGbMonth + held.glacier * s3.glacierFlexibleGbMonth) / GB;
    return { zone: name, bytesPerMonth, held, monthlyCost };
  };
  const storage = {
    months: STORAGE_MONTHS,
    zones: [
      zone('raw', rawPerDay, { toIa: inputs.lifecycle.rawToInfrequentAccessDays, toGlacier: inputs.lifecycle.rawToGlacierDays }),
      zone('processed', processedPerDay),
      zone('aggregated', aggregatedPerDay),
    ],
  };

  const monthly = [
    { line: `Kinesis Data Streams (${streaming.capacityMode})`, cost: streams.reduce((s, x) => s + x.monthlyCost, 0) },
    { line: 'Amazon Data Firehose', cost: deliveries.reduce((s, x) => s + x.monthlyCost, 0) },
    { line: 'Managed Service for Apache Flink', cost: flink.monthlyCost },
    { line: 'AWS Glue (daily pipeline)', cost: glue.monthlyCost },
    { line: `Amazon S3 storage (month ${STORAGE_MONTHS})`, cost: storage.zones.reduce((s, z) => s + z.monthlyCost, 0) },
    // The partner SFTP endpoint costs its hours whether partners upload or not; their uploads' per-GB charge is not declared.
    ...((inputs.sftpEndpoints ?? 0) > 0 ? [{ line: 'AWS Transfer Family (partner SFTP endpoint)', cost: inputs.sftpEndpoints! * hours * prices.transfer.protocolEndpointHour }] : []),
    // Likewise the MSK Serverless cluster's hours; its partitions, the data the producers write and the Firehose reads are not declared.
    ...((inputs.mskServerlessClusters ?? 0) > 0 ? [{ line: 'Amazon MSK Serverless (cluster hours)', cost: inputs.mskServerlessClusters! * hours * prices.msk.serverlessClusterHour }] : []),
  ];
  assumptions.push('Not in the total: Athena (priced per thousand questions, as the number asked is not declared), the ingestion API\'s requests, the partners\' SFTP uploads, and the Kafka topics\' partitions, data and Firehose reads (their volumes are not declared), the network (NAT gateways, interface endpoints), DMS, Aurora, Redshift, Lambda, IoT Core, KMS, CloudWatch and CloudTrail.');
  return {
    envName: inputs.envName,
    prices,
    measured,
    volumes,
    streams,
    deliveries,
    flink,
    glue,
    queries: { bytesPerDay, figures },
    storage,
    monthly,
    monthlyTotal: monthly.reduce((s, m) => s + m.cost, 0),
    assumptions,
  };
}
