import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';

export interface Reading {
  reading_id: string;
  sensor_id: string;
  ts: string;
  metric: string;
  value: number;
  unit: string;
  [extra: string]: unknown;
}

export interface SensorApiServer {
  readonly baseUrl: string;
  /** Every request URL received, in order. */
  readonly requests: URL[];
  /** The readings the API holds; a pull gets those with from <= ts < to. */
  setReadings(readings: Reading[]): void;
  /** Answers that replace the next normal ones (a status and a raw or JSON body), in order. */
  failNext(...answers: { status: number; body: unknown }[]): void;
  close(): Promise<void>;
}

/**
 * A local HTTP server that plays the sensor API on 127.0.0.1 (lambda/sensor-pull/sensor-api.ts):
 * it holds a list of readings and answers a window [from, to) page by page, so overlapping
 * windows return the same readings again, as the real API does.
 */
export async function startSensorApi(): Promise<SensorApiServer> {
  let readings: Reading[] = [];
  const faults: { status: number; body: unknown }[] = [];
  const requests: URL[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const fault = faults.shift();
    if (fault) return reply(fault.status, fault.body);
    if (url.pathname !== '/v1/readings') return reply(404, { error: 'not found' });
    const from = Date.parse(url.searchParams.get('from') ?? '');
    const to = Date.parse(url.searchParams.get('to') ?? '');
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const offset = Number(url.searchParams.get('page_token') ?? 0);
    const inWindow = readings.filter((r) => {
      const ts = Date.parse(String(r.ts));
      return Number.isNaN(ts) || (ts >= from && ts < to); // unparseable ts: returned, for the pull to quarantine
    });
    const page = inWindow.slice(offset, offset + limit);
    const next = offset + limit < inWindow.length ? String(offset + limit) : null;
    reply(200, { readings: page, next_page_token: next });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    setReadings: (r) => (readings = r),
    failNext: (...answers) => faults.push(...answers),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `count` valid readings, one every `everySeconds` from `start`, cycling over sensors and metrics. */
export function makeReadings(start: string, count: number, everySeconds = 1, idPrefix = 'r'): Reading[] {
  const t0 = Date.parse(start);
  const metrics = ['temperature', 'pressure', 'vibration', 'humidity', 'fuel_level'];
  return Array.from({ length: count }, (_, i) => ({
    reading_id: `${idPrefix}-${String(i).padStart(6, '0')}`,
    sensor_id: `s-${i % 7}`,
    ts: new Date(t0 + i * everySeconds * 1000).toISOString(),
    metric: metrics[i % metrics.length],
    value: Math.round((i % 100) * 1.5 * 100) / 100,
    unit: 'u',
  }));
}

/** The stand-in as the local run starts it (lib/registry/pulls.ts, `localStandIn`): the readings of a JSON file. */
export async function serveFile(dataFile: string): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const api = await startSensorApi();
  api.setReadings(JSON.parse(fs.readFileSync(dataFile, 'utf8')) as Reading[]);
  return api;
}
