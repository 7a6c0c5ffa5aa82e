import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { rotateLoginSecret, RotationContext } from '../../lambda/registry-login-rotation/core';
import { setLoginPasswords } from '../../lambda/registry-migrations/core';
import { applyRegistryMigrations } from '../../lambda/registry-migrations/core';
import { queryRows, RdsDataTarget } from '../../lambda/shared/rds-data';
import { scramSha256Verifier } from '../../lambda/shared/scram';
import { registryMigrations } from '../../lib/registry-sql';
import { MOTO_CREDENTIALS, MOTO_REGION, Moto, startMoto } from '../../tools/stand-ins/moto';
import { RdsDataStandIn, startRdsData } from '../../tools/stand-ins/rds-data';

/**
 * The rotation of a registry login's secret, its four steps as Secrets Manager calls them, against
 * moto's Secrets Manager (the versions and their stages) and the RDS Data API stand-in on
 * PostgreSQL (the password set as the master): a new password becomes current in both, each step
 * may run again, and a secret naming a login the function does not rotate is refused.
 */
jest.setTimeout(120_000);
let api: RdsDataStandIn;
let moto: Moto;
let secrets: SecretsManagerClient;
const master: RdsDataTarget = { resourceArn: 'arn:aws:rds:eu-west-1:123456789012:cluster:tlh-test-registry', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:master', database: 'rotation' };

beforeAll(async () => {
  [api, moto] = await Promise.all([startRdsData(), startMoto()]);
  secrets = new SecretsManagerClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
  await applyRegistryMigrations(api.client, master, registryMigrations());
});
afterAll(async () => Promise.all([api?.stop(), moto?.stop()]));

const value = async (secretId: string, stage = 'AWSCURRENT') => JSON.parse((await secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))).SecretString!);
const storedVerifier = async (role: string) => String((await queryRows(api.client, master, 'SELECT rolpassword FROM pg_authid WHERE rolname = :role', 'verifier', { role }))[0][0]);
/** Whether PostgreSQL's stored verifier is the one of `password` (made again with its salt and iterations). */
const verifies = (stored: string, password: string) => {
  const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
  return scramSha256Verifier(password, Buffer.from(salt, 'base64'), Number(iterations)) === stored;
};
/** What Secrets Manager does before it calls the function: a pending version with no value. moto records it, then cannot invoke a function (there is none), and the test plays the function. */
const startRotation = async (secretId: string, token: string) => {
  await secrets.send(new RotateSecretCommand({ SecretId: secretId, ClientRequestToken: token, RotationLambdaARN: 'arn:aws:lambda:eu-west-1:123456789012:function:rotation', RotationRules: { AutomaticallyAfterDays: 30 } })).catch(() => undefined);
  expect((await secrets.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages?.[token]).toEqual(['AWSPENDING']);
};

describe("a registry login's secret rotated", () => {
  test('a new password becomes current in the secret and in PostgreSQL; every step may run again', async () => {
    const arn = (await secrets.send(new CreateSecretCommand({ Name: 'registry-dms', SecretString: JSON.stringify({ username: 'registry_dms', password: 'Old0000000000000000000000000000000000000', host: 'h', port: 5432 }) }))).ARN!;
    await setLoginPasswords(api.client, secrets, master, [{ role: 'registry_dms', secretArn: arn }]);
    expect(verifies(await storedVerifier('registry_dms'), 'Old0000000000000000000000000000000000000')).toBe(true);

    const ctx: RotationContext = { secrets, data: api.client, master, roles: ['registry_dms', 'registry_fleet'] };
    const token = '11111111-2222-3333-4444-555555555555';
    await startRotation(arn, token);
    expect(await rotateLoginSecret(ctx, 'createSecret', arn, token)).toBe('pending version created');
    expect(await rotateLoginSecret(ctx, 'createSecret', arn, token)).toBe('pending version exists');
    const pending = await value(arn, 'AWSPENDING');
    expect(pending).toMatchObject({ username: 'registry_dms', host: 'h', port: 5432 });
    expect(pending.password).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(verifies(await storedVerifier('registry_dms'), 'Old0000000000000000000000000000000000000')).toBe(true); // not yet set
    for (let i = 0; i < 2; i++) expect(await rotateLoginSecret(ctx, 'setSecret', arn, token)).toBe('password of registry_dms set');
    expect(verifies(await storedVerifier('registry_dms'), pending.password)).toBe(true);
    expect(await rotateLoginSecret(ctx, 'testSecret', arn, token)).toBe('not testable through the Data API');
    expect(await rotateLoginSecret(ctx, 'finishSecret', arn, token)).toBe('pending version made current');
    expect((await value(arn)).password).toBe(pending.password);
    expect(await rotateLoginSecret(ctx, 'finishSecret', arn, token)).toBe('already current');
  });

  test('a secret naming a login the function does not rotate is refused before anything is set', async () => {
    const arn = (await secrets.send(new CreateSecretCommand({ Name: 'other', SecretString: JSON.stringify({ username: 'registry_admin', password: 'x' }) }))).ARN!;
    const token = '66666666-7777-8888-9999-000000000000';
    await startRotation(arn, token);
    const ctx: RotationContext = { secrets, data: api.client, master, roles: ['registry_dms', 'registry_fleet'] };
    await rotateLoginSecret(ctx, 'createSecret', arn, token);
    await expect(rotateLoginSecret(ctx, 'setSecret', arn, token)).rejects.toThrow(/names registry_admin, not a login this function rotates \(registry_dms, registry_fleet\)/);
    await expect(rotateLoginSecret(ctx, 'createSecret', arn, 'not-a-version')).rejects.toThrow(/is not a version of the secret/);
  });
});
