import { randomUUID } from 'crypto';
import { gzipSync } from 'zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Kafka } from 'kafkajs';
import type { MskFirehoseEvent, MskFirehoseRecord, MskFirehoseResultRecord } from '../../lambda/kafka-record-check/core';

/**
 * A stand-in for a Firehose delivery stream whose source is a Kafka topic (MSK as source), with a
 * Lambda record transformation and an S3 destination, as lib/constructs/kafka-topic-ingestion.ts
 * deploys it. It reads a real broker (tools/stand-ins/kafka.ts) as a consumer group, hands the
 * records to the transformation in Firehose's MSK event shape, checks the answer as Firehose does
 * (every record answered once, by its id), writes the Ok records as one GZIP object under the
 * prefix and the failed ones under the error prefix, and only then commits the group's offsets:
 * at-least-once, as Firehose is. Its buffering is played on the records' arrival times (their Kafka
 * timestamps), so a topic filled with a past week's records lands as Firehose would have landed it
 * over that week; one delivery drains the topic to the offsets it found at the start. Not played:
 * the buffer's size limit, retries of a failed transformation, IAM, TLS.
 */
export interface FirehoseMskStandInOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly deliveryStreamName: string;
  readonly s3: S3Client;
  readonly bucket: string;
  /** The deployed delivery's prefix, with its !{timestamp:...} namespaces. */
  readonly prefix: string;
  /** The deployed delivery's error output prefix, with !{firehose:error-output-type}. */
  readonly errorOutputPrefix: string;
  /** The record transformation (the deployed function's handler, or its core). */
  readonly transform: (event: MskFirehoseEvent) => Promise<{ records: MskFirehoseResultRecord[] }>;
  /** Records per transformation call (Firehose sizes its calls by bytes; small batches show the seams). */
  readonly recordsPerInvocation?: number;
  /**
   * The delivery's buffer interval: records whose arrival times lie within one interval of the
   * first record of an object share it (Firehose closes a buffer after the interval), so records of
   * other hours or days land in their own folders. @default 300
   */
  readonly bufferIntervalSeconds?: number;
}

export interface FirehoseMskDelivery {
  /** Records read from the topic in this delivery. */
  readonly read: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly processingFailed: number;
  readonly invocations: number;
  /** Objects written: the delivered records', then the failed records'. */
  readonly objects: readonly string[];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Renders Firehose's prefix namespaces for an object whose oldest record arrived at `time`. */
export function renderFirehosePrefix(prefix: string, time: Date, errorOutputType?: string): string {
  return prefix
    .replace(/!\{timestamp:([^}]+)\}/g, (_, format: string) =>
      format
        .replace('yyyy', String(time.getUTCFullYear()))
        .replace('MM', pad(time.getUTCMonth() + 1))
        .replace('dd', pad(time.getUTCDate()))
        .replace('HH', pad(time.getUTCHours()))
        .replace('mm', pad(time.getUTCMinutes())),
    )
    .replace(/!\{firehose:error-output-type\}/g, () => {
      if (errorOutputType === undefined) throw new Error(`prefix ${prefix} names the error output type outside the error prefix`);
      return errorOutputType;
    })
    .replace(/!\{firehose:random-string\}/g, () => randomUUID().slice(0, 11));
}

const objectName = (stream: string, time: Date) =>
  `${stream}-1-${time.getUTCFullYear()}-${pad(time.getUTCMonth() + 1)}-${pad(time.getUTCDate())}-${pad(time.getUTCHours())}-${pad(time.getUTCMinutes())}-${pad(time.getUTCSeconds())}-${randomUUID()}`;

interface ReadRecord {
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: number;
  readonly value: Buffer;
}

/**
 * Calls `call` again while Kafka answers with a retriable error, for at most `withinMs`. kafkajs
 * retries most admin calls itself but not `fetchOffsets`: the first group call on a new broker
 * creates the offsets topic, and until the group coordinator has loaded it the broker answers
 * COORDINATOR_LOAD_IN_PROGRESS (seen in CI on a busy 2-core machine). Firehose retries such
 * errors too; anything not retriable, or still failing at the deadline, is thrown as it came.
 */
export async function whileKafkaRetriable<T>(call: () => Promise<T>, withinMs = 60_000, pauseMs = 200): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const retriable = (error as { retriable?: unknown }).retriable === true;
      if (!retriable || Date.now() + pauseMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * Reads every record the topic holds now (up to each partition's end offset at the start), from the
 * group's committed offsets. `commit` then moves the group's offsets past them (the group is empty
 * by then: the reader has left).
 */
async function readToEnd(kafka: Kafka, topic: string, groupId: string): Promise<{ records: ReadRecord[]; commit: () => Promise<void> }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = (await whileKafkaRetriable(() => admin.fetchOffsets({ groupId, topics: [topic] })))[0]?.partitions ?? [];
    const startOf = (p: number) => {
      const c = committed.find((x) => x.partition === p);
      const low = ends.find((x) => x.partition === p)!.low;
      return c && c.offset !== '-1' ? c.offset : low;
    };
    const pending = new Map(ends.filter((e) => BigInt(e.high) > BigInt(startOf(e.partition))).map((e) => [e.partition, BigInt(e.high)]));
    const records: ReadRecord[] = [];
    const last = new Map<number, string>();
    if (pending.size > 0) {
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`reading ${topic} to its end took more than 60 s`)), 60_000);
          consumer
            .run({
              autoCommit: false,
              eachMessage: async ({ partition, message }) => {
                const end = pending.get(partition);
                if (end === undefined || BigInt(message.offset) >= end) return;
                records.push({ partition, offset: message.offset, timestamp: Number(message.timestamp), value: message.value ?? Buffer.alloc(0) });
                last.set(partition, message.offset);
                if (BigInt(message.offset) + 1n >= end) pending.delete(partition);
                if (pending.size === 0) {
                  clearTimeout(timer);
                  resolve();
                }
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
    }
    const commit = async () => {
      if (last.size === 0) return;
      const committer = kafka.admin();
      await committer.connect();
      try {
        const partitions = [...last].map(([partition, offset]) => ({ partition, offset: String(BigInt(offset) + 1n) }));
        await whileKafkaRetriable(() => committer.setOffsets({ groupId, topic, partitions }));
      } finally {
        await committer.disconnect();
      }
    };
    return { records, commit };
  } finally {
    await admin.disconnect();
  }
}

/** One delivery: drains the topic through the transformation into S3, then commits the group's offsets. */
export async function deliverKafkaTopic(options: FirehoseMskStandInOptions): Promise<FirehoseMskDelivery> {
  const { records, commit } = await readToEnd(options.kafka, options.topic, `firehose-${options.deliveryStreamName}`);
  const deliveryStreamArn = `arn:aws:firehose:eu-west-1:000000000000:deliverystream/${options.deliveryStreamName}`;
  const perCall = options.recordsPerInvocation ?? 500;
  const ok: { time: number; bytes: Buffer }[] = [];
  const failed: { time: number; bytes: Buffer }[] = [];
  let dropped = 0;
  let invocations = 0;
  for (let start = 0; start < records.length; start += perCall) {
    const batch = records.slice(start, start + perCall);
    const eventRecords: MskFirehoseRecord[] = batch.map((r, i) => ({
      recordId: `${String(start + i).padStart(20, '0')}${r.partition}${r.offset}`,
      approximateArrivalTimestamp: r.timestamp,
      kafkaRecordValue: r.value.toString('base64'),
      mskRecordMetadata: { offset: r.offset, partitionId: String(r.partition), approximateArrivalTimestamp: r.timestamp },
    }));
    invocations += 1;
    const fail = (record: MskFirehoseRecord, errorCode: string, errorMessage: string) =>
      failed.push({
        time: record.approximateArrivalTimestamp,
        bytes: Buffer.from(`${JSON.stringify({ attemptsMade: 1, arrivalTimestamp: record.approximateArrivalTimestamp, errorCode, errorMessage, rawData: record.kafkaRecordValue, recordId: record.recordId })}\n`),
      });
    let answer: { records: MskFirehoseResultRecord[] };
    try {
      answer = await options.transform({ invocationId: randomUUID(), deliveryStreamArn, sourceMSKArn: 'arn:aws:kafka:eu-west-1:000000000000:cluster/local/0', region: 'eu-west-1', records: eventRecords });
    } catch (error) {
      for (const record of eventRecords) fail(record, 'Lambda.FunctionError', (error as Error).message);
      continue;
    }
    const byId = new Map<string, MskFirehoseResultRecord>();
    for (const r of answer.records) {
      if (byId.has(r.recordId)) throw new Error(`the transformation answered record ${r.recordId} twice`);
      byId.set(r.recordId, r);
    }
    for (const record of eventRecords) {
      const result = byId.get(record.recordId);
      if (result === undefined) fail(record, 'Lambda.MissingRecordId', 'the transformation did not answer this record');
      else if (result.result === 'Ok') ok.push({ time: record.approximateArrivalTimestamp, bytes: Buffer.from(result.kafkaRecordValue, 'base64') });
      else if (result.result === 'Dropped') dropped += 1;
      else fail(record, 'Lambda.ProcessingFailed', 'the transformation answered ProcessingFailed');
    }
  }
  const objects: string[] = [];
  const intervalMs = (options.bufferIntervalSeconds ?? 300) * 1000;
  const write = async (entries: { time: number; bytes: Buffer }[], prefix: (oldest: Date) => string) => {
    // Stable: records of one arrival time keep their order (a partition's order, as read).
    const sorted = entries.map((e, i) => ({ ...e, i })).sort((a, b) => a.time - b.time || a.i - b.i);
    for (let start = 0; start < sorted.length; ) {
      let end = start;
      while (end < sorted.length && sorted[end].time - sorted[start].time < intervalMs) end += 1;
      const oldest = new Date(sorted[start].time);
      const key = `${prefix(oldest)}${objectName(options.deliveryStreamName, oldest)}.gz`;
      await options.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: gzipSync(Buffer.concat(sorted.slice(start, end).map((e) => e.bytes))) }));
      objects.push(key);
      start = end;
    }
  };
  await write(ok, (oldest) => renderFirehosePrefix(options.prefix, oldest));
  await write(failed, (oldest) => renderFirehosePrefix(options.errorOutputPrefix, oldest, 'processing-failed'));
  // Offsets move only once every record read is in S3 (delivered, quarantined or failed).
  await commit();
  return { read: records.length, delivered: ok.length, dropped, processingFailed: failed.length, invocations, objects };
}
