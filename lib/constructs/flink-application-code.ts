import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PATHS, REPO_ROOT } from '../paths';

export const FLINK_APP_DIR = PATHS.flinkApp;
const ZIP = path.join(FLINK_APP_DIR, 'target', 'application.zip');
const STAMP = `${ZIP}.inputs-sha256`;

/** Everything the application zip is built from (flink-app/assembly/application.xml). */
function inputs(): string[] {
  const enrichment = path.join(FLINK_APP_DIR, 'enrichment');
  return [
    path.join(FLINK_APP_DIR, 'pom.xml'),
    path.join(FLINK_APP_DIR, 'assembly', 'application.xml'),
    path.join(FLINK_APP_DIR, 'main.py'),
    ...fs.readdirSync(enrichment).filter((f) => f.endsWith('.py')).sort().map((f) => path.join(enrichment, f)),
    ...['sensors.sensor_readings.json', 'device_registry.device_updates.json', 'sensors.sensor_readings_enriched.json'].map((f) => path.join(PATHS.contracts, f)),
  ];
}

let built: string | undefined;

/**
 * The Managed Flink application zip (Python code, contracts, shaded connectors jar), built from
 * this repository with Maven when any input changed since the last build, once per process.
 * Unchanged inputs reuse the last zip, so the asset hash (and the deployed application) stays the
 * same between synths; a fresh clone builds anew, and the shade plugin's merge order of service
 * files makes that zip differ in bytes (docs/decisions.md).
 */
export function flinkApplicationZip(): string {
  if (built) return built;
  const digest = createHash('sha256');
  for (const file of inputs()) digest.update(path.relative(REPO_ROOT, file)).update('\0').update(fs.readFileSync(file));
  const current = digest.digest('hex');
  const previous = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8') : '';
  if (!fs.existsSync(ZIP) || previous !== current) {
    try {
      execFileSync('mvn', ['-q', '-B', 'package'], { cwd: FLINK_APP_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
    } catch (error) {
      throw new Error(`Building the Flink application failed (mvn package in ${FLINK_APP_DIR}); Maven and a JDK are needed at synth: ${(error as Error).message}`);
    }
    fs.writeFileSync(STAMP, current);
  }
  built = ZIP;
  return ZIP;
}
