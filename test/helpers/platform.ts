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
 * The platform of one environment, synthesized with the same feature flags as `cdk synth`
 * (cdk.json's context). Synthesis runs cdk-nag, so it throws on any finding.
 *
 * Synthesis takes seconds and most suites read only the templates, so an environment's default
 * synthesis is kept for the rest of the jest run (test/helpers/temp-root.js gives the run its
 * folder): its templates and cdk-nag's validation report, written by the first suite that
 * synthesizes it and read by the others. `app` and `platform`, the construct tree, are not kept:
 * a suite that reads them synthesizes again, in its own process. A synthesis with a config
 * override is never kept.
 */
export function synthesize(envName: EnvironmentName, configOverride?: (c: EnvironmentConfig) => EnvironmentConfig): SynthesizedPlatform {
  const key = configOverride ? `${envName}:${configOverride.toString()}` : envName;
  const cached = cache.get(key) ?? (configOverride ? undefined : fromRunCache(envName));
  if (cached) {
    cache.set(key, cached);
    return cached;
  }
  const synthesized = synthesizeHere(envName, configOverride);
  cache.set(key, synthesized);
  if (!configOverride) toRunCache(envName, synthesized);
  return synthesized;
}

function synthesizeHere(envName: EnvironmentName, configOverride?: (c: EnvironmentConfig) => EnvironmentConfig): SynthesizedPlatform {
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
  return { app, config, platform, outdir, templates };
}

/** Where this jest run keeps an environment's synthesis; none outside a jest run of this project. */
function runCacheDir(envName: EnvironmentName): string | undefined {
  const root = process.env.TLH_JEST_TMP;
  return root ? path.join(root, 'synthesized', envName) : undefined;
}

const LAYERS_FILE = 'layers.json';

function toRunCache(envName: EnvironmentName, synthesized: SynthesizedPlatform): void {
  const dir = runCacheDir(envName);
  if (!dir || fs.existsSync(dir)) return;
  // Written beside, then renamed: a suite never reads a half-written copy.
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const staging = fs.mkdtempSync(`${dir}-`);
  const layers: Record<string, string> = {};
  for (const [layer, stack] of Object.entries(synthesized.platform)) {
    if (!stack) continue;
    layers[layer] = stack.templateFile;
    fs.copyFileSync(path.join(synthesized.outdir, stack.templateFile), path.join(staging, stack.templateFile));
  }
  fs.copyFileSync(path.join(synthesized.outdir, 'validation-report.json'), path.join(staging, 'validation-report.json'));
  fs.writeFileSync(path.join(staging, LAYERS_FILE), JSON.stringify(layers));
  try {
    fs.renameSync(staging, dir);
  } catch {
    fs.rmSync(staging, { recursive: true, force: true }); // another worker kept it first
  }
}

function fromRunCache(envName: EnvironmentName): SynthesizedPlatform | undefined {
  const dir = runCacheDir(envName);
  if (!dir || !fs.existsSync(path.join(dir, LAYERS_FILE))) return undefined;
  const layers = JSON.parse(fs.readFileSync(path.join(dir, LAYERS_FILE), 'utf8')) as Record<string, string>;
  const templates = Object.fromEntries(
    Object.entries(layers).map(([layer, file]) => [layer, Template.fromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')))]),
  ) as Record<keyof Platform, Template>;
  let tree: SynthesizedPlatform | undefined;
  const here = () => (tree ??= synthesizeHere(envName));
  return {
    config: loadConfig(envName),
    outdir: dir,
    templates,
    get app() {
      return here().app;
    },
    get platform() {
      return here().platform;
    },
  };
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
