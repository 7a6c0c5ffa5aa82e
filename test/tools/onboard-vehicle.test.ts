import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CreatePolicyCommand,
  CreateThingTypeCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import { onboardVehicle } from '../../tools/onboard-vehicle/core';
import { Moto, MOTO_CREDENTIALS, MOTO_REGION, startMoto } from '../../tools/stand-ins/moto';

/** Against moto_server, whose IoT things, certificates and attachments are real. */
describe('vehicle onboarding', () => {
  let moto: Moto;
  let iot: IoTClient;
  let outDir: string;
  const request = () => ({ vehicleId: 'truck-0042', thingTypeName: 'tlh-test-vehicle', policyName: 'tlh-test-vehicle', outDir });

  beforeAll(async () => {
    moto = await startMoto();
    iot = new IoTClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
  }, 60_000);
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onboard-'));
    await iot.send(new CreateThingTypeCommand({ thingTypeName: 'tlh-test-vehicle' }));
    await iot.send(new CreatePolicyCommand({ policyName: 'tlh-test-vehicle', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }));
  });

  async function state() {
    const certificates = (await iot.send(new ListCertificatesCommand({}))).certificates ?? [];
    const principals = (await iot.send(new ListThingPrincipalsCommand({ thingName: 'truck-0042' }))).principals ?? [];
    const policies = principals.length
      ? ((await iot.send(new ListAttachedPoliciesCommand({ target: principals[0] }))).policies ?? []).map((p) => p.policyName)
      : [];
    const things = ((await iot.send(new ListThingsCommand({}))).things ?? []).map((t) => [t.thingName, t.thingTypeName]);
    return { certificates: certificates.length, principals, policies, things };
  }

  test('creates the thing, a certificate with its keys, and both attachments', async () => {
    const result = await onboardVehicle(iot, request());
    expect(result.actions).toEqual(['created thing', 'created certificate and keys', 'attached policy and certificate']);
    expect(await state()).toEqual({ certificates: 1, principals: [result.certificateArn], policies: ['tlh-test-vehicle'], things: [['truck-0042', 'tlh-test-vehicle']] });
    const dir = path.join(outDir, 'truck-0042');
    expect(fs.readdirSync(dir).sort()).toEqual(['certificate.arn', 'certificate.pem.crt', 'private.pem.key', 'public.pem.key']);
    expect(fs.readFileSync(path.join(dir, 'certificate.pem.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(fs.statSync(path.join(dir, 'private.pem.key')).mode & 0o777).toBe(0o600);
  });

  test('a re-run changes nothing and creates no second certificate', async () => {
    const first = await onboardVehicle(iot, request());
    const again = await onboardVehicle(iot, request());
    expect(again).toEqual({ ...first, actions: [] });
    expect((await state()).certificates).toBe(1);
  });

  test('a re-run after a failure between certificate and attachment finishes with the same certificate', async () => {
    const first = await onboardVehicle(iot, { ...request(), policyName: 'no-such-policy' }).catch((e: Error) => e);
    expect(first).toBeInstanceOf(Error);
    expect(fs.existsSync(path.join(outDir, 'truck-0042', 'certificate.arn'))).toBe(true);
    const resumed = await onboardVehicle(iot, request());
    expect(resumed.actions).toEqual(['attached policy and certificate']);
    expect(await state()).toMatchObject({ certificates: 1, principals: [resumed.certificateArn], policies: ['tlh-test-vehicle'] });
  });

  test('a thing whose certificate keys are elsewhere is refused, not given a second identity', async () => {
    await onboardVehicle(iot, request());
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onboard-other-'));
    await expect(onboardVehicle(iot, { ...request(), outDir: otherDir })).rejects.toThrow(/already has a certificate .* whose keys are not in/);
    expect((await state()).certificates).toBe(1);
  });

  test('an invalid vehicle id is refused before any call', async () => {
    await expect(onboardVehicle(iot, { ...request(), vehicleId: 'truck 42/x' })).rejects.toThrow(/not a valid IoT thing name/);
    expect((await iot.send(new ListThingsCommand({}))).things).toEqual([]);
  });
});
