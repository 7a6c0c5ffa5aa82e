import * as z from 'zod/mini';

/**
 * A function's settings cross the deployment boundary as one JSON environment variable, written
 * by the stack from one schema and parsed by the handler with the same schema, so the two cannot
 * drift (lib/registry/pulls.ts writes them; each handler reads them at start).
 */
export const positiveInt = z.int().check(z.positive());
export const backoffPolicy = z.object({ maxAttempts: positiveInt, baseDelayMs: positiveInt, maxDelayMs: positiveInt });

export function settingsEnvironment<T>(variable: string, schema: z.ZodMiniType<T>, settings: T): Record<string, string> {
  return { [variable]: JSON.stringify(parseSettings(variable, schema, settings)) };
}

export function settingsFromEnvironment<T>(variable: string, schema: z.ZodMiniType<T>, env: Record<string, string | undefined>): T {
  const text = env[variable];
  if (!text) throw new Error(`${variable} is not set: the stack writes the function's settings there`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${variable} is not JSON`);
  }
  return parseSettings(variable, schema, value);
}

function parseSettings<T>(variable: string, schema: z.ZodMiniType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${variable}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
