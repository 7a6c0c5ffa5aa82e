import * as fs from 'fs';
import * as path from 'path';
import { App, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { loadConfig } from '../lib/config';
import { acknowledgedFindings, AcknowledgedCounts, COMPLIANCE_PACKS } from '../lib/nag/acknowledgements';
import { acknowledgedTable, TABLE_END, TABLE_START, WHY_ACKNOWLEDGED } from '../lib/nag/summary';
import { buildPlatform } from '../lib/platform';
import { CDK_CONTEXT, ENVIRONMENTS, synthesize } from './helpers/platform';

const PACKS = ['AwsSolutions', ...COMPLIANCE_PACKS];

/** The message synth fails with when `addBadThing` adds something to dev's platform. */
function synthFailure(addBadThing: (platform: ReturnType<typeof buildPlatform>) => void): string {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const platform = buildPlatform(app, loadConfig('dev'));
  addBadThing(platform);
  try {
    app.synth();
  } catch (e) {
    return String(e);
  }
  return '';
}

/**
 * cdk-nag runs inside synth with three packs (lib/platform.ts registers them): AwsSolutions,
 * NIST 800-53 R5 and HIPAA Security. A finding that is not acknowledged fails `cdk synth`
 * itself. These tests prove both halves: the real platform has none, and a deliberately bad
 * resource does fail synth, naming its pack and rule.
 */
describe('cdk-nag: AwsSolutions, NIST 800-53 R5, HIPAA Security', () => {
  test.each(ENVIRONMENTS)('%s synthesizes with zero unacknowledged findings in every pack', (envName) => {
    const { outdir, templates } = synthesize(envName);
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: any) => r.violations ?? [])).toEqual([]);
    expect(fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))).toHaveLength(Object.keys(templates).length);
  });

  test('a bucket without TLS enforcement or access logs fails synth with its rules named', () => {
    const message = synthFailure((platform) => new s3.Bucket(platform.lakehouse, 'CarelessBucket', { enforceSSL: false }));
    expect(message).toMatch(/^ValidationFailed/);
    for (const rule of ['AwsSolutions-S1', 'AwsSolutions-S10', 'NIST.800.53.R5-S3BucketSSLRequestsOnly', 'HIPAA.Security-S3BucketSSLRequestsOnly']) {
      expect(message).toContain(rule);
    }
    expect(message).toContain('TelemetryLakehouse-dev-Lakehouse/CarelessBucket/Resource');
  });

  test('the compliance packs are live: a function with no dead-letter queue, reserved concurrency or VPC fails synth', () => {
    const message = synthFailure(
      (platform) =>
        new lambda.Function(platform.lakehouse, 'CarelessFunction', {
          runtime: lambda.Runtime.NODEJS_22_X,
          handler: 'index.handler',
          code: lambda.Code.fromInline('exports.handler = async () => 1;'),
          timeout: Duration.seconds(5),
        }),
    );
    for (const pack of COMPLIANCE_PACKS) {
      for (const rule of ['LambdaDLQ', 'LambdaConcurrency', 'LambdaInsideVPC']) expect(message).toContain(`${pack}-${rule}`);
    }
    expect(message).toContain('TelemetryLakehouse-dev-Lakehouse/CarelessFunction/Resource');
  });

  test('every acknowledgement, in every pack, carries a reason', () => {
    const { app } = synthesize('dev');
    const acknowledged = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').map((m) => m.data as Record<string, unknown>));
    const ours = acknowledged.flatMap((entry) => Object.entries(entry)).filter(([rule]) => PACKS.some((p) => rule.includes(`${p}-`)));
    // aws-cdk-lib acknowledges some of its own template checks (CloudFormation-Validate::...).
    for (const pack of PACKS) expect(ours.filter(([rule]) => rule.includes(`${pack}-`)).length).toBeGreaterThan(0);
    for (const [rule, reason] of ours) {
      expect(`${rule}: ${typeof reason === 'string' ? reason : JSON.stringify(reason)}`).toMatch(/: .*\w{3,}.{30,}/);
    }
  });

  test("the README's table of acknowledged findings is what a fresh synth of every environment acknowledges", () => {
    const counts: Record<string, AcknowledgedCounts> = Object.fromEntries(ENVIRONMENTS.map((env) => [env, acknowledgedFindings(synthesize(env).app)]));
    for (const env of ENVIRONMENTS) {
      expect(Object.keys(counts[env]).sort()).toEqual(PACKS.slice().sort());
      // A figure the packs can check: each acknowledged IAM5 finding of dev is one IAM wildcard.
      expect(counts[env].AwsSolutions['AwsSolutions-IAM5']).toBeGreaterThan(0);
    }
    // Backups are off in dev only: the rule that says so fires there and nowhere else.
    expect(counts.dev['NIST.800.53.R5']['NIST.800.53.R5-DynamoDBInBackupPlan']).toBe(1);
    expect(counts.prod['NIST.800.53.R5']['NIST.800.53.R5-DynamoDBInBackupPlan']).toBeUndefined();
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const start = readme.indexOf(TABLE_START);
    const end = readme.indexOf(TABLE_END);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start + TABLE_START.length, end).trim()).toBe(acknowledgedTable(counts));
  });

  test('the table refuses a rule with no summary of why', () => {
    expect(() => acknowledgedTable({ dev: { AwsSolutions: { 'AwsSolutions-NOPE1': 1 } } })).toThrow(/AwsSolutions-NOPE1: no summary/);
    expect(Object.values(WHY_ACKNOWLEDGED).every((why) => why.length > 30)).toBe(true);
  });
});
