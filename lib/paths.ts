import * as path from 'path';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** Root of the repository: every asset (Lambda entry points, Glue scripts, the Flink app, contracts) is found from here. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Where each kind of asset lives, so no construct spells a folder of its own. */
export const PATHS = {
  lambdas: path.join(REPO_ROOT, 'lambda'),
  glueScripts: path.join(REPO_ROOT, 'glue-scripts'),
  flinkApp: path.join(REPO_ROOT, 'flink-app'),
  contracts: path.join(REPO_ROOT, 'contracts'),
  queries: path.join(REPO_ROOT, 'queries'),
  warehouse: path.join(REPO_ROOT, 'warehouse'),
  registry: path.join(REPO_ROOT, 'registry'),
  lockFile: path.join(REPO_ROOT, 'package-lock.json'),
} as const;

/** The entry point of the Lambda in lambda/<name>/. */
export function lambdaEntry(name: string): string {
  return path.join(PATHS.lambdas, name, 'handler.ts');
}

/**
 * How every Lambda of the platform is bundled: an ES module for Node.js 24 by the local esbuild
 * (no Docker), minified, with a source map that Node applies to stack traces. The AWS SDK is
 * bundled, tree-shaken, at the version the lock file pins, rather than taken from the runtime,
 * so what was tested is what runs.
 */
export const LAMBDA_BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourceMapMode: nodejs.SourceMapMode.DEFAULT,
  mainFields: ['module', 'main'],
  // NodejsFunction leaves @aws-sdk/* to the runtime by default; bundle the pinned SDK instead.
  externalModules: [],
  // Some dependencies are CommonJS and call require(); an ES module has none unless given one.
  banner: "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);",
  forceDockerBundling: false,
};
