import * as z from 'zod/mini';
import { positiveInt } from '../shared/settings';

/** The environment variable that holds the partner file check's settings (JSON). */
export const PARTNER_FILE_CHECK_SETTINGS = 'PARTNER_FILE_CHECK_SETTINGS';

/** A partner's name is its folder in the landing bucket and its SFTP user name (lib/config: ingestion.partnerFiles). */
export const PARTNER_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Everything the partner file check is told by its deployment (lib/config: ingestion.partnerFiles). */
export const partnerFileCheckSettings = z.object({
  /** Where the partners' SFTP uploads land, one folder per partner, and where claims and rejected files are kept. */
  landingBucket: z.string().check(z.minLength(3)),
  rawBucket: z.string().check(z.minLength(3)),
  /** The account that must own both buckets (S3 ExpectedBucketOwner). */
  expectedBucketOwner: z.optional(z.string()),
  /** Partner (folder) -> the dataset its files hold. */
  partners: z.record(z.string().check(z.regex(PARTNER_NAME)), z.string().check(z.minLength(1))),
  limits: z.object({ maxFileBytes: positiveInt, maxUncompressedBytes: positiveInt, maxRecords: positiveInt }),
});
export type PartnerFileCheckSettings = z.infer<typeof partnerFileCheckSettings>;
