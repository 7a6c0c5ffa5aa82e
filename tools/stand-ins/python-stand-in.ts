import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const PYTHON = path.join(__dirname, '..', '..', '.venv', 'bin', 'python');

export interface PythonStandIn<Ready> {
  /** The server's ready line: where it listens, and what it wants known. */
  readonly ready: Ready;
  /** Closes its stdin (it stops, and stops what it started) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a stand-in server written in Python (tools/stand-ins/*.py) and waits for the one JSON line
 * it prints when ready; it stops when its stdin closes. Fails with the server's last words when it
 * exits first or stays silent for a minute.
 */
export async function startPythonStandIn<Ready>(script: string, args: string[], what: string): Promise<PythonStandIn<Ready>> {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run 'npm run setup' (scripts/setup.sh)`);
  const child = spawn(PYTHON, [path.join(__dirname, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const ready = await new Promise<Ready>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s: ${stderr.slice(-2000)}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(out.split('\n')[0]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${stderr.slice(-2000)}`));
    });
  });
  return {
    ready,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}
