import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { loadConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';
import { CDK_CONTEXT, ENVIRONMENTS, synthesize } from './helpers/platform';

/**
 * cdk-nag AwsSolutions runs inside synth (lib/platform.ts registers it), so a finding that is not
 * acknowledged fails `cdk synth` itself. These tests prove both halves: the real platform has
 * none, and a deliberately bad resource does fail synth, naming its rule.
 */
describe('cdk-nag AwsSolutions', () => {
  test.each(ENVIRONMENTS)('%s synthesizes with zero unacknowledged findings', (envName) => {
    const { outdir } = synthesize(envName);
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: any) => r.violations ?? [])).toEqual([]);
    expect(fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))).toHaveLength(Object.keys(synthesize(envName).platform).length);
  });

  test('a bucket without TLS enforcement or access logs fails synth with its rules named', () => {
    const app = new App({ context: CDK_CONTEXT });
    const platform = buildPlatform(app, loadConfig('dev'));
    new s3.Bucket(platform.lakehouse, 'CarelessBucket', { enforceSSL: false });
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = String(e);
    }
    expect(message).toMatch(/^ValidationFailed/);
    for (const rule of ["'AwsSolutions::AwsSolutions-S1'", "'AwsSolutions::AwsSolutions-S10'"]) expect(message).toContain(rule);
    expect(message).toContain('TelemetryLakehouse-dev-Lakehouse/CarelessBucket/Resource');
  });

  test('every acknowledgment carries a reason', () => {
    const { app } = synthesize('dev');
    const acknowledged = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').map((m) => m.data as Record<string, unknown>));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const entry of acknowledged) {
      // aws-cdk-lib acknowledges some of its own template checks (CloudFormation-Validate::...).
      for (const [rule, reason] of Object.entries(entry).filter(([r]) => r.includes('AwsSolutions-'))) {
        expect(`${rule}: ${typeof reason === 'string' ? reason : JSON.stringify(reason)}`).toMatch(/: .*\w{3,}.{30,}/);
      }
    }
  });
});
