import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { settingsFromEnvironment } from '../shared/settings';
import { checkKafkaBatch, MskFirehoseEvent, MskFirehoseResultRecord } from './core';
import { SERVICE } from './service';
import { KAFKA_RECORD_CHECK_SETTINGS, kafkaRecordCheckSettings } from './settings';

/**
 * Entry point: Firehose's record transformation of a delivery stream that reads a Kafka topic.
 * Answers each record Ok (on to the raw zone) or Dropped (kept in the quarantine first, core.ts),
 * and publishes per topic: KafkaRecordsAccepted and KafkaRecordsRefused (alarmed). An error fails
 * the invocation: Firehose retries it, then writes the batch under the delivery's processing-failed
 * prefix (alarmed through its ExecuteProcessing.Success metric).
 */
const logger = new Logger({ serviceName: SERVICE });
// Path-style addressing only for local runs against moto (AWS_ENDPOINT_URL_S3 on 127.0.0.1).
const s3 = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
const settings = settingsFromEnvironment(KAFKA_RECORD_CHECK_SETTINGS, kafkaRecordCheckSettings, process.env);

export async function handler(event: MskFirehoseEvent): Promise<{ records: MskFirehoseResultRecord[] }> {
  const outcome = await checkKafkaBatch(settings, event, { s3, logger });
  const metrics = new Metrics({ serviceName: SERVICE });
  metrics.addDimension('topic', outcome.topic);
  metrics.addMetric('KafkaRecordsAccepted', MetricUnit.Count, outcome.accepted);
  metrics.addMetric('KafkaRecordsRefused', MetricUnit.Count, outcome.refused);
  metrics.publishStoredMetrics();
  return outcome.response;
}
