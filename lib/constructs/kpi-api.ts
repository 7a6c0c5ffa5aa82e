import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { Kpi } from '../../lambda/shared/kpi/catalogue';
import { KPI_API_SETTINGS, KpiApiSettings, kpiApiSettings } from '../../lambda/kpi-api/settings';
import { OPEN_INDEX } from '../../lambda/telemetry-alerts/store';
import { settingsEnvironment } from '../../lambda/shared/settings';
import { acknowledgeCompliance, acknowledgeWildcards, GRANT_ACTION_GROUPS } from '../nag/acknowledgements';
import { PATHS } from '../paths';
import { addJsonGatewayResponses, addRegionalWaf } from './api-protection';
import { encryptedLogGroup } from './log-groups';
import { privateFunction } from './private-function';
import { PlatformMonitoring } from './platform-monitoring';
import { StatefulConstruct } from './removal';

export interface KpiApiProps {
  /** Name of the REST API and prefix of its function's name, e.g. `tlh-dev-kpi-api`. */
  readonly apiName: string;
  /** What the function is told (the Athena workgroup and database, limits); written through its schema with the alerts table's name. */
  readonly settings: Omit<KpiApiSettings, 'alertsTableName'>;
  /** The KPI catalogue: parameters every KPI requires are validated by API Gateway itself. */
  readonly catalogue: readonly Kpi[];
  /** The live alerts table (operations stack) that /alerts and /vehicles/{id}/alerts read, and its key. */
  readonly alerts: { readonly table: dynamodb.ITable; readonly key: kms.IKey };
  /** Grants the function what the analyst role may do (LakeAccess.grantAggregatedQueries). */
  readonly grantQueries: (grantee: iam.IGrantable) => void;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Requests per day per API key, through a usage plan. @default - no quota and no API key */
  readonly dailyQuota?: number;
  /** A Cognito user pool authorises callers instead of IAM (SigV4). @default false */
  readonly cognito?: boolean;
  /** A WAF web ACL with this rate limit per client IP in five minutes. @default - no WAF */
  readonly waf?: { readonly requestsPerFiveMinutesPerIp: number };
  /** @default 512 */
  readonly memoryMiB?: number;
  /** The most instances at once: the most KPI queries running on Athena through the API. */
  readonly reservedConcurrency: number;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The stage every client calls: /v1/kpis, ... */
export const KPI_API_STAGE = 'v1';

/**
 * The KPI API for applications: a regional REST API in front of one function that shares the kpi
 * command's Athena core (lambda/kpi-api). IAM (SigV4) authorisation on every method by default, a
 * Cognito user pool where configured; parameters every KPI needs validated by API Gateway before
 * the function runs; stage throttling, an optional usage plan with a daily quota; JSON errors with
 * a stable code from API Gateway too; access logs to an encrypted log group; X-Ray tracing on the
 * stage and the function; an optional WAF web ACL. The function may only query the aggregated zone.
 */
export class KpiApi extends StatefulConstruct {
  readonly api: apigw.RestApi;
  readonly function: nodejs.NodejsFunction;
  readonly accessLogs: logs.LogGroup;
  readonly userPool?: cognito.UserPool;
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: KpiApiProps) {
    super(scope, id, props);
    const { function: fn, role } = privateFunction(this, {
      name: 'kpi-api',
      functionName: props.apiName,
      description: 'KPI API: runs a KPI of the catalogue on Athena and pages its results',
      purpose: 'runs KPI queries in the analytics workgroup over the aggregated zone',
      environment: settingsEnvironment(KPI_API_SETTINGS, kpiApiSettings, { ...props.settings, alertsTableName: props.alerts.table.tableName }),
      // The wait for Athena, then a page of results; API Gateway stops waiting at 29 s regardless.
      timeout: Duration.millis(props.settings.syncWaitMs + 8_000),
      memoryMiB: props.memoryMiB ?? 512,
      concurrency: props.reservedConcurrency,
      failedInvocations: 'Invoked synchronously by API Gateway: the caller receives the error as a JSON problem, and the API stage alarms on 5XX answers.',
      // The catalogue travels with the code: the function reads queries/*.sql beside its handler.
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_input: string, outputDir: string) => [`cp -r "${PATHS.queries}" "${outputDir}/queries"`],
      },
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      logsKey: props.logsKey,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.function = fn;
    props.grantQueries(role);
    // The alerts: Query on the table (one vehicle's partition) and on the open-alerts index, nothing else.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [props.alerts.table.tableArn, `${props.alerts.table.tableArn}/index/${OPEN_INDEX}`] }),
    );
    props.alerts.key.grantDecrypt(role);
    acknowledgeWildcards(role, [GRANT_ACTION_GROUPS]);

    this.accessLogs = encryptedLogGroup(this, 'AccessLogs', `/aws/apigateway/${props.apiName}/access`, props);
    if (props.cognito) this.userPool = this.buildUserPool(props);
    const authorizer = this.userPool
      ? new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [this.userPool], authorizerName: `${props.apiName}-users` })
      : undefined;
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: props.apiName,
      description: 'KPIs of the telemetry lakehouse, computed by Athena over the aggregated zone',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // Execution logs need the account-wide API Gateway logging role, an account singleton this
      // platform does not own; the access log records every request (acknowledged below).
      cloudWatchRole: false,
      deployOptions: {
        stageName: KPI_API_STAGE,
        tracingEnabled: true,
        metricsEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
      },
      defaultMethodOptions: authorizer
        ? { authorizationType: apigw.AuthorizationType.COGNITO, authorizer, apiKeyRequired: props.dailyQuota !== undefined }
        : { authorizationType: apigw.AuthorizationType.IAM, apiKeyRequired: props.dailyQuota !== undefined },
    });
    this.addRoutes(props);
    addJsonGatewayResponses(this.api);
    if (props.dailyQuota !== undefined) this.addQuota(props);
    if (props.waf) this.webAcl = addRegionalWaf(this, this.api.deploymentStage.stageArn, props.apiName, props.waf.requestsPerFiveMinutesPerIp, props);

    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'Every request is in the stage access log (an encrypted log group) and traced by X-Ray; execution logging needs the ' +
        "account's API Gateway CloudWatch role, an account-wide setting shared by every API, which this platform does not own.",
    });
    acknowledgeCompliance(
      this.api.deploymentStage,
      'APIGWExecutionLoggingEnabled',
      'Every request is in the stage access log (an encrypted log group) and traced by X-Ray; execution logging needs the ' +
        "account's API Gateway CloudWatch role, an account-wide setting shared by every API, which this platform does not own.",
    );
    acknowledgeCompliance(
      this.api.deploymentStage,
      'APIGWSSLEnabled',
      'A client certificate authenticates API Gateway to an HTTP backend; the only integration here is the Lambda function, which API Gateway invokes through the Lambda API over TLS with its own credentials.',
    );
    acknowledgeCompliance(
      this.api.deploymentStage,
      'APIGWCacheEnabledAndEncrypted',
      "Repeated KPI requests are answered from Athena's result reuse (config serving.resultReuseMaxAgeMinutes) over encrypted results, " +
        'without a second scan; a stage cache would be a second, hourly-billed copy of the same answers, and the paging of a running query must never be cached.',
    );
    if (!props.waf) {
      const reason = 'This environment runs the API without a WAF web ACL (config serving.api.waf.enabled); every method still needs a signed (IAM) or Cognito-authenticated caller and is throttled.';
      Validations.of(this.api.deploymentStage).acknowledge({ id: 'AwsSolutions-APIG3', reason });
      acknowledgeCompliance(this.api.deploymentStage, 'APIGWAssociatedWithWAF', reason);
    }
    if (!this.userPool) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'Callers are authorised by IAM (SigV4) on every method, as DESIGN.md asks by default; a Cognito authorizer is used where config serving.api.cognito enables it.',
      });
    }
  }

  /** The URL clients call, e.g. https://<id>.execute-api.<region>.amazonaws.com/v1/ */
  get url(): string {
    return this.api.url;
  }

  private addRoutes(props: KpiApiProps): void {
    const integration = new apigw.LambdaIntegration(this.function, { proxy: true });
    const validator = new apigw.RequestValidator(this, 'Validator', { restApi: this.api, validateRequestParameters: true, validateRequestBody: true });
    // A query-string parameter every KPI requires is refused by API Gateway when absent.
    const everywhere = (props.catalogue[0]?.parameters ?? [])
      .filter((p) => !p.optional && props.catalogue.every((k) => k.parameters.some((q) => q.name === p.name && !q.optional)))
      .map((p) => p.name);
    const kpis = this.api.root.addResource('kpis');
    kpis.addMethod('GET', integration, { requestValidator: validator });
    kpis.addResource('{kpi}').addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: {
        'method.request.path.kpi': true,
        ...Object.fromEntries(everywhere.map((name) => [`method.request.querystring.${name}`, true])),
      },
    });
    this.api.root.addResource('alerts').addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.status': false, 'method.request.querystring.severity': false, 'method.request.querystring.pageToken': false },
    });
    this.api.root
      .addResource('vehicles')
      .addResource('{id}')
      .addResource('alerts')
      .addMethod('GET', integration, {
        requestValidator: validator,
        requestParameters: { 'method.request.path.id': true, 'method.request.querystring.status': false, 'method.request.querystring.pageToken': false },
      });
    this.api.root
      .addResource('queries')
      .addResource('{id}')
      .addMethod('GET', integration, { requestValidator: validator, requestParameters: { 'method.request.path.id': true, 'method.request.querystring.pageToken': false } });
  }

  private addQuota(props: KpiApiProps): void {
    const plan = this.api.addUsagePlan('UsagePlan', {
      name: `${props.apiName}-daily`,
      description: `At most ${props.dailyQuota} requests a day per API key`,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      quota: { limit: props.dailyQuota!, period: apigw.Period.DAY },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    plan.addApiKey(this.api.addApiKey('ApplicationKey', { description: 'The custom application: its requests count against the daily quota' }));
  }

  private buildUserPool(props: KpiApiProps): cognito.UserPool {
    const pool = new cognito.UserPool(this, 'Users', {
      userPoolName: `${props.apiName}-users`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 14, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy: props.removalPolicy,
    });
    pool.addClient('Application', { authFlows: { userSrp: true }, generateSecret: false, preventUserExistenceErrors: true });
    return pool;
  }
}

/**
 * The API failing its callers (5xx from the function, Athena or API Gateway) and the function
 * failing outright (errors or throttles, which API Gateway turns into 502s).
 */
export function monitorKpiApi(monitoring: PlatformMonitoring, api: KpiApi): void {
  monitoring.addAlarm('kpi-api-5xx', {
    metric: api.api.metricServerError({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
    threshold: 5,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'KPI API: requests are failing with 5xx (a KPI query Athena failed, a cancelled query, or the function); the access log and the function log name the query ids.',
    thresholdReason: 'a single 502 can be a caller asking for too wide a range (the scan cutoff); five in five minutes is an outage for the application.',
  });
  monitoring.addAlarm('kpi-api-function-errors', {
    metric: api.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'KPI API: the function crashed or timed out (it answers every error it expects itself).',
    thresholdReason: 'the function catches what it expects and answers with a code; an invocation error is a bug or a timeout.',
  });
}

