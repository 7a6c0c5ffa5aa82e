import * as z from 'zod/mini';
import { positiveInt } from '../shared/settings';

/** The environment variable that holds the Kafka record check's settings (JSON). */
export const KAFKA_RECORD_CHECK_SETTINGS = 'KAFKA_RECORD_CHECK_SETTINGS';

/** Everything the Kafka record check is told by its deployment (lib/config: ingestion.kafka). */
export const kafkaRecordCheckSettings = z.object({
  /** The raw zone's bucket, where refused records are kept under raw/<source>/_quarantine/. */
  rawBucket: z.string().check(z.minLength(3)),
  /** The account that must own the bucket (S3 ExpectedBucketOwner). */
  expectedBucketOwner: z.optional(z.string()),
  /**
   * Delivery stream name -> the topic it reads and the topic's dataset. Firehose's event names the
   * delivery stream, not the topic: one delivery stream reads one topic.
   */
  deliveries: z.record(z.string().check(z.minLength(1)), z.object({ topic: z.string().check(z.minLength(1)), dataset: z.string().check(z.minLength(1)) })),
  /** A record value above this many bytes is refused unread. */
  maxRecordBytes: positiveInt,
});
export type KafkaRecordCheckSettings = z.infer<typeof kafkaRecordCheckSettings>;
