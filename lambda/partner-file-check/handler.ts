import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EventBridgeEvent } from 'aws-lambda';
import { settingsFromEnvironment } from '../shared/settings';
import { handleLandedFile, PartnerFileOutcome } from './core';
import { SERVICE } from './service';
import { PARTNER_FILE_CHECK_SETTINGS, partnerFileCheckSettings } from './settings';

/**
 * Entry point: S3's "Object Created" event of the landing bucket, through EventBridge (one file per
 * invocation). Checks and promotes or quarantines the file (core.ts), and publishes per partner:
 * PartnerFilesPromoted, PartnerFilesRejected (alarmed), PartnerFilesRepeated, PartnerRecordsPromoted,
 * PartnerRecordsRejected. An S3 error fails the invocation: Lambda retries it, then keeps the event
 * in the dead-letter queue (alarmed); every step is safe to run again.
 */
const logger = new Logger({ serviceName: SERVICE });
// Path-style addressing only for local runs against moto (AWS_ENDPOINT_URL_S3 on 127.0.0.1).
const s3 = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
const settings = settingsFromEnvironment(PARTNER_FILE_CHECK_SETTINGS, partnerFileCheckSettings, process.env);

export interface ObjectCreatedDetail {
  readonly bucket: { readonly name: string };
  readonly object: { readonly key: string; readonly size?: number; readonly 'version-id'?: string };
}

/** The metrics of one outcome: counts by partner (the alarms' dimension). */
export function outcomeMetrics(outcome: PartnerFileOutcome): Record<string, number> {
  switch (outcome.kind) {
    case 'promoted':
      return { PartnerFilesPromoted: 1, PartnerRecordsPromoted: outcome.records };
    case 'repeated':
      return { PartnerFilesRepeated: 1 };
    case 'rejected':
      return { PartnerFilesRejected: 1, PartnerRecordsRejected: outcome.badRecords };
    case 'ignored':
      return {};
  }
}

export async function handler(event: EventBridgeEvent<'Object Created', ObjectCreatedDetail>): Promise<PartnerFileOutcome> {
  if (event.detail.bucket.name !== settings.landingBucket) throw new Error(`event of bucket ${event.detail.bucket.name}, not the landing bucket ${settings.landingBucket}`);
  const object = { key: event.detail.object.key, versionId: event.detail.object['version-id'], size: event.detail.object.size ?? 0, time: new Date(event.time) };
  const outcome = await handleLandedFile(settings, object, { s3, logger });
  if (outcome.kind === 'ignored') {
    logger.info('landing object ignored', { key: outcome.key, reason: outcome.reason });
    return outcome;
  }
  // One EMF document per file, its counts under the partner's dimension (beside the service's).
  const metrics = new Metrics({ serviceName: SERVICE });
  metrics.addDimension('partner', outcome.partner);
  for (const [name, value] of Object.entries(outcomeMetrics(outcome))) metrics.addMetric(name, MetricUnit.Count, value);
  metrics.publishStoredMetrics();
  return outcome;
}
