import * as http from 'http';
import { AddressInfo } from 'net';
import { isRealUtcTimestamp } from '../../lambda/shared/contract-records';
import { endsTooEarly, getJson, HttpRequestError, retryAfterMs } from '../../lambda/shared/http-json';

/** A server on 127.0.0.1 that answers each request with the next of `answers` (then the last again). */
async function serve(answers: { status: number; body: string; headers?: Record<string, string> }[]) {
  let served = 0;
  const server = http.createServer((_req, res) => {
    const answer = answers[Math.min(served++, answers.length - 1)];
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, served: () => served, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('getJson: retries as the server asks, and says why it gave up', () => {
  const options = (waits: number[], maxDelayMs = 5_000) => ({
    timeoutMs: 2_000,
    maxAttempts: 4,
    baseDelayMs: 10,
    maxDelayMs,
    random: () => 0, // backoff alone would wait 0 ms: any wait below comes from Retry-After
    sleepImpl: async (ms: number) => void waits.push(ms),
  });

  test('429 with Retry-After: 2 waits two seconds before the next try, not a few milliseconds', async () => {
    const server = await serve([{ status: 429, body: '{}', headers: { 'retry-after': '2' } }, { status: 200, body: '{"ok":true}' }]);
    const waits: number[] = [];
    await expect(getJson(server.url, options(waits))).resolves.toEqual({ ok: true });
    expect(waits).toEqual([2_000]);
    await server.close();
  });

  test('Retry-After is honoured up to the cap (maxDelayMs), and an HTTP date is read too', async () => {
    const server = await serve([{ status: 503, body: '{}', headers: { 'retry-after': '120' } }, { status: 200, body: '[]' }]);
    const waits: number[] = [];
    await getJson(server.url, options(waits, 1_500));
    expect(waits).toEqual([1_500]);
    await server.close();
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:05 GMT', Date.parse('2026-10-21T07:28:00Z'))).toBe(5_000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  test("a 4xx is not retried, and the error carries the API's reason", async () => {
    const server = await serve([{ status: 400, body: '{"error":true,"reason":"Parameter latitude out of range"}' }]);
    const error = (await getJson(server.url, options([])).catch((e: unknown) => e)) as HttpRequestError;
    expect(error).toBeInstanceOf(HttpRequestError);
    expect(error.message).toBe('HTTP 400 (not retried): {"error":true,"reason":"Parameter latitude out of range"}');
    expect(server.served()).toBe(1);
    await server.close();
  });

  test('a body cut short is retried; a malformed one is not', async () => {
    const cut = await serve([{ status: 200, body: '{"readings": [{"a": 1}, {"b"' }, { status: 200, body: '{"readings": []}' }]);
    await expect(getJson(cut.url, options([]))).resolves.toEqual({ readings: [] });
    expect(cut.served()).toBe(2);
    await cut.close();
    const bad = await serve([{ status: 200, body: '{"readings": ]}' }]);
    await expect(getJson(bad.url, options([]))).rejects.toThrow('malformed JSON in the response (15 bytes)');
    expect(bad.served()).toBe(1);
    await bad.close();
    expect(endsTooEarly('{"a": "unterminated', new SyntaxError('Unterminated string in JSON at position 19'))).toBe(true);
    expect(endsTooEarly('{"a": x}', new SyntaxError('Unexpected token x in JSON at position 6'))).toBe(false);
  });
});

describe('timestamps are parsed, not only matched', () => {
  test.each([
    ['2026-11-21T10:00:00Z', true],
    ['2026-11-21T23:59:59.999Z', true],
    ['2028-02-29T12:00:00Z', true], // a leap day
    ['2026-02-29T12:00:00Z', false],
    ['2026-02-30T10:00:00Z', false],
    ['2026-11-21T25:00:00Z', false],
    ['2026-11-21T24:00:00Z', false],
    ['2026-11-21T10:60:00Z', false],
    ['2026-13-01T00:00:00Z', false],
    ['2026-11-21 10:00:00', false],
  ])('%s is a real instant: %p', (text, real) => {
    expect(isRealUtcTimestamp(text)).toBe(real);
  });
});
