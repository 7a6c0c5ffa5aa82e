import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DatasetContract } from '../contracts';
import { recordBatchJsonSchema } from '../contracts/record-schema';
import { acknowledgeCompliance, acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { addJsonGatewayResponses, addRegionalWaf } from './api-protection';
import { encryptedLogGroup } from './log-groups';
import { PlatformMonitoring } from './platform-monitoring';
import { StatefulConstruct } from './removal';

/** Kinesis PutRecords takes at most 500 records a request (and 5 MiB, 1 MiB a record, which API Gateway's 10 MB body and the schema keep well within for telemetry). */
export const MAX_RECORDS_PER_REQUEST = 500;
/** The stage partners call: POST /v1/telemetry */
export const INGEST_API_STAGE = 'v1';
/** Kinesis refuses a partition key over 256 characters: the schema refuses such a vehicle first. */
export const MAX_PARTITION_KEY_LENGTH = 256;

export interface IngestPartner {
  readonly name: string;
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly dailyQuota: number;
}

export interface TelemetryIngestApiProps {
  /** Name of the REST API, e.g. `tlh-dev-telemetry-ingest`. */
  readonly apiName: string;
  /** The telemetry contract: its raw record, less what the integration adds, is the request model. */
  readonly contract: DatasetContract;
  /** The field the stream is partitioned by (as the IoT rule does: the vehicle). */
  readonly partitionKeyField: string;
  /** The epoch-millisecond field the integration sets to the request's arrival, as the IoT rule sets it. */
  readonly receivedAtField: string;
  readonly stream: kinesis.IStream;
  readonly streamKey: kms.IKey;
  /** Each partner: an API key, and a usage plan with its rate, burst and daily quota. */
  readonly partners: readonly IngestPartner[];
  /** The whole stage's steady rate and burst. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** A WAF web ACL with this rate limit per client IP in five minutes. @default - no WAF */
  readonly waf?: { readonly requestsPerFiveMinutesPerIp: number };
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The mapping of a validated request onto Kinesis PutRecords (API Gateway's Velocity templates):
 * each record as it was sent, plus `receivedAtField` set to the request's arrival time (epoch
 * milliseconds), base64-encoded, partitioned by `partitionKeyField`. The record's JSON is the
 * request's own text ($input.json), its closing brace replaced: the model has already refused any
 * record that is not an object of the contract's fields.
 */
export function putRecordsRequestTemplate(streamName: string, partitionKeyField: string, receivedAtField: string): string {
  return [
    `#set($q = '"')`,
    `{"StreamName":"${streamName}","Records":[`,
    `#foreach($record in $input.path('$.records'))`,
    `#set($json = $input.json("$.records[$foreach.index]"))`,
    `#set($data = "$json.substring(0, $json.lastIndexOf('}')),\${q}${receivedAtField}\${q}:$context.requestTimeEpoch}")`,
    // The key as the request's own JSON text: $util.escapeJavaScript would write a quote as \', which JSON refuses.
    `{"Data":"$util.base64Encode($data)","PartitionKey":$input.json("$.records[$foreach.index].${partitionKeyField}")}#if($foreach.hasNext),#end`,
    `#end`,
    `]}`,
  ].join('\n');
}

/**
 * PutRecords' answer as the partner reads it: how many were received and failed, and per record,
 * in the order sent, accepted (with its sequence number) or failed (Kinesis's code: send that
 * record again). A request is all or nothing only when Kinesis refuses it whole.
 */
export const PUT_RECORDS_RESPONSE_TEMPLATE = [
  `#set($answer = $input.path('$'))`,
  `{"received":$answer.Records.size(),"failed":$answer.FailedRecordCount,"results":[`,
  `#foreach($record in $answer.Records)`,
  `#if("$!record.ErrorCode" != ""){"status":"failed","error":$input.json("$.Records[$foreach.index].ErrorCode"),"message":$input.json("$.Records[$foreach.index].ErrorMessage")}#else{"status":"accepted","sequenceNumber":$input.json("$.Records[$foreach.index].SequenceNumber")}#end#if($foreach.hasNext),#end`,
  `#end`,
  `]}`,
].join('\n');

/** Kinesis refusing the whole request: throttled or unavailable (send it again later), or refused (a platform fault). */
export const KINESIS_ERROR_RESPONSES = [
  { selectionPattern: '5\\d{2}', statusCode: '503', code: 'RETRY' },
  { selectionPattern: '4\\d{2}', statusCode: '502', code: 'STREAM_REFUSED' },
] as const;

/**
 * The HTTPS ingestion API: partners POST batches of telemetry records (`{"records": [...]}`, up to
 * 500) to /v1/telemetry with their API key. API Gateway validates the body against a JSON schema
 * generated from the telemetry contract and puts the records on the telemetry stream itself
 * (an AWS service integration: no function in the path), each stamped with its arrival time as
 * the IoT rule stamps a device's; it answers with a result per record. Per-partner API keys and
 * usage plans (rate, burst, daily quota), stage throttling, JSON access logs that name the key,
 * X-Ray, JSON errors with a stable code, and an optional WAF web ACL.
 */
export class TelemetryIngestApi extends StatefulConstruct {
  readonly api: apigw.RestApi;
  readonly accessLogs: logs.LogGroup;
  readonly role: iam.Role;
  readonly keys: Record<string, apigw.IApiKey> = {};
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: TelemetryIngestApiProps) {
    super(scope, id, props);
    this.role = new iam.Role(this, 'IntegrationRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: `${props.apiName}: puts validated partner records on the telemetry stream`,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kinesis:PutRecords'], resources: [props.stream.streamArn] }));
    props.streamKey.grant(this.role, 'kms:GenerateDataKey');
    acknowledgeWildcards(this.role, [GRANT_ACTION_GROUPS]);

    this.accessLogs = encryptedLogGroup(this, 'AccessLogs', `/aws/apigateway/${props.apiName}/access`, props);
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: props.apiName,
      description: 'Partners put vehicle telemetry on the telemetry stream, checked against its contract',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      deployOptions: {
        stageName: INGEST_API_STAGE,
        tracingEnabled: true,
        metricsEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        // The API key's id names the partner of every request (its usage plan); the value never appears.
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            apiKeyId: '$context.identity.apiKeyId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            status: '$context.status',
            error: '$context.error.message',
            validationError: '$context.error.validationErrorString',
            integrationStatus: '$context.integration.status',
            integrationLatency: '$context.integration.latency',
            responseLength: '$context.responseLength',
          }),
        ),
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
      },
    });
    const model = this.api.addModel('TelemetryRecords', {
      contentType: 'application/json',
      modelName: 'TelemetryRecords',
      description: `A batch of ${props.contract.dataset} records, generated from the contract`,
      schema: recordBatchJsonSchema(props.contract, MAX_RECORDS_PER_REQUEST, {
        omit: [props.receivedAtField],
        maxLengths: { [props.partitionKeyField]: MAX_PARTITION_KEY_LENGTH },
      }) as apigw.JsonSchema,
    });
    const validator = new apigw.RequestValidator(this, 'Validator', { restApi: this.api, validateRequestBody: true, validateRequestParameters: true });
    const integration = new apigw.AwsIntegration({
      service: 'kinesis',
      action: 'PutRecords',
      integrationHttpMethod: 'POST',
      options: {
        credentialsRole: this.role,
        passthroughBehavior: apigw.PassthroughBehavior.NEVER,
        requestParameters: { 'integration.request.header.Content-Type': "'application/x-amz-json-1.1'" },
        requestTemplates: { 'application/json': putRecordsRequestTemplate(props.stream.streamName, props.partitionKeyField, props.receivedAtField) },
        integrationResponses: [
          { statusCode: '200', responseTemplates: { 'application/json': PUT_RECORDS_RESPONSE_TEMPLATE } },
          ...KINESIS_ERROR_RESPONSES.map((e) => ({
            selectionPattern: e.selectionPattern,
            statusCode: e.statusCode,
            responseTemplates: { 'application/json': `{"code":"${e.code}","message":"$util.escapeJavaScript($input.path('$.message'))"}` },
          })),
        ],
      },
    });
    this.api.root.addResource('telemetry').addMethod('POST', integration, {
      apiKeyRequired: true,
      requestValidator: validator,
      requestModels: { 'application/json': model },
      methodResponses: [{ statusCode: '200' }, ...KINESIS_ERROR_RESPONSES.map((e) => ({ statusCode: e.statusCode }))],
    });
    // The schema's reasons are in the access log (validationError): API Gateway cannot escape them into a JSON body.
    addJsonGatewayResponses(this.api, [['BadBody', apigw.ResponseType.BAD_REQUEST_BODY, '400', 'INVALID_RECORDS']]);

    for (const partner of props.partners) {
      const key = this.api.addApiKey(`${partner.name}Key`, { apiKeyName: `${props.apiName}-${partner.name}`, description: `Partner ${partner.name}: its telemetry requests` });
      const plan = this.api.addUsagePlan(`${partner.name}Plan`, {
        name: `${props.apiName}-${partner.name}`,
        description: `Partner ${partner.name}: ${partner.rateLimit} requests a second (burst ${partner.burstLimit}), ${partner.dailyQuota} a day`,
        throttle: { rateLimit: partner.rateLimit, burstLimit: partner.burstLimit },
        quota: { limit: partner.dailyQuota, period: apigw.Period.DAY },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      plan.addApiKey(key);
      this.keys[partner.name] = key;
    }
    if (props.waf) this.webAcl = addRegionalWaf(this, this.api.deploymentStage.stageArn, props.apiName, props.waf.requestsPerFiveMinutesPerIp, props);

    const stage = this.api.deploymentStage;
    const noExecutionLog =
      "Every request is in the stage access log (an encrypted log group, with the partner's API key id and any validation error) and traced by X-Ray; " +
      "execution logging needs the account's API Gateway CloudWatch role, an account-wide setting this platform does not own.";
    Validations.of(stage).acknowledge({ id: 'AwsSolutions-APIG6', reason: noExecutionLog });
    acknowledgeCompliance(stage, 'APIGWExecutionLoggingEnabled', noExecutionLog);
    acknowledgeCompliance(stage, 'APIGWSSLEnabled', 'A client certificate authenticates API Gateway to an HTTP backend; the only integration is Kinesis, called through its AWS API over TLS with the integration role.');
    acknowledgeCompliance(stage, 'APIGWCacheEnabledAndEncrypted', 'A write API: every request puts new records on the stream, and no answer may be served from a cache.');
    if (!props.waf) {
      const reason = 'This environment runs the ingestion API without a WAF web ACL (config ingestion.httpsApi.waf.enabled); every request needs a partner API key, is throttled per partner and validated against the contract.';
      Validations.of(stage).acknowledge({ id: 'AwsSolutions-APIG3', reason });
      acknowledgeCompliance(stage, 'APIGWAssociatedWithWAF', reason);
    }
    const keyAuth =
      'Partners are outside AWS: each calls with its own API key, bound to a usage plan (rate, burst, daily quota) that names it in the access log; ' +
      'the records it may send are only contract telemetry, validated before they reach the stream. IAM or Cognito would need partner identities in this account.';
    Validations.of(this.api).acknowledge({ id: 'AwsSolutions-APIG4', reason: keyAuth });
    Validations.of(this.api).acknowledge({ id: 'AwsSolutions-COG4', reason: keyAuth });
  }

  /** The URL partners call, e.g. https://<id>.execute-api.<region>.amazonaws.com/v1/ */
  get url(): string {
    return this.api.url;
  }
}

/**
 * Alarms of the ingestion API: answers 5xx (the stream refused or throttled whole requests: records
 * not taken), and a partner's requests mostly refused as invalid (4xx), which means its sender is
 * broken and its readings are not arriving.
 */
export function monitorTelemetryIngestApi(monitoring: PlatformMonitoring, ingest: TelemetryIngestApi): void {
  monitoring.addAlarm('telemetry-ingest-api-5xx', {
    metric: ingest.api.metricServerError({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
    threshold: 5,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'Telemetry ingestion API: whole requests refused by the stream (503 RETRY: throttled; 502: refused); partners must send them again. The access log names the keys.',
    thresholdReason: 'a partner retries a 503, so one is not yet data lost; five in five minutes means the stream lacks capacity or the integration is broken.',
  });
  monitoring.addAlarm('telemetry-ingest-api-4xx', {
    metric: ingest.api.metricClientError({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(15) }),
    threshold: 20,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'Telemetry ingestion API: requests refused as invalid, unauthorised or over quota (the access log names the key and the validation error); a partner sender is broken.',
    thresholdReason: 'a partner that sends one bad batch fixes it; twenty refusals in fifteen minutes is a sender that keeps failing and readings that are not arriving.',
  });
}
