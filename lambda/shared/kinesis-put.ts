import { KinesisClient, PutRecordsCommand, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { PUT_RECORDS_LIMITS } from '../../lib/config/capacity';
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
}

/**
 * Splits entries into PutRecords batches within the API's limits: at most 500 records and 5 MiB
 * (data plus partition key) per call, greedily, keeping the order. A single entry over 1 MiB is
 * refused by Kinesis; callers validate record size before.
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
 * all are in or the attempts are used up, which throws UndeliveredRecordsError. A call that fails
 * as a whole is retried by the SDK's own retry policy, then counts as an attempt here.
 */
export async function putAllRecords(
  kinesis: KinesisClient,
  streamName: string,
  entries: readonly PutRecordsRequestEntry[],
  policy: BackoffPolicy,
): Promise<PutStats> {
  let calls = 0;
  let retriedRecords = 0;
  for (const batch of batchesOf(entries)) {
    let pending = batch;
    let lastCodes: Record<string, number> = {};
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > policy.maxAttempts) throw new UndeliveredRecordsError(pending.length, lastCodes);
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
  return { calls, retriedRecords };
}
