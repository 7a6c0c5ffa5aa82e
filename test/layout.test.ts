import * as fs from 'fs';
import * as path from 'path';
import { GLUE_METRICS_NAMESPACE } from '../lib/config/metrics';
import { PATHS, REPO_ROOT } from '../lib/paths';

/** The house rules of the layout (CONTRIBUTING.md), held by tests rather than by review. */
const filesUnder = (dir: string, ext: RegExp): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return ['node_modules', 'cdk.out', '.venv', 'target', '.git'].includes(e.name) ? [] : filesUnder(full, ext);
    return ext.test(e.name) ? [full] : [];
  });

describe('layout', () => {
  test('stacks only compose: every file in lib/stacks/ stays under 150 lines', () => {
    const long = filesUnder(path.join(REPO_ROOT, 'lib', 'stacks'), /\.ts$/)
      .map((f) => [path.relative(REPO_ROOT, f), fs.readFileSync(f, 'utf8').split('\n').filter((l, i, all) => i < all.length - 1 || l !== '').length] as const)
      .filter(([, lines]) => lines >= 150);
    expect(long).toEqual([]);
  });

  test('nothing outside test/ imports from test/', () => {
    const offenders = ['lib', 'bin', 'lambda', 'tools', 'bench']
      .map((d) => path.join(REPO_ROOT, d))
      .filter((d) => fs.existsSync(d))
      .flatMap((d) => filesUnder(d, /\.(ts|py)$/))
      .filter((f) => /from ['"](\.\.\/)+test\/|require\(['"](\.\.\/)+test\//.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(REPO_ROOT, f));
    expect(offenders).toEqual([]);
  });

  test('the Glue jobs publish their counts in the namespace the alarms watch', () => {
    const report = fs.readFileSync(path.join(PATHS.glueScripts, 'lakehouse', 'glue_job.py'), 'utf8');
    expect(report).toContain(`"Namespace": "${GLUE_METRICS_NAMESPACE}"`);
  });
});
