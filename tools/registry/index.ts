#!/usr/bin/env node
/**
 * npm run registry -- add-vehicle|mount-sensor|calibrate ... [--env dev|staging|prod]
 * npm run registry -- apply --file <operations, one a line> [--env ...]
 *
 * The fleet team's changes to the device registry, through the RDS Data API with the credentials
 * of the shell: no network path to the cluster's isolated subnets is needed. The cluster is the
 * environment's (`<prefix>-registry`), signed in as the fleet team's login (`registry_fleet`, whose
 * secret is `<prefix>-registry-fleet`: the three operations and reading, nothing else), or the
 * one --cluster-arn, --secret-arn and --database name. AWS_ENDPOINT_URL_RDS_DATA points the Data
 * API elsewhere (the tests' stand-in, the local run's). Prints one JSON line an operation; exits 2 on a command line
 * (or a file line) it cannot run, 1 on a refusal, which for a file stops at that line: the lines
 * before it are applied, and, the operations being idempotent, the file can be run again whole.
 */
import { DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadConfig } from '../../lib/config';
import { registryClusterIdentifier, registryFleetSecretName } from '../../lib/config/naming';
import * as fs from 'fs';
import { parseRegistryArguments, parseRegistryFile, RegistryRequest, runRegistryRequest, UsageError } from './core';

/** The requests of the command line: one operation, or a file of them (apply --file). */
function requestsOf(argv: readonly string[], now: Date): { requests: RegistryRequest[]; flags: Record<string, string> } {
  if (argv[0] !== 'apply') {
    const { request, flags } = parseRegistryArguments(argv, now);
    return { requests: [request], flags };
  }
  const flags: Record<string, string> = {};
  for (let i = 1; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!['file', 'env', 'cluster-arn', 'secret-arn', 'database'].includes(name) || argv[i + 1] === undefined) throw new UsageError(`apply: unknown or valueless argument '${argv[i]}'`);
    flags[name] = argv[i + 1];
  }
  if (!flags.file) throw new UsageError('apply: missing --file');
  if (!fs.existsSync(flags.file)) throw new UsageError(`apply: ${flags.file} does not exist`);
  return { requests: parseRegistryFile(fs.readFileSync(flags.file, 'utf8'), now), flags };
}

async function main(): Promise<void> {
  const { requests, flags } = requestsOf(process.argv.slice(2), new Date());
  const config = loadConfig(flags.env);
  // Where: the environment's cluster and the fleet team's login (V005), or the ones given.
  let resourceArn: string | undefined = flags['cluster-arn'];
  if (!resourceArn) {
    const identifier = registryClusterIdentifier(config);
    resourceArn = (await new RDSClient({ region: config.region }).send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }))).DBClusters?.[0]?.DBClusterArn;
    if (!resourceArn) throw new Error(`cluster ${identifier} not found`);
  }
  let secretArn: string | undefined = flags['secret-arn'];
  if (!secretArn) {
    const name = registryFleetSecretName(config);
    secretArn = (await new SecretsManagerClient({ region: config.region }).send(new DescribeSecretCommand({ SecretId: name }))).ARN;
    if (!secretArn) throw new Error(`secret ${name} not found`);
  }
  const client = new RDSDataClient({ region: config.region });
  const where = { resourceArn, secretArn, database: flags.database ?? config.registry.databaseName };
  for (const [i, request] of requests.entries()) {
    try {
      console.log(JSON.stringify({ ...request, ...(await runRegistryRequest(client, where, request)) }));
    } catch (error) {
      if (requests.length > 1) (error as Error).message = `operation ${i + 1} of ${requests.length} (${request.op}) refused, the ones before it applied: ${(error as Error).message}`;
      throw error;
    }
  }
}

main().catch((error) => {
  console.error(`registry: ${(error as Error).message}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
