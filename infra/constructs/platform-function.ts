/**
 * The one Lambda function shape of the platform: every default (runtime, ARM, memory, tracing,
 * logging, bundling) lives here, so a route row only says which handler module and what access.
 *
 * On a stage that deploys by canary, each function also has a `live` alias on its current
 * version, and everything that invokes it (API Gateway, authorizers, event sources) invokes the
 * alias, so CodeDeploy can shift traffic between versions (canary-deployments.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';
import { entryOf, MAIN_FIELDS, prebundledDir, REPO_ROOT, REQUIRE_BANNER } from './bundling.ts';
import { ManagedPolicyRole } from './managed-policy-role.ts';

export interface PlatformFunctionProps {
  /** The module under `functions/` (no `.ts`) that exports `handler`, e.g. `users/create-user`. */
  handlerModule: string;
  description: string;
  timeout: Duration;
  config: StageConfig;
  /** Encrypts the function's log group. */
  logsKey: kms.IKey;
  environment: Record<string, string>;
  /** `release` bundles here; otherwise the directory `prebundle()` wrote every handler to. */
  bundling: 'release' | { prebundledIn: string };
  /** Concurrency set aside for (and capping) this function (stage config `reservedConcurrency`). */
  reservedConcurrency?: number;
  /** Execution environments kept initialised on the `live` alias (canary stages only); none by default. */
  provisionedConcurrency?: number;
}

const RELEASE_BUNDLING = {
  format: OutputFormat.ESM,
  mainFields: MAIN_FIELDS,
  banner: REQUIRE_BANNER,
  // Ship the SDK versions the tests ran against rather than whatever the runtime carries.
  bundleAwsSDK: true,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  logLevel: LogLevel.WARNING,
  forceDockerBundling: false,
};

/** The alias API Gateway and the event sources invoke on a stage that deploys by canary. */
export const LIVE_ALIAS = 'live';

export class PlatformFunction extends NodejsFunction {
  declare readonly role: ManagedPolicyRole;
  readonly logGroupOfFunction: logs.LogGroup;
  /** The `live` alias, on a stage that deploys by canary. */
  readonly liveAlias?: lambda.Alias;
  /** What invokers call: the `live` alias when there is one, the function itself otherwise. */
  readonly invocationTarget: lambda.IFunction;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    const entry = entryOf(props.handlerModule);
    if (!existsSync(entry)) {
      throw new Error(`functions/${props.handlerModule}.ts does not exist (named by a row of shared/routes.ts)`);
    }
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.config.logRetention,
      encryptionKey: props.logsKey,
      removalPolicy: removalPolicyOf(props.config),
    });
    // No AWS managed policy (AWSLambdaBasicExecutionRole): the function may write to its own
    // log group and nothing else.
    const role = new ManagedPolicyRole(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (${props.config.stage})`,
    });
    const bundling = props.bundling;

    super(scope, id, {
      ...(bundling === 'release'
        ? { entry, handler: 'handler', bundling: RELEASE_BUNDLING }
        : { code: lambda.Code.fromAsset(prebundledDir(bundling.prebundledIn, props.handlerModule)), handler: 'index.handler' }),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: 'card-platform',
        NODE_OPTIONS: '--enable-source-maps',
      },
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      projectRoot: REPO_ROOT,
    });
    logGroup.grantWrite(role);
    this.logGroupOfFunction = logGroup;
    if (props.config.deployment.kind === 'canary') {
      // Published versions are kept (CDK's default): rolling back by hand points the alias at the
      // previous one.
      this.liveAlias = new LiveAlias(this, 'Live', {
        aliasName: LIVE_ALIAS,
        version: this.currentVersion,
        provisionedConcurrentExecutions: props.provisionedConcurrency || undefined,
      });
    } else if (props.provisionedConcurrency) {
      throw new Error(`functions/${props.handlerModule}: provisioned concurrency needs the live alias of a canary stage`);
    }
    this.invocationTarget = this.liveAlias ?? this;
  }
}

/**
 * The `live` alias, whose event-source mappings stay where the function's were in the construct
 * tree. A mapping created under the alias would get a new logical id, so switching a stage to
 * canary deploys would replace the table stream's mapping, and the new one would start again from
 * the oldest record (TRIM_HORIZON): a day of outbox events dispatched twice. With the same logical
 * id CloudFormation updates the mapping's function in place, and it keeps its position.
 */
class LiveAlias extends lambda.Alias {
  override addEventSourceMapping(id: string, options: lambda.EventSourceMappingOptions): lambda.EventSourceMapping {
    return new lambda.EventSourceMapping(this.lambda, id, { target: this, ...options });
  }
}
