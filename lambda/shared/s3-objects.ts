import { createHash } from 'crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface WholeObject {
  readonly bucket: string;
  readonly key: string;
  readonly body: string | Uint8Array;
  readonly contentType: string;
  /** Refuse to write into a bucket of another account (bucket-sniping guard). */
  readonly expectedBucketOwner?: string;
}

/**
 * Writes an object in one PUT with its MD5: S3 stores it whole or not at all, and rejects a body
 * damaged in transit. Writing the same key again replaces the object (versioning keeps the old
 * one), which is what makes a retried pull idempotent.
 */
export async function putWholeObject(s3: S3Client, object: WholeObject): Promise<void> {
  const body = typeof object.body === 'string' ? Buffer.from(object.body, 'utf8') : object.body;
  await s3.send(
    new PutObjectCommand({
      Bucket: object.bucket,
      Key: object.key,
      Body: body,
      ContentType: object.contentType,
      ContentMD5: createHash('md5').update(body).digest('base64'),
      ExpectedBucketOwner: object.expectedBucketOwner,
    }),
  );
}

/** Newline-delimited JSON: one object per line, a final newline. */
export function toNdjson(records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '');
}
