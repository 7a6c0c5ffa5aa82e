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
/** How much of an error answer's body goes into the error: enough for the API's reason. */
const REASON_CHARS = 300;

/**
 * The wait a Retry-After header asks for, in milliseconds (delta-seconds or an HTTP date), or
 * undefined when there is none or it cannot be read.
 */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Whether a body that is not JSON was cut short rather than malformed: JSON.parse stopped at its
 * very end. Such a body (a connection closed early without Content-Length) is worth another try;
 * a malformed one is a deterministic server fault that a retry would only repeat.
 */
export function endsTooEarly(text: string, error: unknown): boolean {
  const message = (error as Error).message ?? '';
  if (/end of JSON input|Unterminated string/i.test(message)) return true;
  const position = /at position (\d+)/.exec(message);
  return text.trim().length > 0 && position !== null && Number(position[1]) >= text.trimEnd().length;
}

/**
 * GETs `url` and parses its JSON body. Retries with capped exponential backoff on network
 * errors, timeouts, 429 and 5xx (waiting at least what a Retry-After header asks, up to the cap),
 * and on a body cut short; fails at once on another 4xx (the request itself is wrong), naming the
 * API's reason from its body, and on a body that is not JSON.
 */
export async function getJson(url: string, options: HttpJsonOptions): Promise<unknown> {
  const doFetch = options.fetchImpl ?? fetch;
  const wait = options.sleepImpl ?? sleep;
  let lastFailure = '';
  let askedWaitMs: number | undefined;
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    if (attempt > 1) {
      const backoff = backoffDelayMs(attempt - 1, options, options.random);
      await wait(askedWaitMs === undefined ? backoff : Math.max(backoff, Math.min(askedWaitMs, options.maxDelayMs)));
    }
    askedWaitMs = undefined;
    let response: Response;
    try {
      response = await doFetch(url, { signal: AbortSignal.timeout(options.timeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      const err = error as Error;
      lastFailure = err.name === 'TimeoutError' ? `timed out after ${options.timeoutMs} ms` : `network error: ${err.message}`;
      continue;
    }
    if (!response.ok) {
      if (!RETRYABLE_STATUS(response.status)) {
        const reason = (await response.text().catch(() => '')).trim().slice(0, REASON_CHARS);
        throw new HttpRequestError(`HTTP ${response.status} (not retried)${reason ? `: ${reason}` : ''}`, attempt, response.status);
      }
      await response.body?.cancel();
      askedWaitMs = retryAfterMs(response.headers.get('retry-after'));
      lastFailure = `HTTP ${response.status}${askedWaitMs !== undefined ? ` (Retry-After ${Math.round(askedWaitMs / 1000)} s)` : ''}`;
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
    } catch (error) {
      if (endsTooEarly(text, error)) {
        lastFailure = `body cut short (${text.length} bytes)`;
        continue;
      }
      throw new HttpRequestError(`malformed JSON in the response (${text.length} bytes)`, attempt, response.status);
    }
  }
  throw new HttpRequestError(`${lastFailure} (after ${options.maxAttempts} attempts)`, options.maxAttempts);
}
