/**
 * The one Lambda function shape of the platform: every default (runtime, ARM, memory, tracing,
 * logging, bundling) lives here, so a route row only says which handler module and what access.
 *
 * Bundling runs the project's own `esbuild` (no Docker), into one ESM file per function.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';
import { ManagedPolicyRole } from './managed-policy-role.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FUNCTIONS_DIR = join(REPO_ROOT, 'functions');

/**
 * `release`: minified, with source maps (what `cdk synth`/`deploy` ship).
 * `fast`: the same bundle without minification and source maps, for template tests on slow
 * machines. Both really bundle every handler, so a missing import still fails.
 */
export type BundlingMode = 'release' | 'fast';

/**
 * esbuild's ESM output cannot `require()`; a few dependencies (CommonJS inside the AWS SDK and the
 * Encryption SDK) still do, so every bundle starts by defining a real `require`.
 */
const REQUIRE_BANNER =
  "import { createRequire as __platformCreateRequire } from 'node:module'; const require = __platformCreateRequire(import.meta.url);";

export interface PlatformFunctionProps {
  /** The module under `functions/` (no `.ts`) that exports `handler`, e.g. `users/create-user`. */
  handlerModule: string;
  description: string;
  timeout: Duration;
  config: StageConfig;
  /** Encrypts the function's log group. */
  logsKey: kms.IKey;
  environment: Record<string, string>;
  bundling: BundlingMode;
}

export class PlatformFunction extends NodejsFunction {
  declare readonly role: ManagedPolicyRole;
  readonly logGroupOfFunction: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    const entry = join(FUNCTIONS_DIR, `${props.handlerModule}.ts`);
    if (!existsSync(entry)) {
      throw new Error(`functions/${props.handlerModule}.ts does not exist (named by a row of functions/routes.ts)`);
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
    const release = props.bundling === 'release';

    super(scope, id, {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout: props.timeout,
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
      bundling: {
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: REQUIRE_BANNER,
        // Ship the SDK versions the tests ran against rather than whatever the runtime carries.
        bundleAwsSDK: true,
        minify: release,
        sourceMap: release,
        sourcesContent: false,
        // esbuild's size summary on every function is noise; keep its warnings in release builds.
        logLevel: release ? LogLevel.WARNING : LogLevel.ERROR,
        forceDockerBundling: false,
      },
    });
    logGroup.grantWrite(role);
    this.logGroupOfFunction = logGroup;
  }
}
