import { createHash } from 'crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import telematicsContract from '../../contracts/iot.telematics.json';
import type { DatasetContract } from '../../lib/contracts';
import { recordProblems } from '../shared/contract-records';
import type { KafkaRecordCheckSettings } from './settings';

/**
 * Firehose's record transformation for a delivery stream that reads a Kafka topic (MSK as source):
 * each record's value is checked against the contract of the topic's dataset. A record that meets
 * it goes on to the raw zone as one NDJSON line, its value as the producer wrote it plus the
 * arrival stamp (`ingested_at`: when the broker took it), as the IoT rule and the HTTPS API stamp
 * theirs. A record that does not is kept, with every reason, in one quarantine object per batch
 * under raw/<source>/_quarantine/kafka-<topic>/, and only then answered `Dropped`: a refused record
 * is never lost, and never reaches the dataset's folder.
 */

/** The datasets a topic may carry: NDJSON in the raw zone as written, with an arrival stamp (lib/contracts kafkaTopicDatasets). */
export const KAFKA_TOPIC_CONTRACTS: Readonly<Record<string, DatasetContract>> = {
  telematics: telematicsContract as unknown as DatasetContract,
};

/** The field the check stamps with the broker's arrival time; a producer may not send it. */
export const ARRIVAL_FIELD = 'ingested_at';

/** One record of Firehose's transformation event when the source is MSK. */
export interface MskFirehoseRecord {
  readonly recordId: string;
  /** When the broker took the record (epoch milliseconds). */
  readonly approximateArrivalTimestamp: number;
  /** The record's value, base64. */
  readonly kafkaRecordValue: string;
  readonly mskRecordMetadata?: { readonly offset?: string | number; readonly partitionId?: string | number; readonly approximateArrivalTimestamp?: number };
}

export interface MskFirehoseEvent {
  readonly invocationId: string;
  readonly deliveryStreamArn: string;
  readonly sourceMSKArn?: string;
  readonly region?: string;
  readonly records: readonly MskFirehoseRecord[];
}

export interface MskFirehoseResultRecord {
  readonly recordId: string;
  readonly result: 'Ok' | 'Dropped' | 'ProcessingFailed';
  /** The transformed value, base64 (Firehose's field for MSK sources). */
  readonly kafkaRecordValue: string;
}

export interface KafkaBatchOutcome {
  readonly response: { readonly records: MskFirehoseResultRecord[] };
  readonly topic: string;
  readonly dataset: string;
  readonly accepted: number;
  readonly refused: number;
  /** Refused records by their first reason's field (the part before ':'), for the metrics. */
  readonly refusedBy: Readonly<Record<string, number>>;
  readonly quarantineKey?: string;
}

export interface KafkaRecordCheckDeps {
  readonly s3: S3Client;
  readonly logger: Pick<PowertoolsLogger, 'info' | 'warn'>;
}

export type RecordVerdict = { readonly accepted: true; readonly line: Buffer } | { readonly accepted: false; readonly reasons: readonly string[] };

// fatal: bytes that are not UTF-8 are an error, not U+FFFD; ignoreBOM: a byte-order mark stays in the
// text (the decoder would silently strip it), so the check sees it and refuses it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * One record's value against the contract. Accepted: the value's own text (trailing white space
 * aside) with the arrival stamp added as its last field, and a newline. The text is kept as
 * written, not re-serialised, so a number keeps its digits and a field its place.
 */
export function checkKafkaRecord(contract: DatasetContract, value: Buffer, arrivalMillis: number, maxRecordBytes: number): RecordVerdict {
  if (value.length === 0) return { accepted: false, reasons: ['value: empty (a tombstone or an empty message), not a record'] };
  if (value.length > maxRecordBytes) return { accepted: false, reasons: [`size: ${value.length} bytes, above the limit of ${maxRecordBytes}`] };
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { accepted: false, reasons: ['encoding: not UTF-8'] };
  }
  if (text.charCodeAt(0) === 0xfeff) return { accepted: false, reasons: ['encoding: starts with a byte-order mark; write UTF-8 without one'] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { accepted: false, reasons: [`format: not JSON (${(error as Error).message})`] };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { accepted: false, reasons: ['format: expected one JSON object'] };
  const record = parsed as Record<string, unknown>;
  if (ARRIVAL_FIELD in record) return { accepted: false, reasons: [`${ARRIVAL_FIELD}: set by the platform when the broker takes the record, not by the producer`] };
  const problems = recordProblems(contract, { ...record, [ARRIVAL_FIELD]: arrivalMillis });
  if (problems.length > 0) return { accepted: false, reasons: problems };
  const body = text.trimEnd();
  return { accepted: true, line: Buffer.from(`${body.slice(0, body.lastIndexOf('}'))},"${ARRIVAL_FIELD}":${arrivalMillis}}\n`, 'utf8') };
}

const pad = (n: number) => String(n).padStart(2, '0');
const isoDay = (t: Date) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;

/** Where a batch's refused records of a topic are kept: the raw zone's quarantine of the dataset's source. */
export function quarantineFolder(contract: DatasetContract, topic: string, arrival: Date): string {
  return `raw/${contract.source}/_quarantine/kafka-${topic}/ingest_date=${isoDay(arrival)}/`;
}

const deliveryStreamName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export async function checkKafkaBatch(settings: KafkaRecordCheckSettings, event: MskFirehoseEvent, deps: KafkaRecordCheckDeps): Promise<KafkaBatchOutcome> {
  const streamName = deliveryStreamName(event.deliveryStreamArn);
  const delivery = settings.deliveries[streamName];
  // A delivery stream the check was not set up for: the deployment is wrong; failing the whole
  // invocation makes Firehose retry, then keep the records under its processing-failed prefix.
  if (delivery === undefined) throw new Error(`delivery stream ${streamName} is not one of the check's (${Object.keys(settings.deliveries).join(', ')})`);
  const contract = KAFKA_TOPIC_CONTRACTS[delivery.dataset];
  if (contract === undefined) throw new Error(`dataset ${delivery.dataset} of topic ${delivery.topic} is not one a topic may carry (${Object.keys(KAFKA_TOPIC_CONTRACTS).join(', ')})`);

  const results: MskFirehoseResultRecord[] = [];
  const quarantined: string[] = [];
  const refusedBy: Record<string, number> = {};
  let firstRefusedArrival: number | undefined;
  for (const record of event.records) {
    const value = Buffer.from(record.kafkaRecordValue ?? '', 'base64');
    const arrival = record.mskRecordMetadata?.approximateArrivalTimestamp ?? record.approximateArrivalTimestamp;
    const verdict = checkKafkaRecord(contract, value, arrival, settings.maxRecordBytes);
    if (verdict.accepted) {
      results.push({ recordId: record.recordId, result: 'Ok', kafkaRecordValue: verdict.line.toString('base64') });
      continue;
    }
    firstRefusedArrival ??= arrival;
    const field = verdict.reasons[0].slice(0, verdict.reasons[0].indexOf(':'));
    refusedBy[field] = (refusedBy[field] ?? 0) + 1;
    let text: string | undefined;
    try {
      text = value.length <= settings.maxRecordBytes ? utf8.decode(value) : undefined;
    } catch {
      text = undefined;
    }
    quarantined.push(
      JSON.stringify({
        topic: delivery.topic,
        partition: record.mskRecordMetadata?.partitionId === undefined ? null : Number(record.mskRecordMetadata.partitionId),
        offset: record.mskRecordMetadata?.offset === undefined ? null : String(record.mskRecordMetadata.offset),
        arrival: new Date(arrival).toISOString(),
        reasons: verdict.reasons,
        // The value as text when it is UTF-8 and within the limit, else its bytes (base64), else only its size.
        value: text ?? null,
        value_base64: text === undefined && value.length <= settings.maxRecordBytes ? value.toString('base64') : null,
        value_bytes: value.length,
      }),
    );
    results.push({ recordId: record.recordId, result: 'Dropped', kafkaRecordValue: '' });
  }

  let quarantineKey: string | undefined;
  if (quarantined.length > 0) {
    // Named by its content: a retried invocation of the same records writes the same object again,
    // never a second one. Written before the answer, so a refused record is kept or the batch fails.
    const body = Buffer.from(quarantined.join('\n') + '\n', 'utf8');
    const digest = createHash('sha256').update(body).digest('hex').slice(0, 16);
    quarantineKey = `${quarantineFolder(contract, delivery.topic, new Date(firstRefusedArrival!))}${streamName}-${digest}.json`;
    await deps.s3.send(new PutObjectCommand({ Bucket: settings.rawBucket, Key: quarantineKey, Body: body, ContentType: 'application/x-ndjson', ExpectedBucketOwner: settings.expectedBucketOwner }));
    deps.logger.warn('kafka records refused', { topic: delivery.topic, dataset: delivery.dataset, refused: quarantined.length, quarantineKey, refusedBy });
  }
  const accepted = results.length - quarantined.length;
  return { response: { records: results }, topic: delivery.topic, dataset: delivery.dataset, accepted, refused: quarantined.length, refusedBy, quarantineKey };
}
