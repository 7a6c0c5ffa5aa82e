import { createHash } from 'crypto';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import telematicsContract from '../../contracts/iot.telematics.json';
import weatherContract from '../../contracts/weather.weather.json';
import type { DatasetContract } from '../../lib/contracts';
import { checkPartnerFile } from './file-check';
import type { PartnerFileCheckSettings } from './settings';

/**
 * What happens to a file a partner uploaded over SFTP (AWS Transfer Family writes it to the
 * landing bucket under the partner's folder): it is checked against its dataset's contract
 * (file-check.ts) and then either promoted into the raw zone's layout by one server-side copy, or
 * kept under the landing bucket's _quarantine/ with a report of every reason. A file whose content
 * was promoted before, by any partner of the dataset and under any name, is not promoted again.
 * Either way the uploaded object is then removed from the partner's folder (that version only: a
 * new upload under the same name is its own event), so what a partner sees there is what waits.
 *
 * The landing bucket's layout:
 *   <partner>/...                              uploads (each SFTP user is jailed to its folder)
 *   _claims/<dataset>/<sha256>.json            a content's one promotion: where its copy goes
 *   _quarantine/<partner>/<date>/<sha16>-<name>         a rejected file, as uploaded
 *   _quarantine/<partner>/<date>/<sha16>-<name>.report.json   why
 */

/** The datasets a partner may send: their raw zone takes NDJSON as it is written (no envelope, no writer columns). */
export const PARTNER_FILE_CONTRACTS: Readonly<Record<string, DatasetContract>> = {
  telematics: telematicsContract as unknown as DatasetContract,
  weather: weatherContract as unknown as DatasetContract,
};

export const CLAIMS_PREFIX = '_claims/';
export const QUARANTINE_PREFIX = '_quarantine/';

/** One uploaded object, as S3's Object Created event names it. */
export interface LandedObject {
  readonly key: string;
  readonly versionId?: string;
  readonly size: number;
  /** When S3 created it: the raw partitions (ingest date and hour) are taken from it. */
  readonly time: Date;
}

export type PartnerFileOutcome =
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: string }
  | { readonly kind: 'promoted'; readonly partner: string; readonly dataset: string; readonly key: string; readonly rawKey: string; readonly records: number; readonly sha256: string }
  | { readonly kind: 'repeated'; readonly partner: string; readonly dataset: string; readonly key: string; readonly rawKey: string; readonly sha256: string }
  | {
      readonly kind: 'rejected';
      readonly partner: string;
      readonly dataset?: string;
      readonly key: string;
      readonly quarantineKey: string;
      readonly reasons: readonly string[];
      readonly records: number;
      readonly badRecords: number;
    };

export interface PartnerFileDeps {
  readonly s3: S3Client;
  readonly logger: Pick<PowertoolsLogger, 'info' | 'warn'>;
}

/** What a claim records: the raw key the content's one copy goes to, and which upload it came from. */
interface Claim {
  readonly rawKey: string;
  readonly partner: string;
  readonly sourceKey: string;
  readonly sourceVersionId: string | null;
  readonly claimedAt: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const isoDay = (t: Date) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;

/**
 * The raw zone's folder for an object written at `time`, in the dataset's own layout (its
 * contract's raw partitions and path style), as its usual writer would lay it out: the Glue job of
 * that day reads it with the rest. Mirrors lib/contracts rawPartitionPathTemplate (a test holds them equal).
 */
export function rawFolder(contract: DatasetContract, time: Date): string {
  const raw = contract.raw!;
  const values: Record<string, string> = { date: isoDay(time), hour: pad(time.getUTCHours()) };
  const parts = raw.partitions.map((p) => ((raw.pathStyle ?? 'hive') === 'hive' ? `${p.name}=${values[p.type]}/` : `${values[p.type]}/`));
  return `raw/${contract.source}/${contract.dataset}/${parts.join('')}`;
}

const baseName = (key: string) => key.slice(key.lastIndexOf('/') + 1);

/**
 * The key as S3 events write it: URL-encoded, a space as '+'. Names of the safe set (letters,
 * digits, '.', '_', '-', '/') read the same either way; for any other name both readings are tried.
 */
export function eventKeyReadings(eventKey: string): string[] {
  let decoded = eventKey;
  try {
    decoded = decodeURIComponent(eventKey.replace(/\+/g, ' '));
  } catch {
    // not URL-encoded: the key as given
  }
  return [...new Set([decoded, eventKey])];
}

export async function handleLandedFile(settings: PartnerFileCheckSettings, object: LandedObject, deps: PartnerFileDeps): Promise<PartnerFileOutcome> {
  if (object.key.endsWith('/')) return { kind: 'ignored', key: object.key, reason: 'a folder (an SFTP mkdir), not a file' };
  if (object.key.startsWith(CLAIMS_PREFIX) || object.key.startsWith(QUARANTINE_PREFIX)) return { kind: 'ignored', key: object.key, reason: "the check's own bookkeeping" };
  const upload = await readUpload(deps.s3, settings.landingBucket, object, settings.limits.maxFileBytes, settings.expectedBucketOwner);
  if (upload === undefined) return { kind: 'ignored', key: object.key, reason: 'gone: an earlier run of this event handled it and removed the upload' };
  const { key, body, size } = upload;
  const owner = settings.expectedBucketOwner;
  // The partner is the first folder; a key outside any folder belongs to none.
  const slash = key.indexOf('/');
  const partner = slash > 0 ? key.slice(0, slash) : '';
  const dataset = settings.partners[partner];
  const contract = dataset === undefined ? undefined : PARTNER_FILE_CONTRACTS[dataset];

  // An unread (oversized) file is named in the quarantine by its version and time instead of its content.
  const sha256 = body ? createHash('sha256').update(body).digest('hex') : undefined;
  const fileId = sha256?.slice(0, 16) ?? `unread-${object.time.getTime()}`;
  const reject = async (reasons: string[], records = 0, badRecords = 0): Promise<PartnerFileOutcome> => {
    const folder = `${QUARANTINE_PREFIX}${partner || '_none'}/${isoDay(object.time)}/${fileId}-${baseName(key)}`;
    await copy(settings.landingBucket, folder);
    const report = { partner, dataset, file: key, versionId: object.versionId, bytes: size, sha256, receivedAt: object.time.toISOString(), records, badRecords, reasons };
    await deps.s3.send(
      new PutObjectCommand({ Bucket: settings.landingBucket, Key: `${folder}.report.json`, Body: JSON.stringify(report, null, 1), ContentType: 'application/json', ExpectedBucketOwner: owner }),
    );
    await removeUpload();
    deps.logger.warn('partner file rejected', { partner, dataset, file: key, quarantined: folder, records, badRecords, reasons: reasons.slice(0, 20) });
    return { kind: 'rejected', partner, dataset, key, quarantineKey: folder, reasons, records, badRecords };
  };
  const copy = async (bucket: string, targetKey: string) => {
    const version = object.versionId ? `?versionId=${encodeURIComponent(object.versionId)}` : '';
    await deps.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: targetKey,
        CopySource: `${settings.landingBucket}/${key.split('/').map(encodeURIComponent).join('/')}${version}`,
        ExpectedBucketOwner: owner,
        ExpectedSourceBucketOwner: owner,
      }),
    );
  };
  const removeUpload = () =>
    deps.s3.send(new DeleteObjectCommand({ Bucket: settings.landingBucket, Key: key, VersionId: object.versionId, ExpectedBucketOwner: owner }));

  if (dataset === undefined) return reject([`partner: '${partner || key}' is not a configured partner folder`]);
  if (contract === undefined) return reject([`dataset: ${dataset} does not take partner files`]);
  if (body === undefined || sha256 === undefined) return reject([`size: ${size} bytes, above the limit of ${settings.limits.maxFileBytes}`]);
  const verdict = checkPartnerFile(contract, baseName(key), body, settings.limits);
  if (!verdict.accepted) return reject([...verdict.reasons], verdict.records, verdict.badRecords);

  // One promotion per content: the first upload claims it (a conditional write that only one
  // writer wins), and the claim names the raw key, so a retry after a failed copy copies to the
  // same key, and a later upload of the same content finds the copy done.
  const claimKey = `${CLAIMS_PREFIX}${dataset}/${sha256}.json`;
  const rawKey = `${rawFolder(contract, object.time)}partner-${partner}-${sha256.slice(0, 16)}${verdict.extension}`;
  const mine: Claim = { rawKey, partner, sourceKey: key, sourceVersionId: object.versionId ?? null, claimedAt: object.time.toISOString() };
  const claimed = await putIfAbsent(deps.s3, settings.landingBucket, claimKey, JSON.stringify(mine), owner);
  const claim = claimed ? mine : await readClaim(deps.s3, settings.landingBucket, claimKey, owner);
  // A retry of this very upload (its earlier attempt claimed, then failed) finishes its own promotion.
  const ownClaim = claimed || (claim.sourceKey === key && claim.sourceVersionId === mine.sourceVersionId && claim.claimedAt === mine.claimedAt);
  if (ownClaim) {
    await copy(settings.rawBucket, claim.rawKey);
    await removeUpload();
    deps.logger.info('partner file promoted', { partner, dataset, file: key, rawKey: claim.rawKey, records: verdict.records });
    return { kind: 'promoted', partner, dataset, key, rawKey: claim.rawKey, records: verdict.records, sha256 };
  }
  // Another upload claimed this content; should its copy not be there (its run failed and has not
  // been retried yet), this one makes it, to the claimed key: still one object.
  if (!(await exists(deps.s3, settings.rawBucket, claim.rawKey, owner))) await copy(settings.rawBucket, claim.rawKey);
  await removeUpload();
  deps.logger.info('partner file already promoted', { partner, dataset, file: key, rawKey: claim.rawKey, firstFrom: claim.sourceKey });
  return { kind: 'repeated', partner, dataset, key, rawKey: claim.rawKey, sha256 };
}

/**
 * The upload's key and bytes (the event's key read as S3 encodes it, or as given), its bytes left
 * unread when it is larger than `maxBytes`; undefined when that version is gone.
 */
async function readUpload(s3: S3Client, bucket: string, object: LandedObject, maxBytes: number, owner?: string): Promise<{ key: string; size: number; body?: Uint8Array } | undefined> {
  for (const key of eventKeyReadings(object.key)) {
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: object.versionId, ExpectedBucketOwner: owner }));
      const size = got.ContentLength ?? 0;
      if (size > maxBytes) {
        // Not read: the file is refused for its size, and a large one must not fill the function's memory.
        (got.Body as unknown as { destroy?: () => void }).destroy?.();
        return { key, size };
      }
      return { key, size, body: await got.Body!.transformToByteArray() };
    } catch (error) {
      if (!(error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)) throw error;
    }
  }
  return undefined;
}

/** Writes the object only if no object has the key; false when one already has it. */
async function putIfAbsent(s3: S3Client, bucket: string, key: string, body: string, owner?: string): Promise<boolean> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*', ExpectedBucketOwner: owner }));
    return true;
  } catch (error) {
    // 412: another write got there first; 409: one is in flight (S3 asks the loser to retry, and the retry then sees 412).
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) return false;
    throw error;
  }
}

async function readClaim(s3: S3Client, bucket: string, key: string, owner?: string): Promise<Claim> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ExpectedBucketOwner: owner }));
  return JSON.parse(await got.Body!.transformToString()) as Claim;
}

async function exists(s3: S3Client, bucket: string, key: string, owner?: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ExpectedBucketOwner: owner }));
    return true;
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
    throw error;
  }
}
