#!/usr/bin/env node
/**
 * npm run registry -- add-vehicle|mount-sensor|calibrate ... [--env dev|staging|prod]
 *
 * The fleet team's changes to the device registry, through the RDS Data API with the credentials
 * of the shell: no network path to the cluster's isolated subnets is needed. The cluster is the
 * environment's (`<prefix>-registry`, its master secret read from RDS), or the one --cluster-arn,
 * --secret-arn and --database name. AWS_ENDPOINT_URL_RDS_DATA points the Data API elsewhere (the
 * tests' stand-in). Prints one JSON line; exits 2 on a command line it cannot run, 1 on a refusal.
 */
import { DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { loadConfig } from '../../lib/config';
import { parseRegistryArguments, runRegistryRequest, UsageError } from './core';

async function main(): Promise<void> {
  const { request, flags } = parseRegistryArguments(process.argv.slice(2), new Date());
  const config = loadConfig(flags.env);
  let resourceArn = flags['cluster-arn'];
  let secretArn = flags['secret-arn'];
  if (!resourceArn || !secretArn) {
    const identifier = `${config.resourcePrefix}-registry`;
    const found = (await new RDSClient({ region: config.region }).send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }))).DBClusters?.[0];
    if (!found?.DBClusterArn || !found.MasterUserSecret?.SecretArn) throw new Error(`cluster ${identifier} not found, or it has no master secret`);
    resourceArn ??= found.DBClusterArn;
    secretArn ??= found.MasterUserSecret.SecretArn;
  }
  const client = new RDSDataClient({ region: config.region });
  const outcome = await runRegistryRequest(client, { resourceArn, secretArn, database: flags.database ?? config.registry.databaseName }, request);
  console.log(JSON.stringify({ ...request, ...outcome }));
}

main().catch((error) => {
  console.error(`registry: ${(error as Error).message}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
