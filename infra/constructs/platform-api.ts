/**
 * The REST API: one method per route row, each behind the Lambda REQUEST authorizer of its
 * credential kind, on a stage named after the deployment stage.
 *
 * Logging never includes bodies or headers: they carry API keys, card numbers and eKYC data.
 * Execution logs are ERROR-level with data trace off; access logs are one JSON line of ids,
 * status and latency per request.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Access, Credential, RouteRow } from '../../functions/routes.ts';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';
import { ApiGatewayAccount } from './api-gateway-account.ts';
import type { FunctionFactory } from './function-factory.ts';
import { addErrorResponses } from './gateway-responses.ts';
import { pascal } from './naming.ts';
import type { PlatformFunction } from './platform-function.ts';

/** How long API Gateway caches an authorizer's policy per `Authorization` header value. */
export const AUTHORIZER_CACHE_TTL = Duration.minutes(5);
export const API_TIMEOUT = Duration.seconds(10);

/** One JSON line per request: who (business id from the authorizer), what, outcome, timings. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integration.latency',
  integrationStatus: '$context.integration.status',
  businessId: '$context.authorizer.businessId',
  authorizerStatus: '$context.authorizer.status',
  authorizerError: '$context.authorizer.error',
  wafStatus: '$context.waf.status',
  errorType: '$context.error.responseType',
  xrayTraceId: '$context.xrayTraceId',
});

export interface PlatformApiProps {
  config: StageConfig;
  logsKey: kms.IKey;
  routes: readonly RouteRow[];
  authorizers: Record<Credential, { handler: string; access: Access }>;
  makeFunction: FunctionFactory;
}

export class PlatformApi extends Construct {
  readonly api: apigw.RestApi;
  readonly account: ApiGatewayAccount;
  /** The authorizer of each credential kind that at least one route of this stage uses. */
  readonly authorizers = new Map<Credential, apigw.RequestAuthorizer>();
  /** The function of each route row, and of each authorizer. */
  readonly routeFunctions = new Map<RouteRow, PlatformFunction>();
  readonly authorizerFunctions = new Map<Credential, PlatformFunction>();
  /** The usage plan every business's API key joins unless it has one of its own (stage-config.ts). */
  readonly defaultBusinessUsagePlan: apigw.UsagePlan;

  constructor(scope: Construct, id: string, props: PlatformApiProps) {
    super(scope, id);
    const { config } = props;
    const logGroupProps = { retention: config.logRetention, encryptionKey: props.logsKey, removalPolicy: removalPolicyOf(config) };
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', logGroupProps);

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `card-platform-${config.stage}`,
      description: `Card platform API (${config.stage})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Usage plans find a request's API key in the authorizer's `usageIdentifierKey` (the
      // business), never in a header a client could choose.
      apiKeySourceType: apigw.ApiKeySourceType.AUTHORIZER,
      // The account-level CloudWatch role is ours (no AWS managed policy): see ApiGatewayAccount.
      cloudWatchRole: false,
      deployOptions: {
        stageName: config.stage,
        tracingEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: config.apiThrottle.rateLimit,
        throttlingBurstLimit: config.apiThrottle.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    // API Gateway would create the execution log group itself, unencrypted and kept forever;
    // creating it first (same name) gives it the stage's retention and the logs key.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      ...logGroupProps,
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${config.stage}`,
    });
    this.account = new ApiGatewayAccount(this, 'Account');
    this.api.deploymentStage.node.addDependency(executionLogs, this.account);

    addErrorResponses(this.api);

    this.defaultBusinessUsagePlan = this.api.addUsagePlan('DefaultBusinessPlan', {
      name: `card-platform-${config.stage}-business-default`,
      description: "Each business's own throttle on the partner API, unless an operator gave it another plan",
      throttle: { rateLimit: config.businessUsagePlan.rateLimit, burstLimit: config.businessUsagePlan.burstLimit },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });

    // API Gateway checks the declared (required) path parameters. It checks a body only against a
    // request model, and no method has one: each handler's zod schema is the one validation of
    // bodies and query strings, and renders API.md's `fields` list. Body validation stays on so a
    // model added to a method later is enforced.
    const validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    for (const row of props.routes) {
      const route = `${row.method} ${row.path}`;
      const fn = props.makeFunction(this, {
        handlerModule: row.handler,
        description: route,
        timeout: API_TIMEOUT,
        access: row.access,
        // The card network's calls keep capacity of their own, whatever partners do to the rest.
        reservedConcurrency: config.reservedConcurrency[route],
      });
      this.routeFunctions.set(row, fn);
      const requestParameters = Object.fromEntries(
        [...row.path.matchAll(/\{([^}]+)\}/g)].map((match) => [`method.request.path.${match[1]}`, true]),
      );
      this.api.root.resourceForPath(row.path).addMethod(row.method, new apigw.LambdaIntegration(fn.invocationTarget, { allowTestInvoke: false }), {
        authorizationType: apigw.AuthorizationType.CUSTOM,
        authorizer: this.authorizerFor(row.credential, props),
        requestParameters,
        requestValidator: validator,
        // Only when every business has its usage plan key: a request without one would be a 403.
        apiKeyRequired: row.credential === 'business' && config.businessUsagePlan.enforced,
      });
    }
  }

  /** The base URL of the stage, ending with `/`. */
  get url(): string {
    return this.api.url;
  }

  private authorizerFor(credential: Credential, props: PlatformApiProps): apigw.RequestAuthorizer {
    const existing = this.authorizers.get(credential);
    if (existing) return existing;
    const row = props.authorizers[credential];
    const handler = props.makeFunction(this, {
      handlerModule: row.handler,
      description: `Authorizer of ${credential} credentials`,
      timeout: API_TIMEOUT,
      access: row.access,
    });
    this.authorizerFunctions.set(credential, handler);
    const authorizer = new apigw.RequestAuthorizer(this, `${pascal(credential)}Authorizer`, {
      handler: handler.invocationTarget,
      identitySources: [apigw.IdentitySource.header('Authorization')],
      resultsCacheTtl: AUTHORIZER_CACHE_TTL,
    });
    this.authorizers.set(credential, authorizer);
    return authorizer;
  }
}
