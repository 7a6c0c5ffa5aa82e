import { KinesisClient, PutRecordsCommand, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { KINESIS_RECORD_LIMITS, PUT_RECORDS_LIMITS } from '../../lib/config/capacity';
import { BackoffPolicy, backoffDelayMs, sleep } from './retry';

/** Records that stayed undelivered after every attempt; the invocation must fail and be retried. */
export class UndeliveredRecordsError extends Error {
  constructor(
    readonly undelivered: number,
    readonly errorCodes: Record<string, number>,
  ) {
    super(`PutRecords: ${undelivered} records undelivered after all attempts (${Object.entries(errorCodes).map(([c, n]) => `${c} x${n}`).join(', ')})`);
    this.name = 'UndeliveredRecordsError';
  }
}

export interface PutStats {
  /** PutRecords calls made, retries included. */
  readonly calls: number;
  /** Records sent again after a partial failure. */
  readonly retriedRecords: number;
  /** Records in the stream at the end. */
  readonly delivered: number;
  /** Records still refused after every attempt, by the last error code of each. */
  readonly undelivered: number;
  readonly undeliveredCodes: Record<string, number>;
}

/**
 * Why Kinesis would refuse this record whatever the attempt, or undefined: a partition key that is
 * empty or longer than 256 characters, or data and key over 1 MiB together. Such a record fails
 * its whole PutRecords call every time, so callers quarantine it instead of sending it; the reason
 * names `keyField`, the record's field the key is taken from.
 */
export function recordLimitProblem(data: Uint8Array, partitionKey: string, keyField = 'partition key'): string | undefined {
  const keyChars = [...partitionKey].length;
  if (keyChars === 0) return `${keyField}: empty; Kinesis partition keys are 1 to 256 characters`;
  if (keyChars > KINESIS_RECORD_LIMITS.partitionKeyChars) return `${keyField}: ${keyChars} characters; Kinesis partition keys are at most 256`;
  const bytes = data.byteLength + Buffer.byteLength(partitionKey, 'utf8');
  if (bytes > KINESIS_RECORD_LIMITS.bytes) return `record: ${bytes} bytes with its partition key; a Kinesis record is at most ${KINESIS_RECORD_LIMITS.bytes} bytes`;
  return undefined;
}

/**
 * Splits entries into PutRecords batches within the API's limits: at most 500 records and 5 MiB
 * (data plus partition key) per call, greedily, keeping the order. A single entry over 1 MiB is
 * refused by Kinesis; callers check each record with recordLimitProblem first.
 */
export function batchesOf(entries: readonly PutRecordsRequestEntry[]): PutRecordsRequestEntry[][] {
  const batches: PutRecordsRequestEntry[][] = [];
  let current: PutRecordsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = (entry.Data?.byteLength ?? 0) + Buffer.byteLength(entry.PartitionKey ?? '', 'utf8');
    if (current.length > 0 && (current.length === PUT_RECORDS_LIMITS.records || bytes + size > PUT_RECORDS_LIMITS.bytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Puts every entry into the stream. A call may accept some records and refuse others (throttling,
 * internal failure): only the refused ones are sent again, after capped exponential backoff, until
 * all are in or the attempts are used up. A call that fails as a whole is retried by the SDK's own
 * retry policy, then counts as an attempt here. Every batch is tried, whatever happened to the ones
 * before it; the result counts what was delivered and what was not, and the caller decides (the
 * sensor pull fails the invocation so that Lambda retries the window).
 */
export async function putAllRecords(
  kinesis: KinesisClient,
  streamName: string,
  entries: readonly PutRecordsRequestEntry[],
  policy: BackoffPolicy,
): Promise<PutStats> {
  let calls = 0;
  let retriedRecords = 0;
  let undelivered = 0;
  const undeliveredCodes: Record<string, number> = {};
  for (const batch of batchesOf(entries)) {
    let pending = batch;
    let lastCodes: Record<string, number> = {};
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > policy.maxAttempts) {
        undelivered += pending.length;
        for (const [code, n] of Object.entries(lastCodes)) undeliveredCodes[code] = (undeliveredCodes[code] ?? 0) + n;
        break;
      }
      if (attempt > 1) {
        retriedRecords += pending.length;
        await sleep(backoffDelayMs(attempt - 1, policy));
      }
      calls++;
      let response;
      try {
        response = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: pending }));
      } catch (error) {
        lastCodes = { [(error as Error).name]: pending.length };
        continue;
      }
      if (!response.FailedRecordCount) {
        pending = [];
        break;
      }
      // Results are in request order; a failed one carries an ErrorCode.
      const failed: PutRecordsRequestEntry[] = [];
      lastCodes = {};
      response.Records?.forEach((result, i) => {
        if (result.ErrorCode) {
          failed.push(pending[i]);
          lastCodes[result.ErrorCode] = (lastCodes[result.ErrorCode] ?? 0) + 1;
        }
      });
      pending = failed;
    }
  }
  return { calls, retriedRecords, delivered: entries.length - undelivered, undelivered, undeliveredCodes };
}
