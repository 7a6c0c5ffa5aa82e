import { KAFKA_TOPIC_CONTRACTS } from '../../lambda/kafka-record-check/core';
import { contractOf, DatasetContract, partnerFileDatasets } from '../contracts';
import { ConfigError } from './index';

/**
 * What the ingestion stack checks of its config against the contracts before it builds anything:
 * each way in may only bring a dataset whose contract says it can come that way. Each throws a
 * ConfigError naming the field.
 */

/** Every configured table must land as a dataset whose contract says DMS writes it for this source. */
export function checkDmsSource(envName: string, sourceName: string, tables: readonly { dataset: string }[], contracts: readonly DatasetContract[]): void {
  const problems: string[] = [];
  tables.forEach((t, i) => {
    const field = `ingestion.dms.sources.${sourceName}.tables.${i}.dataset`;
    let contract: DatasetContract;
    try {
      contract = contractOf(contracts, t.dataset);
    } catch (e) {
      problems.push(`${field}: ${(e as Error).message}`);
      return;
    }
    if (contract.source !== sourceName) problems.push(`${field}: dataset ${t.dataset} belongs to source ${contract.source}, not ${sourceName}`);
    else if (contract.raw?.writer !== 'dms') problems.push(`${field}: dataset ${t.dataset} is not written by DMS (contract raw.writer)`);
  });
  if (problems.length > 0) throw new ConfigError(envName, problems);
}

/** Every partner must send a dataset whose contract takes partner files (NDJSON raw records, as written). */
export function checkPartnerDatasets(envName: string, partners: readonly { dataset: string }[], contracts: readonly DatasetContract[]): void {
  const taking = partnerFileDatasets(contracts);
  const problems = partners.flatMap((p, i) =>
    taking.includes(p.dataset) ? [] : [`ingestion.partnerFiles.partners.${i}.dataset: ${p.dataset} does not take partner files; those that do: ${taking.join(', ')}`],
  );
  if (problems.length > 0) throw new ConfigError(envName, problems);
}

/** Every topic must carry a dataset a topic may carry (KAFKA_TOPIC_CONTRACTS: NDJSON in the raw zone as written, with an arrival stamp). */
export function checkKafkaTopics(envName: string, topics: readonly { dataset: string }[]): void {
  const problems = topics.flatMap((t, i) =>
    t.dataset in KAFKA_TOPIC_CONTRACTS ? [] : [`ingestion.kafka.topics.${i}.dataset: ${t.dataset} cannot come from a Kafka topic; those that can: ${Object.keys(KAFKA_TOPIC_CONTRACTS).join(', ')}`],
  );
  if (problems.length > 0) throw new ConfigError(envName, problems);
}
