import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EnvironmentConfig, EnvironmentName, loadConfig } from '../../lib/config';
import { buildPlatform, Platform } from '../../lib/platform';

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_CONTEXT = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;

export interface SynthesizedPlatform {
  readonly app: App;
  readonly config: EnvironmentConfig;
  readonly platform: Platform;
  readonly outdir: string;
  /** Template of each stack, by layer. */
  readonly templates: Record<keyof Platform, Template>;
}

const cache = new Map<string, SynthesizedPlatform>();

/**
 * The platform of one environment, synthesized once per test file with the same feature flags as
 * `cdk synth` (cdk.json's context). Synthesis runs cdk-nag, so it throws on any finding.
 */
export function synthesize(envName: EnvironmentName, configOverride?: (c: EnvironmentConfig) => EnvironmentConfig): SynthesizedPlatform {
  const key = configOverride ? `${envName}:${configOverride.toString()}` : envName;
  const cached = cache.get(key);
  if (cached) return cached;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `tlh-${envName}-`));
  const app = new App({ context: CDK_CONTEXT, outdir });
  const config = configOverride ? configOverride(loadConfig(envName)) : loadConfig(envName);
  const platform = buildPlatform(app, config);
  app.synth();
  const templates = Object.fromEntries(
    // A layer config switches off (the warehouse) has no stack and no template.
    Object.entries(platform)
      .filter(([, stack]) => stack !== undefined)
      .map(([layer, stack]) => [layer, Template.fromStack(stack)]),
  ) as Record<keyof Platform, Template>;
  const synthesized = { app, config, platform, outdir, templates };
  cache.set(key, synthesized);
  return synthesized;
}

export const ENVIRONMENTS: EnvironmentName[] = ['dev', 'staging', 'prod'];

/**
 * A security group's egress rules: those inside the group and those CDK makes apart
 * (AWS::EC2::SecurityGroupEgress), as it does for a peer known only at deploy (S3's prefix list).
 */
export function egressOf(template: Template, groupId: string): any[] {
  const inline = resourcesOf(template, 'AWS::EC2::SecurityGroup')[groupId].Properties.SecurityGroupEgress ?? [];
  const apart = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupEgress'))
    .map((r) => r.Properties)
    .filter((rule) => rule.GroupId?.['Fn::GetAtt']?.[0] === groupId);
  return [...inline, ...apart];
}

/** Resources of one type in a template, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: any; DeletionPolicy?: string; UpdateReplacePolicy?: string; Metadata?: any; DependsOn?: string[] }> {
  return template.findResources(type) as any;
}

/**
 * A template value as the text CloudFormation will make of it, with each reference (Ref,
 * Fn::GetAtt, an import) standing as `TOKEN`: for values that embed a resource's name in a string,
 * such as a function's JSON settings holding its bucket's name.
 */
export function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return 'TOKEN';
  return join[1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(join[0]);
}
