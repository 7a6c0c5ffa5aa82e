import * as z from 'zod/mini';
import { positiveInt } from '../shared/settings';

/** The environment variable that holds the KPI API's settings (JSON). */
export const KPI_API_SETTINGS = 'KPI_API_SETTINGS';

/** Everything the KPI API is told by its deployment (lib/config: serving, athena; lib/config/serving.ts). */
export const kpiApiSettings = z.object({
  athena: z.object({
    workGroup: z.string().check(z.minLength(1)),
    database: z.string().check(z.minLength(1)),
    resultReuseMaxAgeMinutes: z.int().check(z.nonnegative()),
    bytesScannedCutoff: positiveInt,
  }),
  maxRangeDays: positiveInt,
  /** How long `GET /kpis/{kpi}` waits for its query before answering 202 with the query id. */
  syncWaitMs: positiveInt,
  /** Rows per page (at most 1,000, Athena's page). */
  pageSize: z.int().check(z.positive(), z.maximum(1000)),
  /** The live alerts table (operations stack), read by /alerts and /vehicles/{id}/alerts. */
  alertsTableName: z.string().check(z.minLength(3)),
});
export type KpiApiSettings = z.infer<typeof kpiApiSettings>;
