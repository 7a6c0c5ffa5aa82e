import * as http from 'http';
import { AddressInfo } from 'net';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import Ajv from 'ajv';
import { render } from 'velocityjs';
import type { DatasetContract } from '../../lib/contracts';
import { recordBatchJsonSchema } from '../../lib/contracts/record-schema';
import {
  INGEST_API_STAGE,
  KINESIS_ERROR_RESPONSES,
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORDS_PER_REQUEST,
  PUT_RECORDS_RESPONSE_TEMPLATE,
  putRecordsRequestTemplate,
} from '../../lib/constructs/telemetry-ingest-api';

/**
 * API Gateway as the ingestion API's stack configures it, on 127.0.0.1, for the tests and the local
 * run: the partner's API key, the request model (the same JSON schema, by Ajv), the integration's
 * Velocity templates as deployed (by velocityjs, with API Gateway's $input, $util and $context),
 * Kinesis PutRecords on the stream (moto), and the error mapping. Not played: API Gateway's
 * throttling and usage-plan quotas, and its 10 MB body limit.
 */

export interface IngestApiStandIn {
  readonly url: string;
  close(): Promise<void>;
}

export interface IngestApiOptions {
  readonly contract: DatasetContract;
  readonly partitionKeyField: string;
  readonly receivedAtField: string;
  readonly streamName: string;
  readonly kinesis: KinesisClient;
  /** API key value -> partner. */
  readonly apiKeys: Readonly<Record<string, string>>;
  /** The request's arrival (epoch ms); the clock by default. */
  readonly now?: () => number;
}

/** A JSONPath of the kinds the templates use: $, $.a, $.a[0], $.a[0].b. */
export function jsonPath(root: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`not a JSONPath: ${path}`);
  let value: unknown = root;
  for (const [, name, index] of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) {
    if (value === null || value === undefined) return undefined;
    value = name !== undefined ? (value as Record<string, unknown>)[name] : (value as unknown[])[Number(index)];
  }
  return value;
}

/** API Gateway's mapping-template variables over a body. */
function templateContext(body: unknown, requestTimeEpoch: number) {
  return {
    input: {
      path: (p: string) => jsonPath(body, p),
      json: (p: string) => JSON.stringify(jsonPath(body, p) ?? null),
    },
    util: {
      base64Encode: (text: string) => Buffer.from(String(text), 'utf8').toString('base64'),
      escapeJavaScript: (text: string) => String(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/'/g, "\\'").replace(/\n/g, '\\n'),
    },
    context: { requestTimeEpoch },
  };
}

export function renderTemplate(template: string, body: unknown, requestTimeEpoch = Date.now()): string {
  return render(template, templateContext(body, requestTimeEpoch));
}

export async function startIngestApi(options: IngestApiOptions): Promise<IngestApiStandIn> {
  const schema = recordBatchJsonSchema(options.contract, MAX_RECORDS_PER_REQUEST, {
    omit: [options.receivedAtField],
    maxLengths: { [options.partitionKeyField]: MAX_PARTITION_KEY_LENGTH },
  });
  const { $schema: _draft, ...draft4Subset } = schema; // Ajv reads the same keywords; draft 4's URI is not its default
  const validate = new Ajv({ allErrors: true, strict: false }).compile(draft4Subset);
  const requestTemplate = putRecordsRequestTemplate(options.streamName, options.partitionKeyField, options.receivedAtField);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      void (async () => {
        if (req.method !== 'POST' || req.url !== `/${INGEST_API_STAGE}/telemetry`) return answer(403, { code: 'FORBIDDEN', message: 'Missing Authentication Token' });
        const key = req.headers['x-api-key'];
        if (typeof key !== 'string' || options.apiKeys[key] === undefined) return answer(403, { code: 'FORBIDDEN', message: 'Forbidden' });
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return answer(400, { code: 'INVALID_RECORDS', message: 'Invalid request body' });
        }
        if (!validate(body)) return answer(400, { code: 'INVALID_RECORDS', message: 'Invalid request body', errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) });
        const rendered = JSON.parse(renderTemplate(requestTemplate, body, options.now?.() ?? Date.now())) as { StreamName: string; Records: { Data: string; PartitionKey: string }[] };
        let output: unknown;
        try {
          output = await options.kinesis.send(
            new PutRecordsCommand({ StreamName: rendered.StreamName, Records: rendered.Records.map((r) => ({ Data: Buffer.from(r.Data, 'base64'), PartitionKey: r.PartitionKey })) }),
          );
        } catch (error) {
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 500;
          const mapped = KINESIS_ERROR_RESPONSES.find((e) => new RegExp(`^${e.selectionPattern}$`).test(String(status)))!;
          return answer(Number(mapped.statusCode), { code: mapped.code, message: (error as Error).message });
        }
        return res.writeHead(200, { 'content-type': 'application/json' }).end(renderTemplate(PUT_RECORDS_RESPONSE_TEMPLATE, output));
      })().catch((error) => answer(500, { code: 'STAND_IN_FAILED', message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${INGEST_API_STAGE}/telemetry`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
