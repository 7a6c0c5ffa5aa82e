import { spawn } from 'child_process';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import * as fs from 'fs';
import * as path from 'path';
import { MOTO_CREDENTIALS, MOTO_REGION } from './moto';

const PYTHON = path.join(__dirname, '..', '..', '.venv', 'bin', 'python');
const SERVER = path.join(__dirname, 'redshift_data_api.py');

export interface RedshiftDataStandIn {
  /** A Data API client of the AWS SDK, pointed at the stand-in. */
  readonly client: RedshiftDataClient;
  /** The PostgreSQL behind it, for a test that reads what the SQL wrote. */
  readonly postgresPort: number;
  stop(): Promise<void>;
}

/**
 * Starts the Data API stand-in (redshift_data_api.py: the Data API's protocol, the SQL on a real
 * PostgreSQL) and waits for its ready line. `iamDbRoles` are the database roles a call without a
 * secret (the IAM identity) runs under, as Redshift takes them from the role's RedshiftDbRoles tag.
 */
export async function startRedshiftData(options: { iamDbRoles?: string[] } = {}): Promise<RedshiftDataStandIn> {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run 'npm run setup' (scripts/setup.sh)`);
  const child = spawn(PYTHON, [SERVER, '--iam-db-roles', (options.iamDbRoles ?? []).join(':')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const ready = await new Promise<{ endpoint: string; postgresPort: number }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the Data API stand-in did not start within 60 s: ${stderr.slice(-2000)}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Data API stand-in exited with ${code}: ${stderr.slice(-2000)}`));
    });
  });
  return {
    client: new RedshiftDataClient({ endpoint: ready.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }),
    postgresPort: ready.postgresPort,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}
