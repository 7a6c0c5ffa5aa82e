#!/usr/bin/env node
/**
 * npm run onboard-vehicle -- --vehicle <id> [--env dev|staging|prod] [--out certs]
 *
 * Creates (or completes) a vehicle's IoT identity in the environment's account and region, with
 * the credentials of the shell, and prints what its firmware needs: the MQTT endpoint, the topic
 * to publish to, and the files to use. Set AWS_ENDPOINT_URL_IOT to use another IoT endpoint.
 */
import { DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import { loadConfig } from '../../lib/config';
import { onboardVehicle } from './core';

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const vehicleId = argument('vehicle');
  if (!vehicleId) throw new Error('usage: npm run onboard-vehicle -- --vehicle <id> [--env dev|staging|prod] [--out certs]');
  const config = loadConfig(argument('env'));
  const iot = new IoTClient({ region: config.region });
  const result = await onboardVehicle(iot, {
    vehicleId,
    thingTypeName: `${config.resourcePrefix}-vehicle`,
    policyName: `${config.resourcePrefix}-vehicle`,
    outDir: argument('out') ?? 'certs',
  });
  const endpoint = (await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress;
  const rule = `${config.resourcePrefix.replace(/-/g, '_')}_vehicle_telemetry`;
  console.log(JSON.stringify({
    ...result,
    actions: result.actions.length > 0 ? result.actions : ['none: already onboarded'],
    mqttEndpoint: endpoint,
    clientId: result.thingName,
    publishTopic: `$aws/rules/${rule}/vehicles/${result.thingName}/telemetry`,
  }, null, 2));
}

main().catch((error) => {
  console.error(`onboard-vehicle: ${(error as Error).message}`);
  process.exit(1);
});
