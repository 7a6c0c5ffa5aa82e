/**
 * Every way a KPI request can fail, each with a stable code that the API returns in its JSON
 * body and maps to one HTTP status, and that the command prints; tests assert the codes.
 */
export const KPI_ERROR_STATUS = {
  UNKNOWN_QUERY: 404,
  UNKNOWN_QUERY_ID: 404,
  UNKNOWN_PARAMETER: 400,
  MISSING_PARAMETER: 400,
  BAD_PARAMETER: 400,
  INVERTED_RANGE: 400,
  RANGE_TOO_LONG: 400,
  BAD_PAGE_TOKEN: 400,
  THROTTLED: 429,
  QUERY_FAILED: 502,
  QUERY_CANCELLED: 502,
  SCAN_LIMIT_REACHED: 502,
  NO_CREDENTIALS: 500,
} as const;

export type KpiErrorCode = keyof typeof KPI_ERROR_STATUS;

export class KpiError extends Error {
  constructor(
    readonly code: KpiErrorCode,
    message: string,
    /** The request parameter at fault, when there is one. */
    readonly parameter?: string,
  ) {
    super(message);
    this.name = 'KpiError';
  }

  get status(): number {
    return KPI_ERROR_STATUS[this.code];
  }

  toJSON(): { code: KpiErrorCode; message: string; parameter?: string } {
    return { code: this.code, message: this.message, ...(this.parameter ? { parameter: this.parameter } : {}) };
  }
}
