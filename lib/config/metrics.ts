/**
 * CloudWatch namespaces of the platform's own metrics. The writers name them too: the Lambdas
 * through POWERTOOLS_METRICS_NAMESPACE (written by lib/config/pull-functions.ts), the Glue jobs
 * through glue-scripts/lakehouse/glue_job.py (`report`), which a test holds to this value.
 */
export const METRICS_NAMESPACE = 'TelemetryLakehouse';

/** The counts each Glue job publishes (rows read, written, quarantined, dates beyond the horizon). */
export const GLUE_METRICS_NAMESPACE = 'TelemetryLakehouse/Glue';
