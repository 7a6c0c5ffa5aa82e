import { z } from 'zod';
import { dev } from './environments/dev';
import { prod } from './environments/prod';
import { staging } from './environments/staging';
import { ENVIRONMENT_NAMES, EnvironmentConfig, EnvironmentConfigInput, EnvironmentName, environmentConfigSchema } from './schema';

export * from './schema';

/** A configuration problem found at synth. The message names the environment and each field. */
export class ConfigError extends Error {
  constructor(
    readonly envName: string,
    readonly issues: readonly string[],
  ) {
    super(`Invalid configuration for environment '${envName}':\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const ENVIRONMENTS: Record<EnvironmentName, EnvironmentConfigInput> = { dev, staging, prod };

/** The environment used when `-c env=...` is absent. */
export const DEFAULT_ENVIRONMENT: EnvironmentName = 'dev';

function formatIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${field}: ${issue.message}`;
}

/**
 * Validates a configuration object for `envName` against the schema and returns it typed.
 * Throws a ConfigError listing every bad field, so one synth shows all problems at once.
 */
export function validateConfig(envName: string, candidate: unknown): EnvironmentConfig {
  const result = environmentConfigSchema.safeParse(candidate);
  if (!result.success) {
    throw new ConfigError(envName, result.error.issues.map(formatIssue));
  }
  if (result.data.envName !== envName) {
    throw new ConfigError(envName, [`envName: is '${result.data.envName}', expected '${envName}'`]);
  }
  return result.data;
}

/** The validated configuration of one environment; unknown names fail with the valid ones listed. */
export function loadConfig(envName: string | undefined): EnvironmentConfig {
  const name = envName ?? DEFAULT_ENVIRONMENT;
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(name, [`env: unknown environment, expected one of ${ENVIRONMENT_NAMES.join(', ')}`]);
  }
  return validateConfig(name, ENVIRONMENTS[name as EnvironmentName]);
}
