#!/usr/bin/env node
/**
 * npm run kpi -- [--env dev|staging|prod] <kpi> --from yyyy-MM-dd --to yyyy-MM-dd [--city Madrid] [--format table|csv|json]
 * npm run kpi -- --list
 *
 * Runs a KPI of the catalogue (queries/) in the environment's Athena workgroup, with the
 * credentials of the shell, and prints its rows; the query id and the bytes scanned go to stderr,
 * so csv and json output stays clean. AWS_ENDPOINT_URL_ATHENA points it at another endpoint.
 * Exit status: 0 answered, 2 a bad request (unknown KPI or parameter, bad value), 1 a failure.
 */
import * as path from 'path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { loadConfig } from '../../lib/config';
import { kpiAthenaSettings } from '../../lib/config/serving';
import { loadCatalogue } from '../../lambda/shared/kpi/catalogue';
import { KpiError } from '../../lambda/shared/kpi/errors';
import { footer, listing, parseArguments, render, runKpiCommand } from './core';

const QUERIES = path.join(__dirname, '..', '..', 'queries');

async function main(argv: readonly string[]): Promise<number> {
  try {
    const request = parseArguments(argv);
    const catalogue = loadCatalogue(QUERIES);
    if (request.list) {
      process.stdout.write(`${listing(catalogue)}\n`);
      return 0;
    }
    const config = loadConfig(request.env);
    const answer = await runKpiCommand(new AthenaClient({ region: config.region }), catalogue, request, {
      athena: kpiAthenaSettings(config),
      limits: { maxRangeDays: config.serving.maxRangeDays },
      timeoutMs: 300_000,
      pageSize: 1000,
    });
    process.stdout.write(`${render(answer, request.format)}\n`);
    process.stderr.write(`${footer(answer)}\n`);
    return 0;
  } catch (error) {
    const e = error as Error;
    process.stderr.write(`kpi: ${error instanceof KpiError ? `${e.message} [${error.code}]` : e.message}\n`);
    return error instanceof KpiError && error.status < 500 && error.code !== 'THROTTLED' ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
