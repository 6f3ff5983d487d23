/**
 * The REST API: one method per route row, each behind the Lambda REQUEST authorizer of its
 * credential kind, on a stage named after the deployment stage.
 *
 * Logging never includes bodies or headers: they carry API keys, card numbers and eKYC data.
 * Execution logs are ERROR-level with data trace off; access logs are one JSON line of ids,
 * status and latency per request.
 *
 * The API, its stage, authorizers and the version's path resource (`/v1`) stay in the root stack.
 * Everything a route adds lives in its area's nested stack (function-stacks.ts): its function, the
 * path resources below the version (`cards`, `{id}`, `lock`: an area's subtree is its own, since
 * the area is the first segment after the version), its method, and API Gateway's permission to
 * invoke the function. So the root does not grow with the route table. The permission names the
 * method by the stage's literal name: a reference to the API stage would make the nested stack
 * wait for the deployment, which waits for the methods, which wait for the nested stack. The
 * deployment depends on every method and resource wherever it lives, and its logical id hashes
 * them (CDK does both for a method of this API in any stack), so a route change redeploys the stage.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Access, RouteRow } from '../../shared/routes.ts';
import type { CredentialKind } from '../../shared/domain/credentials.ts';
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
  authorizers: Record<CredentialKind, { handler: string; access: Access }>;
  makeFunction: FunctionFactory;
  /** Where a route's function is built (its area's nested stack); authorizers stay in this construct. */
  routeScope: (row: RouteRow) => Construct;
}

export class PlatformApi extends Construct {
  readonly api: apigw.RestApi;
  readonly account: ApiGatewayAccount;
  /** The authorizer of each credential kind that at least one route of this stage uses. */
  readonly authorizers = new Map<CredentialKind, apigw.RequestAuthorizer>();
  /** The function of each route row, and of each authorizer. */
  readonly routeFunctions = new Map<RouteRow, PlatformFunction>();
  readonly authorizerFunctions = new Map<CredentialKind, PlatformFunction>();
  /** Path resources by path (`/v1/cards/{id}`), wherever they live. */
  private readonly resources = new Map<string, apigw.IResource>();
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
      const fn = props.makeFunction(props.routeScope(row), {
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
      // What LambdaIntegration does, with the permission on the function's side (no console test invoke).
      const target = fn.invocationTarget;
      target.addPermission(`ApiPermission${pascal(`${row.method} ${row.path}`)}`, {
        principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        sourceArn: this.api.arnForExecuteApi(row.method, row.path.replace(/\{[^}]*\}/g, '*'), config.stage),
      });
      const integration = new apigw.AwsIntegration({ proxy: true, service: 'lambda', path: `2015-03-31/functions/${target.functionArn}/invocations` });
      // A public row (the API description and its reference page) has no authorizer and no key.
      const guard =
        row.credential === 'public'
          ? { authorizationType: apigw.AuthorizationType.NONE }
          : { authorizationType: apigw.AuthorizationType.CUSTOM, authorizer: this.authorizerFor(row.credential, props) };
      const scope = props.routeScope(row);
      new apigw.Method(scope, `ApiMethod${pascal(route)}`, {
        resource: this.resourceFor(row.path, scope),
        httpMethod: row.method,
        integration,
        options: {
          ...guard,
          requestParameters,
          requestValidator: validator,
          // Only when every business has its usage plan key: a request without one would be a 403.
          apiKeyRequired: row.credential === 'business' && config.businessUsagePlan.enforced,
        },
      });
    }
  }

  /**
   * The path resource of `path`, creating what is missing: a version segment (`/v1`) in this
   * construct, shared by every area; each segment after it in `areaScope`, the area's nested stack.
   */
  private resourceFor(path: string, areaScope: Construct): apigw.IResource {
    let resource: apigw.IResource = this.api.root;
    let prefix = '';
    for (const [index, pathPart] of path.split('/').filter(Boolean).entries()) {
      prefix += `/${pathPart}`;
      let next = this.resources.get(prefix);
      if (!next) {
        const shared = index === 0 && /^v\d+$/.test(pathPart);
        next = new apigw.Resource(shared ? this : areaScope, `ApiPath${pascal(prefix)}`, { parent: resource, pathPart });
        this.resources.set(prefix, next);
      }
      resource = next;
    }
    return resource;
  }

  /** The base URL of the stage, ending with `/`. */
  get url(): string {
    return this.api.url;
  }

  private authorizerFor(credential: CredentialKind, props: PlatformApiProps): apigw.RequestAuthorizer {
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
