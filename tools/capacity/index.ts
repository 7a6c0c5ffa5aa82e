#!/usr/bin/env node
/**
 * npm run capacity -- [--env dev|staging|prod] [--json]
 *
 * Prints what the environment's declared load needs and costs: daily volumes per dataset, Kinesis
 * shards, Firehose deliveries, Flink KPUs, the daily Glue pipeline's DPU-hours and wall time, the
 * bytes each named query scans, S3 bytes per zone, and a monthly cost from the dated price table
 * (lib/config/prices.ts), with every assumption. Offline: no AWS call.
 */
import * as path from 'path';
import { loadConfig } from '../../lib/config';
import { capacityModel, loadMeasured } from '../../lib/config/cost-model';
import { priceTableFor } from '../../lib/config/prices';
import { loadContracts } from '../../lib/contracts';
import { loadJobs } from '../../lib/registry';
import { loadCatalogue } from '../../lambda/shared/kpi/catalogue';
import { capacityInputs, renderReport } from './core';

function main(argv: readonly string[]): number {
  let env: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--env') env = argv[++i];
    else if (argv[i] === '--json') json = true;
    else {
      process.stderr.write(`capacity: unknown argument ${argv[i]}; usage: npm run capacity -- [--env dev|staging|prod] [--json]\n`);
      return 2;
    }
  }
  try {
    const config = loadConfig(env);
    const contracts = loadContracts();
    const kpis = loadCatalogue(path.join(__dirname, '..', '..', 'queries')).map((k) => k.name);
    const report = capacityModel(capacityInputs(config, loadJobs(contracts), contracts, kpis), loadMeasured(), priceTableFor(config.region));
    process.stdout.write(`${json ? JSON.stringify(report, null, 2) : renderReport(report)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`capacity: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
