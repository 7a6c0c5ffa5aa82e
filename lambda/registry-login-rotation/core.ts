import { RDSDataClient } from '@aws-sdk/client-rds-data';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { randomInt } from 'crypto';
import { queryRows, RdsDataTarget } from '../shared/rds-data';
import { scramSha256Verifier } from '../shared/scram';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

export interface RotationContext {
  readonly secrets: SecretsManagerClient;
  readonly data: RDSDataClient;
  /** The registry as its master: the one that may set a login's password (V004's function). */
  readonly master: RdsDataTarget;
  /** The logins this function may rotate (a secret naming another user is refused). */
  readonly roles: readonly string[];
}

const LETTERS_AND_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 40 letters and digits, drawn uniformly (what registryLoginSecret generates, and a SCRAM verifier is made from as it is). */
export function newPassword(length = 40): string {
  return Array.from({ length }, () => LETTERS_AND_DIGITS[randomInt(LETTERS_AND_DIGITS.length)]).join('');
}

/**
 * One step of Secrets Manager's rotation of a registry login's secret (issue 15): a new password
 * as the pending version; set in the registry as the master, as a SCRAM verifier (the password
 * never reaches the database); then made current. The deploy sets the same way from the current
 * version, so the two never disagree for long. Each step is idempotent, as Secrets Manager
 * retries them.
 */
export async function rotateLoginSecret(ctx: RotationContext, step: RotationStep, secretId: string, token: string): Promise<string> {
  const described = await ctx.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  const stages = described.VersionIdsToStages ?? {};
  if (!stages[token]) throw new Error(`version ${token} of ${secretId} is not a version of the secret`);
  if (stages[token].includes('AWSCURRENT')) return 'already current';
  if (!stages[token].includes('AWSPENDING')) throw new Error(`version ${token} of ${secretId} is not pending rotation`);
  switch (step) {
    case 'createSecret': {
      try {
        await ctx.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
        return 'pending version exists';
      } catch (e) {
        if (!(e instanceof ResourceNotFoundException)) throw e;
      }
      const current = JSON.parse((await ctx.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }))).SecretString ?? '{}');
      await ctx.secrets.send(new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: token, SecretString: JSON.stringify({ ...current, password: newPassword() }), VersionStages: ['AWSPENDING'] }));
      return 'pending version created';
    }
    case 'setSecret': {
      const pending = JSON.parse((await ctx.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }))).SecretString ?? '{}');
      if (!ctx.roles.includes(pending.username)) throw new Error(`${secretId} names ${pending.username ?? 'no user'}, not a login this function rotates (${ctx.roles.join(', ')})`);
      await queryRows(ctx.data, ctx.master, 'SELECT public.set_login_password(:role, :verifier)', `set the password of ${pending.username}`, {
        role: pending.username,
        verifier: scramSha256Verifier(pending.password),
      });
      return `password of ${pending.username} set`;
    }
    case 'testSecret':
      // The Data API signs in with a secret's current version only, and the registry is in isolated
      // subnets: the pending password cannot be tried from here. setSecret's statement is the check
      // (PostgreSQL took the verifier); the login is tried by its user once the version is current.
      return 'not testable through the Data API';
    case 'finishSecret': {
      const current = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      await ctx.secrets.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }));
      return 'pending version made current';
    }
  }
}
