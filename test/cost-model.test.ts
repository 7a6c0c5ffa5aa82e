import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../lib/config';
import { CapacityInputs, capacityModel, loadMeasured, Measured } from '../lib/config/cost-model';
import { PRICE_TABLES, PriceTable, priceTableFor } from '../lib/config/prices';
import { loadContracts } from '../lib/contracts';
import { loadJobs } from '../lib/registry';
import { loadCatalogue } from '../lambda/shared/kpi/catalogue';
import { capacityInputs, renderReport } from '../tools/capacity/core';

// A hand-worked case: round numbers, every expected figure worked out below by hand.
const inputs: CapacityInputs = {
  envName: 'hand',
  region: 'test-region-1',
  streaming: {
    expectedLoad: {
      telemetry: { vehicles: 10, messagesPerVehiclePerSecond: 1, bytesPerMessage: 1000 },
      sensorReadings: { recordsPerSecond: 2, bytesPerRecord: 200 },
      deviceUpdates: { recordsPerSecond: 1, bytesPerRecord: 300 },
    },
    capacityMode: 'provisioned',
    headroom: 1.5,
    retentionHours: 48,
    firehose: { bufferIntervalSeconds: 300, bufferSizeMiB: 64 },
    flink: { parallelism: 3, parallelismPerKpu: 2 },
  },
  processing: { workerType: 'G.2X', maxWorkers: 5 },
  lifecycle: { rawToInfrequentAccessDays: 30, rawToGlacierDays: 90 },
  weatherCities: 2,
  dailyJobs: [
    { name: 'telematics-etl', stage: 'sources', pipeline: 'telematics', output: 'telematics' },
    { name: 'weather-etl', stage: 'sources', pipeline: 'weather', output: 'weather' },
    { name: 'crm-etl', stage: 'sources', pipeline: 'cdc', output: 'customers' },
    { name: 'aggregate', stage: 'aggregation', pipeline: 'aggregation', output: 'telemetry_metrics' },
    { name: 'maintenance', stage: 'maintenance', pipeline: 'maintenance', output: '' },
  ],
  kpiQueries: ['q1'],
  kpiGroupsPerDay: 100,
};
const measured: Measured = {
  measuredOn: '2026-12-02',
  by: 'hand',
  machine: { cores: 2 },
  sizes: [1_000_000, 5_000_000],
  steps: {
    telematics: { fixedSeconds: 10, coreSecondsPerMillionRows: 3200 },
    aggregation: { fixedSeconds: 5, coreSecondsPerMillionRows: 320 },
    cdcSecondsPerRun: 7,
    weatherSecondsPerRun: 2,
  },
  bytes: { rawTelemetryGzipRatio: 0.1, rawTelemetryJsonBytesPerRow: 1000, processedTelematicsBytesPerRow: 20, aggregatedBytesPerKpiRow: 50, aggregatedKpiRowsPerDay: 70 },
};
const prices: PriceTable = {
  region: 'test-region-1',
  currency: 'USD',
  asOf: '2026-12-02',
  source: 'round numbers for the test',
  kinesis: {
    provisioned: { shardHour: 0.01, putPayloadUnitsPerMillion: 1, extendedRetentionShardHour: 0.02 },
    onDemand: { streamHour: 0.04, ingestedGb: 0.08, retrievedGb: 0.04, extendedRetentionGbMonth: 0.1 },
  },
  firehose: { ingestedGb: 0.03, formatConversionGb: 0.02, dynamicPartitioningGb: 0.02, dynamicPartitioningPerThousandObjects: 0.005 },
  flink: { kpuHour: 0.1, runningStorageGbMonth: 0.1 },
  glue: { dpuHour: 0.5 },
  athena: { scannedTb: 5 },
  s3: { standardGbMonth: 0.02, infrequentAccessGbMonth: 0.01, glacierFlexibleGbMonth: 0.004 },
  transfer: { protocolEndpointHour: 0.3 },
  msk: { serverlessClusterHour: 0.8 },
};
const GiB = 1024 ** 3;

describe('the capacity and cost model, worked by hand', () => {
  const r = capacityModel(inputs, measured, prices);

  test('daily volumes: 10 vehicles x 86,400 s = 864,000 readings of 1,000 B; 2 cities x 24 weather rows', () => {
    expect(r.volumes.find((v) => v.dataset === 'telematics')).toMatchObject({ recordsPerDay: 864_000, bytesPerDay: 864_000_000 });
    expect(r.volumes.find((v) => v.dataset === 'sensor_readings')).toMatchObject({ recordsPerDay: 172_800, bytesPerDay: 34_560_000 });
    // An enriched reading carries its device record: 200 + 300 B.
    expect(r.volumes.find((v) => v.dataset === 'sensor_readings_enriched')).toMatchObject({ recordsPerDay: 172_800, bytesPerDay: 86_400_000 });
    expect(r.volumes.find((v) => v.dataset === 'weather')).toMatchObject({ recordsPerDay: 48, bytesPerDay: 12_000 });
  });

  test('Kinesis provisioned: 1 shard each; 730 shard-hours, a PUT unit per record, extended retention for 48 h', () => {
    // telemetry: 730 x 0.01 = 7.30; 864,000 x 30.41667 = 26.28M units x 1/M = 26.28; 730 x 0.02 = 14.60
    expect(r.streams.map((s) => s.shards?.shards)).toEqual([1, 1, 1]);
    expect(r.streams[0].monthlyCost).toBeCloseTo(7.3 + 26.28 + 14.6, 6);
    expect(r.streams[1].monthlyCost).toBeCloseTo(7.3 + 5.256 + 14.6, 6);
    expect(r.streams[2].monthlyCost).toBeCloseTo(7.3 + 2.628 + 14.6, 6);
  });

  test('Kinesis on-demand: the stream-hours, GB in rounded to 1 KiB per record, GB out per consumer', () => {
    const onDemand = capacityModel({ ...inputs, streaming: { ...inputs.streaming, capacityMode: 'on-demand', retentionHours: 24 } }, measured, prices);
    // 26,280,000 records x 1 KiB = 25.06256 GiB: 730 x 0.04 + 25.06256 x 0.08 + 25.06256 x 1 consumer x 0.04
    expect(onDemand.streams[0].monthlyCost).toBeCloseTo(29.2 + 25.062561 * 0.12, 4);
    expect(onDemand.streams[0].shards).toBeUndefined();
  });

  test('Firehose: each record billed as 5 KiB; an object per 300 s interval unless the buffer fills first', () => {
    const [raw, devices, enriched] = r.deliveries;
    // 864,000 x 5,120 B = 4.119873 GiB a day; 864 MB / 64 MiB = 13 fills < 288 intervals
    expect(raw.billedGbPerDay).toBeCloseTo(4.119873, 5);
    expect(raw.deliveriesPerDay).toBe(288);
    expect(raw.monthlyCost).toBeCloseTo(4.119873 * 0.03 * 30.416667, 4);
    expect(devices.monthlyCost).toBeCloseTo(0.4119873 * 0.03 * 30.416667, 5);
    // enriched: 0.8239746 GiB billed x (0.03 ingest + 0.02 Parquet) + 86.4 MB actual x 0.02 + 288 objects x 0.005/1000
    expect(enriched.monthlyCost).toBeCloseTo((0.8239746 * 0.05 + (86_400_000 / GiB) * 0.02 + 0.288 * 0.005) * 30.416667, 4);
  });

  test('Flink: ceil(3 / 2) = 2 KPUs + 1 orchestration; 50 GB per processing KPU', () => {
    expect(r.flink).toEqual({ kpus: 3, storageGb: 100, monthlyCost: 3 * 730 * 0.1 + 100 * 0.1 });
  });

  test('Glue: 4 executors x 8 vCPU; telematics 10 + 864,000 x 3,200 / 1e6 / 32 = 96.4 s; the rest billed the 60 s minimum', () => {
    expect(r.glue.executorCores).toBe(32);
    const telematics = r.glue.jobs.find((j) => j.job === 'telematics-etl')!;
    expect(telematics.seconds).toBeCloseTo(96.4, 9);
    expect(telematics.dpuHours).toBeCloseTo((96.4 * 5 * 2) / 3600, 9);
    const aggregate = r.glue.jobs.find((j) => j.job === 'aggregate')!;
    expect(aggregate.seconds).toBeCloseTo(5 + 8.64, 9);
    expect(aggregate.billedSeconds).toBe(60);
    expect(r.glue.jobs.map((j) => j.billedSeconds)).toEqual([96.4, 60, 60, 60, 60]);
    // sources in parallel (96.4), then the aggregation (60), then maintenance (60)
    expect(r.glue.wallSeconds).toBeCloseTo(216.4, 9);
    expect(r.glue.dpuHoursPerDay).toBeCloseTo((96.4 * 10) / 3600 + 4 * (600 / 3600), 9);
    expect(r.glue.monthlyCost).toBeCloseTo(0.9344444 * 30.416667 * 0.5, 4);
  });

  test('Athena: 100 rows a day x 50 B; any range this small is billed the 10 MiB minimum', () => {
    expect(r.queries.bytesPerDay).toBe(5000);
    expect(r.queries.figures.map((q) => [q.days, q.bytesScanned, q.bytesBilled])).toEqual([
      [1, 5000, 10 * 1024 ** 2],
      [30, 150_000, 10 * 1024 ** 2],
      [365, 1_825_000, 10 * 1024 ** 2],
    ]);
    expect(r.queries.figures[0].costPerThousand).toBeCloseTo((1000 * 10 * 1024 ** 2 * 5) / 1024 ** 4, 9);
  });

  test('S3 in month 12: raw 30 days Standard, 60 IA, 275 Glacier; the other zones all Standard', () => {
    // raw a day: (864,000,000 + 25,920,000) x 0.1 + 12,000 = 89,004,000 B
    const [raw, processed, aggregated] = r.storage.zones;
    expect(raw.held.standard).toBeCloseTo(30 * 89_004_000, 0);
    expect(raw.held.infrequentAccess).toBeCloseTo(60 * 89_004_000, 0);
    expect(raw.held.glacier).toBeCloseTo(275 * 89_004_000, 0);
    expect(raw.monthlyCost).toBeCloseTo((89_004_000 * (30 * 0.02 + 60 * 0.01 + 275 * 0.004)) / GiB, 9);
    // processed: (864,000 + 86,400 + 2 x 172,800) rows x 20 B; aggregated: 864,000 intervals x 20 B + 5,000 B of KPIs
    expect(processed.monthlyCost).toBeCloseTo((365 * 25_920_000 * 0.02) / GiB, 9);
    expect(aggregated.monthlyCost).toBeCloseTo((365 * 17_285_000 * 0.02) / GiB, 9);
  });

  test('the month adds up, to the cent', () => {
    expect(r.monthlyTotal).toBeCloseTo(349.04, 2);
    expect(r.monthlyTotal).toBeCloseTo(r.monthly.reduce((s, m) => s + m.cost, 0), 9);
  });

  test('an SFTP endpoint adds its hours, 730 x 0.30 = 219.00 a month, whatever is uploaded', () => {
    const withSftp = capacityModel({ ...inputs, sftpEndpoints: 1 }, measured, prices);
    expect(withSftp.monthly.at(-1)).toEqual({ line: 'AWS Transfer Family (partner SFTP endpoint)', cost: 219 });
    expect(withSftp.monthlyTotal).toBeCloseTo(349.04 + 219, 2);
  });

  test('an MSK Serverless cluster adds its hours, 730 x 0.80 = 584.00 a month, whatever the topics carry', () => {
    const withKafka = capacityModel({ ...inputs, mskServerlessClusters: 1 }, measured, prices);
    expect(withKafka.monthly.at(-1)).toEqual({ line: 'Amazon MSK Serverless (cluster hours)', cost: 584 });
    expect(withKafka.monthlyTotal).toBeCloseTo(349.04 + 584, 2);
    expect(withKafka.assumptions.join(' ')).toMatch(/Kafka topics' partitions, data and Firehose reads/);
  });

  test('what the model cannot price is an error, not a guess', () => {
    expect(() => capacityModel({ ...inputs, region: 'elsewhere-1' }, measured, prices)).toThrow(/price table is for test-region-1/);
    expect(() => capacityModel({ ...inputs, dailyJobs: [{ name: 'x', stage: 'sources', pipeline: 'new-kind', output: 'x' }] }, measured, prices)).toThrow(/no cost for new-kind jobs \(x\)/);
    expect(() => capacityModel({ ...inputs, streaming: { ...inputs.streaming, retentionHours: 720 } }, measured, prices)).toThrow(/long-term retention/);
    expect(() => priceTableFor('ap-south-2')).toThrow(/no price table for region ap-south-2/);
  });

  test('the measured figures are checked: a missing field or file fails with its name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'measured-'));
    const file = path.join(dir, 'measured.json');
    fs.writeFileSync(file, JSON.stringify({ ...measured, steps: { ...measured.steps, telematics: undefined } }));
    expect(() => loadMeasured(file)).toThrow(/telematics/);
    expect(() => loadMeasured(path.join(dir, 'absent.json'))).toThrow(/missing: run 'npm run bench'/);
  });
});

describe('the capacity command on the real environments', () => {
  const contracts = loadContracts();
  const jobs = loadJobs(contracts);
  const kpis = loadCatalogue(path.join(__dirname, '..', 'queries')).map((k) => k.name);
  const reportOf = (env: string) => {
    const config = loadConfig(env);
    return capacityModel(capacityInputs(config, jobs, contracts, kpis), loadMeasured(), priceTableFor(config.region));
  };

  test('every environment deploys to a region with a price table, and bench/measured.json is well formed', () => {
    for (const env of ['dev', 'staging', 'prod']) expect(PRICE_TABLES[loadConfig(env).region]).toBeDefined();
    expect(() => loadMeasured()).not.toThrow();
  });

  test('prod: 259.2M readings a day, 5 telemetry shards, every daily Glue job of the registry priced, every KPI of the catalogue', () => {
    const r = reportOf('prod');
    expect(r.volumes[0]).toMatchObject({ dataset: 'telematics', recordsPerDay: 259_200_000 });
    expect(r.streams[0].shards?.shards).toBe(5);
    expect(new Set(r.glue.jobs.map((j) => j.job))).toEqual(new Set(jobs.filter((j) => j.engine === 'glue').map((j) => j.name)));
    expect(new Set(r.queries.figures.map((q) => q.query))).toEqual(new Set(kpis));
    // 6 cities x 3 temperature ranges x 7 conditions x (4 segments + unknown)
    expect(r.queries.bytesPerDay).toBe(630 * loadMeasured().bytes.aggregatedBytesPerKpiRow);
    const text = renderReport(r);
    for (const heading of ['Daily volumes', 'Kinesis Data Streams', 'Firehose deliveries', 'Apache Flink', 'Glue daily pipeline', 'Athena', 'S3 by zone', 'Monthly cost', 'Assumptions']) {
      expect(text).toContain(heading);
    }
    expect(text).toContain(`prices of ${r.prices.asOf}`);
  });
});
