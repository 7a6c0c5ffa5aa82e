import { BackoffPolicy, backoffDelayMs, sleep } from './retry';

/** Why a request finally failed; `attempts` counts every try. */
export class HttpRequestError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HttpRequestError';
  }
}

export interface HttpJsonOptions extends BackoffPolicy {
  /** Each attempt is abandoned after this long. */
  readonly timeoutMs: number;
  readonly fetchImpl?: typeof fetch;
  readonly sleepImpl?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Statuses worth another try: the server is overloaded or failing, not refusing the request. */
const RETRYABLE_STATUS = (status: number) => status === 429 || status >= 500;

/**
 * GETs `url` and parses its JSON body. Retries with capped exponential backoff on network
 * errors, timeouts, 429 and 5xx; fails at once on another 4xx (the request itself is wrong) and on
 * a body that is not JSON (a deterministic server fault that a retry would only repeat).
 */
export async function getJson(url: string, options: HttpJsonOptions): Promise<unknown> {
  const doFetch = options.fetchImpl ?? fetch;
  const wait = options.sleepImpl ?? sleep;
  let lastFailure = '';
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    if (attempt > 1) await wait(backoffDelayMs(attempt - 1, options, options.random));
    let response: Response;
    try {
      response = await doFetch(url, { signal: AbortSignal.timeout(options.timeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      const err = error as Error;
      lastFailure = err.name === 'TimeoutError' ? `timed out after ${options.timeoutMs} ms` : `network error: ${err.message}`;
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      if (!RETRYABLE_STATUS(response.status)) {
        throw new HttpRequestError(`HTTP ${response.status} (not retried)`, attempt, response.status);
      }
      lastFailure = `HTTP ${response.status}`;
      continue;
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      lastFailure = `body not received: ${(error as Error).message}`;
      continue;
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpRequestError(`malformed JSON in the response (${text.length} bytes)`, attempt, response.status);
    }
  }
  throw new HttpRequestError(`${lastFailure} (after ${options.maxAttempts} attempts)`, options.maxAttempts);
}
