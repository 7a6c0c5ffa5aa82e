/**
 * Capped exponential backoff with full jitter: before retry n (1-based) wait a random time in
 * [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). Jitter spreads retries of many callers so they do
 * not hit a recovering server in lock step; the cap bounds the wait.
 */
export interface BackoffPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
