/**
 * Per-stage settings of the AWS deployment. The stage is chosen with `cdk synth|deploy -c stage=...`
 * and nothing else differs between stages unless it is written down here.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export const STAGES = ['sandbox', 'production'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageConfig {
  stage: Stage;
  /** The issuing BIN the platform generates card numbers under (a 6-digit JCB IIN, 3528-3589). */
  cardBin: string;
  /**
   * Production keeps its data, keys and secrets when the stack (or a resource) is deleted, and the
   * table has deletion protection: losing the KMS key or the HMAC key makes every stored PAN and
   * every keyed-hash index unreadable. A sandbox is disposable.
   */
  retainData: boolean;
  /**
   * PCI DSS 10.7: keep audit trail history for at least a year. Log groups carry request logs, so
   * production keeps them a year; a sandbox keeps a month.
   */
  logRetention: RetentionDays;
  /** Default throttling of every API method (requests per second and burst), per stage. */
  apiThrottle: { rateLimit: number; burstLimit: number };
  /**
   * Where the account-level extended public keys of deposit addresses come from (`WALLET_XPUB_*`).
   * `ssm`: the stage's SSM parameters `parameterNames(stage).walletXpub(family)`, resolved by
   * CloudFormation at deploy time (a missing parameter fails the deploy, and the function itself
   * refuses to start without keys). `sandbox-test-keys`: none are set, so the functions use the
   * labelled test keys of a public mnemonic (shared/services/wallet-keys.ts).
   */
  walletKeys: 'ssm' | 'sandbox-test-keys';
  /**
   * Where the money settings the operator owns come from (shared/services/operator-settings.ts):
   * the FX rate table, the FX fee and the deposit fee. `ssm`: the stage's SSM parameters
   * `parameterNames(stage).fxRates`, `.fxFeeBps` and `.depositFeeBps`, which the operator creates
   * before the first deploy (the deploy fails without them) and changes whenever the treasury does;
   * the functions whose row names a setting read them at runtime, cached for a minute, with
   * `ssm:GetParameter` on exactly those. `sandbox-defaults`: none; the sandbox rate table (never
   * stale), a 1% FX fee and no deposit fee.
   */
  operatorSettings: 'ssm' | 'sandbox-defaults';
  /** How old a rate table (its `as_of`) may be before a conversion declines `fx_rate_unavailable`. */
  fxRateMaxAge: Duration;
}

const STAGE_CONFIGS: Record<Stage, StageConfig> = {
  sandbox: {
    stage: 'sandbox',
    cardBin: '356772',
    retainData: false,
    logRetention: RetentionDays.ONE_MONTH,
    apiThrottle: { rateLimit: 50, burstLimit: 100 },
    walletKeys: 'sandbox-test-keys',
    operatorSettings: 'sandbox-defaults',
    fxRateMaxAge: Duration.hours(24),
  },
  production: {
    stage: 'production',
    cardBin: '356772',
    retainData: true,
    logRetention: RetentionDays.ONE_YEAR,
    apiThrottle: { rateLimit: 500, burstLimit: 1000 },
    walletKeys: 'ssm',
    operatorSettings: 'ssm',
    // Rates are fixed once a day; a table that missed a day's update declines conversions.
    fxRateMaxAge: Duration.hours(24),
  },
};

const JCB_BIN = /^35(2[89]|[3-8]\d)\d{2}$/;

/**
 * Reads the stage from the `stage` context value and refuses anything but a known stage, so a typo
 * (`-c stage=prod`) fails the synth instead of deploying a stack nobody asked for.
 */
export function parseStage(value: unknown): Stage {
  if (typeof value === 'string' && (STAGES as readonly string[]).includes(value)) return value as Stage;
  throw new Error(
    `Unknown stage ${JSON.stringify(value)}: pass -c stage=sandbox or -c stage=production (cdk.json defaults to sandbox).`,
  );
}

/** The settings of a stage, with an optional card BIN override (`-c cardBin=...`). */
export function stageConfig(stage: Stage, overrides: { cardBin?: unknown } = {}): StageConfig {
  const config = STAGE_CONFIGS[stage];
  if (overrides.cardBin === undefined) return config;
  if (typeof overrides.cardBin !== 'string' || !JCB_BIN.test(overrides.cardBin)) {
    throw new Error(`cardBin ${JSON.stringify(overrides.cardBin)} is not a 6-digit JCB BIN (3528-3589).`);
  }
  return { ...config, cardBin: overrides.cardBin };
}

export function removalPolicyOf(config: StageConfig): RemovalPolicy {
  return config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** The CloudFormation stack name of a stage. */
export function stackName(stage: Stage): string {
  return `CardPlatform-${stage}`;
}

/**
 * SSM parameters a deployed stage publishes so the admin CLI (`npm run admin -- --stage <stage>`)
 * can find it without knowing CloudFormation outputs or generated names:
 *
 * - `/card-platform/<stage>/table-name`        the DynamoDB table
 * - `/card-platform/<stage>/kms-key-arn`       the envelope-encryption CMK
 * - `/card-platform/<stage>/mac-keys/<purpose>` the KMS HMAC key of each keyed-hash purpose
 * - `/card-platform/<stage>/api-url`           the API's base URL (ends with `/`)
 * - `/card-platform/<stage>/queues/<name>/url` and `/queues/<name>/dlq-url` for each queue
 * - `/card-platform/<stage>/stream-dlq-url`    failures of the table-stream consumers
 *
 * and, created by the operator before deploying a stage whose `walletKeys` is `ssm`:
 *
 * - `/card-platform/<stage>/wallet-xpubs/<btc|evm|tron>` the account-level extended public keys
 *   deposit addresses derive from (public keys: String parameters, no private key ever)
 *
 * and, created by the operator before deploying a stage whose `operatorSettings` is `ssm`, then
 * changed at will (String parameters; functions read them at runtime):
 *
 * - `/card-platform/<stage>/fx/rates`          `{ "as_of": RFC 3339, "usd_values": { "HKD": "0.128", … } }`
 * - `/card-platform/<stage>/fx/fee-bps`        the FX fee, basis points of the converted amount
 * - `/card-platform/<stage>/deposits/fee-bps`  the stablecoin deposit fee, basis points of the USD credited
 */
export function parameterNames(stage: Stage) {
  const prefix = `/card-platform/${stage}`;
  return {
    tableName: `${prefix}/table-name`,
    kmsKeyArn: `${prefix}/kms-key-arn`,
    macKeyArn: (purpose: string) => `${prefix}/mac-keys/${purpose}`,
    apiUrl: `${prefix}/api-url`,
    streamDlqUrl: `${prefix}/stream-dlq-url`,
    queueUrl: (queue: string) => `${prefix}/queues/${queue}/url`,
    queueDlqUrl: (queue: string) => `${prefix}/queues/${queue}/dlq-url`,
    walletXpub: (family: 'btc' | 'evm' | 'tron') => `${prefix}/wallet-xpubs/${family}`,
    fxRates: `${prefix}/fx/rates`,
    fxFeeBps: `${prefix}/fx/fee-bps`,
    depositFeeBps: `${prefix}/deposits/fee-bps`,
  };
}
