import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { EnvironmentConfig } from '../lib/config';
import { ENVIRONMENTS, synthesize } from './helpers/platform';

const CFN_LINT = path.join(__dirname, '..', '.venv', 'bin', 'cfn-lint');

/**
 * cfn-lint over every synthesized template of every environment, errors and warnings alike.
 * The only check switched off anywhere is W3005 on CDK-managed provider handlers, set on those
 * resources with its reason (lib/nag/acknowledgements.ts), never globally.
 */
describe.each(ENVIRONMENTS)('cfn-lint (%s)', (envName) => {
  test('reports nothing for any template', () => {
    if (!fs.existsSync(CFN_LINT)) throw new Error(`${CFN_LINT} is missing: run 'npm run setup' (scripts/setup.sh) to install the pinned cfn-lint`);
    const { outdir, templates: byLayer } = synthesize(envName);
    const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
    expect(templates).toHaveLength(Object.keys(byLayer).length);
    const result = spawnSync(CFN_LINT, ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

test('reports nothing for the serving stack with every optional feature on (QuickSight, Cognito, a quota, WAF)', () => {
  const everything = (c: EnvironmentConfig): EnvironmentConfig => ({
    ...c,
    bi: { quicksight: { enabled: true, authors: ['arn:aws:quicksight:eu-west-1:123456789012:group/default/authors'], readers: [], importMode: 'SPICE', refreshTimeUtc: '06:00' } },
    serving: { ...c.serving, api: { ...c.serving.api, cognito: { enabled: true }, dailyQuota: 1000, waf: { enabled: true, requestsPerFiveMinutesPerIp: 500 } } },
  });
  const { outdir } = synthesize('dev', everything);
  const result = spawnSync(CFN_LINT, ['--format', 'parseable', '--', path.join(outdir, 'TelemetryLakehouse-dev-Serving.template.json')], { encoding: 'utf8' });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});

test('cfn-lint does report a broken template (the check can fail)', () => {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'cfn-lint-'));
  const file = path.join(dir, 'broken.template.json');
  fs.writeFileSync(file, JSON.stringify({ Resources: { Bucket: { Type: 'AWS::S3::Bucket', Properties: { NoSuchProperty: true } } } }));
  const result = spawnSync(CFN_LINT, ['--format', 'parseable', '--', file], { encoding: 'utf8' });
  expect(result.status).not.toBe(0);
  expect(result.stdout).toContain('E3002');
});
