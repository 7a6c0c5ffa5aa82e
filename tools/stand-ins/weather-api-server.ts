import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';

/** What the stand-in answers for one request: a status, a body, and how long it waits first. */
export interface ScriptedAnswer {
  readonly status?: number;
  /** A JSON value, or a raw string sent as is (to send malformed JSON). */
  readonly body?: unknown;
  readonly delayMs?: number;
  readonly headers?: Record<string, string>;
  /** Send the body without Content-Length, then close the connection after this many characters of it. */
  readonly cutAfter?: number;
}

export interface WeatherApiServer {
  readonly baseUrl: string;
  /** Requests received, by latitude (the city), in order. */
  readonly requests: Map<string, URL[]>;
  /** Answers for a city's coming requests; when used up, the last one repeats. */
  script(latitude: number, answers: ScriptedAnswer[]): void;
  /** The answer for a city and a day (the request's start_date), however often it is asked for. */
  answerDay(latitude: number, day: string, answer: ScriptedAnswer): void;
  close(): Promise<void>;
}

/**
 * A local HTTP server that plays the Open-Meteo forecast API on 127.0.0.1: each city (known by
 * its latitude) answers from a script of statuses, bodies and delays, so tests can produce the
 * faults a real API shows (5xx, slowness, malformed or incomplete answers).
 */
export async function startWeatherApi(): Promise<WeatherApiServer> {
  const scripts = new Map<string, ScriptedAnswer[]>();
  const days = new Map<string, ScriptedAnswer>(); // by `${latitude} ${day}`
  const requests = new Map<string, URL[]>();
  const sockets = new Set<import('net').Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const latitude = url.searchParams.get('latitude') ?? '';
    requests.set(latitude, [...(requests.get(latitude) ?? []), url]);
    const script = scripts.get(latitude) ?? [];
    const answer =
      days.get(`${latitude} ${url.searchParams.get('start_date')}`) ??
      (script.length > 1 ? script.shift()! : (script[0] ?? { status: 404, body: { error: true, reason: 'unknown city' } }));
    const send = () => {
      if (res.destroyed) return;
      const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
      if (answer.cutAfter !== undefined) {
        // A close-delimited body (no Content-Length, no chunks) that stops early: to the client
        // the answer ends normally, and only the JSON shows it is incomplete.
        res.socket?.end(`HTTP/1.1 ${answer.status ?? 200} OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${body.slice(0, answer.cutAfter)}`);
        return;
      }
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
      res.end(body);
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    script: (latitude, answers) => scripts.set(String(latitude), [...answers]),
    answerDay: (latitude, day, answer) => days.set(`${latitude} ${day}`, answer),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface HourValues {
  readonly temperature?: number | null;
  readonly precipitation?: number | null;
  readonly wind?: number | null;
  readonly code?: number | null;
}

/**
 * An Open-Meteo answer for one day: 24 hours whose values follow a simple rule (so a test can
 * compute any hour's expected row), with overrides per hour and hours left out.
 */
export function openMeteoDay(
  day: string,
  latitude: number,
  longitude: number,
  options: { omitHours?: number[]; overrides?: Record<number, HourValues> } = {},
): unknown {
  const hours = Array.from({ length: 24 }, (_, h) => h).filter((h) => !(options.omitHours ?? []).includes(h));
  const value = (h: number, key: keyof HourValues, fallback: number) => {
    const override = options.overrides?.[h];
    return override && key in override ? override[key] : fallback;
  };
  return {
    latitude,
    longitude,
    generationtime_ms: 0.1,
    utc_offset_seconds: 0,
    timezone: 'GMT',
    hourly_units: { time: 'iso8601', temperature_2m: '°C', precipitation: 'mm', wind_speed_10m: 'km/h', weather_code: 'wmo code' },
    hourly: {
      time: hours.map((h) => `${day}T${String(h).padStart(2, '0')}:00`),
      temperature_2m: hours.map((h) => value(h, 'temperature', expectedTemperature(h))),
      precipitation: hours.map((h) => value(h, 'precipitation', h % 3 === 0 ? 0.5 : 0)),
      wind_speed_10m: hours.map((h) => value(h, 'wind', 10 + h)),
      weather_code: hours.map((h) => value(h, 'code', h % 3 === 0 ? 61 : 1)),
    },
  };
}

/** The temperature the default answer gives for hour `h`: 5 °C at midnight, +0.5 °C an hour. */
export function expectedTemperature(h: number): number {
  return 5 + h / 2;
}

/**
 * The stand-in as the local run starts it (lib/registry/pulls.ts, `localStandIn`): the answers of
 * a JSON file, per city latitude (as a string) and day (yyyy-MM-dd), the Open-Meteo body.
 */
export async function serveFile(dataFile: string): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const api = await startWeatherApi();
  const answers = JSON.parse(fs.readFileSync(dataFile, 'utf8')) as Record<string, Record<string, unknown>>;
  for (const [latitude, days] of Object.entries(answers)) {
    for (const [day, body] of Object.entries(days)) api.answerDay(Number(latitude), day, { body });
  }
  return api;
}
