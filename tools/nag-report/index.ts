/**
 * Prints, per cdk-nag pack and rule, how many findings each environment acknowledges, as the
 * README's table; `--write` puts it in the README between its markers. A test keeps them equal.
 * Usage: npm run nag-report [-- --write]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { EnvironmentName, loadConfig } from '../../lib/config';
import { acknowledgedFindings, AcknowledgedCounts } from '../../lib/nag/acknowledgements';
import { acknowledgedTable, TABLE_END, TABLE_START } from '../../lib/nag/summary';
import { buildPlatform } from '../../lib/platform';
import { REPO_ROOT } from '../../lib/paths';

const ENVIRONMENTS: EnvironmentName[] = ['dev', 'staging', 'prod'];
const context = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context;

const counts: Record<string, AcknowledgedCounts> = {};
for (const env of ENVIRONMENTS) {
  // No stack's assets are bundled: the counts do not depend on them.
  const app = new App({ context: { ...context, env, 'aws:cdk:bundling-stacks': [] }, outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'nag-report-')) });
  buildPlatform(app, loadConfig(env));
  app.synth();
  counts[env] = acknowledgedFindings(app);
}
const table = acknowledgedTable(counts);
if (process.argv.includes('--write')) {
  const readmePath = path.join(REPO_ROOT, 'README.md');
  const readme = fs.readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md: expected the markers ${TABLE_START} and ${TABLE_END}`);
  fs.writeFileSync(readmePath, `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`);
  console.log('README.md: table of acknowledged findings written');
} else {
  console.log(table);
}
