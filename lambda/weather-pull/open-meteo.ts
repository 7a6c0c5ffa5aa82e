// zod/mini: the same validation as zod, tree-shakeable, a fraction of the bundle and init time.
import * as z from 'zod/mini';

/**
 * The part of an Open-Meteo `/v1/forecast` answer the pull uses: hourly arrays of equal length,
 * in UTC (`timezone=GMT`), time as `yyyy-MM-ddTHH:mm`. A value may be null (no observation).
 */
const hourlySeries = z.array(z.nullable(z.number()));
const SERIES = ['temperature_2m', 'precipitation', 'wind_speed_10m', 'weather_code'] as const;
export const openMeteoResponse = z
  .object({
    latitude: z.number(),
    longitude: z.number(),
    // The pull asks for GMT; an answer in another zone labels every hour wrongly and is refused.
    utc_offset_seconds: z.optional(z.number()),
    timezone: z.optional(z.string()),
    hourly: z.object({
      time: z.array(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:00$/))),
      temperature_2m: hourlySeries,
      precipitation: hourlySeries,
      wind_speed_10m: hourlySeries,
      weather_code: hourlySeries,
    }),
  })
  .check(
    z.refine((r) => SERIES.every((k) => r.hourly[k].length === r.hourly.time.length), {
      message: 'hourly series differ in length from hourly.time',
      path: ['hourly'],
    }),
  );
export type OpenMeteoResponse = z.infer<typeof openMeteoResponse>;

export const HOURLY_VARIABLES = 'temperature_2m,precipitation,wind_speed_10m,weather_code';

/** The request for one city and one UTC day. */
export function forecastUrl(baseUrl: string, latitude: number, longitude: number, day: string): string {
  const url = new URL('/v1/forecast', baseUrl);
  url.search = new URLSearchParams({
    latitude: String(latitude),
    longitude: String(longitude),
    hourly: HOURLY_VARIABLES,
    timezone: 'GMT',
    wind_speed_unit: 'kmh',
    start_date: day,
    end_date: day,
  }).toString();
  return url.toString();
}

/** The condition a WMO weather interpretation code stands for (the KPI's weather dimension). */
export function conditionOf(code: number | null): string | null {
  if (code === null) return null;
  if (code === 0) return 'clear';
  if (code >= 1 && code <= 3) return 'cloudy';
  if (code === 45 || code === 48) return 'fog';
  if (code >= 51 && code <= 57) return 'drizzle';
  if ((code >= 61 && code <= 67) || (code >= 80 && code <= 82)) return 'rain';
  if ((code >= 71 && code <= 77) || code === 85 || code === 86) return 'snow';
  if (code >= 95 && code <= 99) return 'thunderstorm';
  return null;
}
