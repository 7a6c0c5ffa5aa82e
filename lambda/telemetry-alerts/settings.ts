import * as z from 'zod/mini';
import { positiveInt } from '../shared/settings';

/** The environment variable that holds the alerts function's settings (JSON). */
export const TELEMETRY_ALERTS_SETTINGS = 'TELEMETRY_ALERTS_SETTINGS';

const severity = z.enum(['critical', 'warning']);

/** Everything the alerts function is told by its deployment (lib/config: alerts; the table; the bus). */
export const telemetryAlertsSettings = z.object({
  tableName: z.string().check(z.minLength(3)),
  closedRetentionDays: positiveInt,
  /** Where every opening, update and closing goes (the default bus unless named). */
  eventBusName: z.string().check(z.minLength(1)),
  rules: z.object({
    engineOverheat: z.object({ openAboveC: z.number(), closeBelowC: z.number(), consecutive: positiveInt, severity }),
    speeding: z.object({ openAboveKmh: z.number(), closeBelowKmh: z.number(), consecutive: positiveInt, severity }),
    fuelLoss: z.object({ litresPer100kmAbove: z.number(), minDistanceKm: z.number(), standingLitresAbove: z.number(), consecutive: positiveInt, severity }),
    sensorStuck: z.object({ identicalForMinutes: positiveInt, minReadings: positiveInt, severity }),
    vehicleSilent: z.object({ silentAfterMinutes: positiveInt, movingAboveKmh: z.number(), severity }),
  }),
  /** How far the saved last-seen times may lag the stream (tumbling window, batching window, ingestion): the silence check waits as much longer. */
  silenceLagSeconds: positiveInt,
});
export type TelemetryAlertsSettings = z.infer<typeof telemetryAlertsSettings>;
