import * as z from 'zod/mini';

/**
 * The sensor API, as the pull uses it:
 *
 *   GET {base}/v1/readings?from=<ISO-8601>&to=<ISO-8601>&limit=<n>[&page_token=<t>]
 *   200 { "readings": [ { reading_id, sensor_id, ts, metric, value, unit }, ... ],
 *         "next_page_token": "<t>" | null }
 *
 * Readings are checked one by one against the contract (a malformed one, even a null or a number
 * among them, is quarantined with its page and index, not allowed to fail the page), so the page
 * schema only requires an array.
 */
export const readingsPage = z.object({
  readings: z.array(z.unknown()),
  next_page_token: z.nullable(z.optional(z.string().check(z.minLength(1)))),
});
export type ReadingsPage = z.infer<typeof readingsPage>;

/** Readings per page the pull asks for. */
export const PAGE_SIZE = 1000;

export function readingsUrl(baseUrl: string, from: Date, to: Date, pageToken?: string): string {
  const url = new URL('/v1/readings', baseUrl);
  const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), limit: String(PAGE_SIZE) });
  if (pageToken) params.set('page_token', pageToken);
  url.search = params.toString();
  return url.toString();
}
