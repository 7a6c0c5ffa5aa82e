import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { encryptedLogGroup, LogGroupSettings } from './log-groups';

/** A gateway response: construct id, type, status code, the stable code in the body. */
export type JsonGatewayResponse = readonly [string, apigw.ResponseType, string, string];

/** The refusals every API of the platform answers as JSON, each with a stable code. */
export const COMMON_GATEWAY_RESPONSES: readonly JsonGatewayResponse[] = [
  ['BadParameters', apigw.ResponseType.BAD_REQUEST_PARAMETERS, '400', 'MISSING_PARAMETER'],
  ['AccessDenied', apigw.ResponseType.ACCESS_DENIED, '403', 'FORBIDDEN'],
  ['Unauthorized', apigw.ResponseType.UNAUTHORIZED, '401', 'UNAUTHORIZED'],
  ['MissingToken', apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, '403', 'FORBIDDEN'],
  ['Throttled', apigw.ResponseType.THROTTLED, '429', 'THROTTLED'],
  ['QuotaExceeded', apigw.ResponseType.QUOTA_EXCEEDED, '429', 'QUOTA_EXCEEDED'],
  ['Timeout', apigw.ResponseType.INTEGRATION_TIMEOUT, '504', 'TIMEOUT'],
  ['Default5xx', apigw.ResponseType.DEFAULT_5XX, '502', 'GATEWAY_ERROR'],
];

/** API Gateway's own refusals in the platform's JSON error shape (`{"code", "message"}`), the common ones and `extra`. */
export function addJsonGatewayResponses(api: apigw.RestApi, extra: readonly JsonGatewayResponse[] = []): void {
  for (const [id, type, statusCode, code] of [...COMMON_GATEWAY_RESPONSES, ...extra]) {
    api.addGatewayResponse(id, { type, statusCode, templates: { 'application/json': `{"code":"${code}","message":$context.error.messageString}` } });
  }
}

/**
 * A regional WAF web ACL on `resourceArn` (an API stage), built in `scope`: AWS's common and
 * known-bad-inputs rule groups and a rate limit per client IP over five minutes; what it decided for
 * each request is logged to an encrypted group (WAF requires the aws-waf-logs- prefix), the
 * authorization header and the API key redacted.
 */
export function addRegionalWaf(scope: Construct, resourceArn: string, name: string, requestsPerFiveMinutesPerIp: number, logSettings: LogGroupSettings): wafv2.CfnWebACL {
  const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
  const managed = (group: string, priority: number) => ({
    name: group,
    priority,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: group } },
    visibilityConfig: visibility(group),
  });
  const acl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    name: `${name}-acl`,
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: visibility(`${name}-acl`),
    rules: [
      managed('AWSManagedRulesCommonRuleSet', 0),
      managed('AWSManagedRulesKnownBadInputsRuleSet', 1),
      {
        name: 'RateLimitPerIp',
        priority: 2,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: requestsPerFiveMinutesPerIp, aggregateKeyType: 'IP' } },
        visibilityConfig: visibility('RateLimitPerIp'),
      },
    ],
  });
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn, webAclArn: acl.attrArn });
  const wafLogs = encryptedLogGroup(scope, 'WafLogs', `aws-waf-logs-${name}`, logSettings);
  new wafv2.CfnLoggingConfiguration(scope, 'WafLogging', {
    resourceArn: acl.attrArn,
    logDestinationConfigs: [Stack.of(scope).formatArn({ service: 'logs', resource: 'log-group', resourceName: wafLogs.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    // The SigV4 signature, a Cognito token and an API key stay out of the log.
    redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'x-api-key' } }],
  });
  return acl;
}
