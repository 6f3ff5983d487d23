/**
 * Runtime configuration, read once per cold start from the environment and validated, so a
 * misconfigured function fails fast at its first invocation instead of misbehaving later.
 *
 * The same variables are set by the CDK stack (in AWS) and by the local stack (on a laptop).
 * Endpoints of the emulators come from the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables, so no
 * code path differs between the two.
 *
 * Validated by hand rather than with zod: this module is in every bundle, and zod (~100 KB
 * minified) would be the only reason the authorizers, consumers and schedules carry it
 * (docs/cold-start.md). Each problem names its variable.
 */
import { DEFAULT_HOLD_EXPIRY, type HoldExpiryPolicy, holdExpiryPolicyProblems } from './domain/hold-expiry.ts';
import { SWEEP_GRACE_SECONDS } from './domain/webhook-sweep-grace.ts';

const STAGES = ['sandbox', 'production'] as const;
export type Stage = (typeof STAGES)[number];

export interface Config {
  STAGE: Stage;
  TABLE_NAME: string;
  /**
   * `kms`: AWS KMS keyring and KMS HMAC keys (their ARNs in `MAC_KEY_ARN_<PURPOSE>`, set only for the
   * purposes a function's row lists). `local`: raw AES and HMAC keys from a file.
   */
  KEY_SOURCE: 'kms' | 'local';
  KMS_KEY_ARN?: string;
  LOCAL_KEY_FILE?: string;
  /** A 6-digit JCB BIN (3528-3589). */
  CARD_BIN: string;
  /**
   * SSM parameter names of the money settings the operator sets (shared/services/operator-settings.ts),
   * set only on the functions whose row reads them: the FX rate table, the FX fee and the deposit
   * fee. Unset in the sandbox and the local stack, which use the sandbox defaults; production
   * never does, and refuses to convert (or to charge a deposit fee) without them.
   */
  FX_RATES_PARAMETER?: string;
  FX_FEE_BPS_PARAMETER?: string;
  DEPOSIT_FEE_BPS_PARAMETER?: string;
  /** How old a rate table (its `as_of`) may be before a conversion declines `fx_rate_unavailable`. */
  FX_RATE_MAX_AGE_SECONDS: number;
  /**
   * Account-level extended public keys that deposit addresses derive from (shared/services/wallet-keys.ts):
   * BTC `m/84'/0'/0'` (xpub or zpub), EVM `m/44'/60'/0'` (ETH, BSC, POLYGON), TRON `m/44'/195'/0'`.
   * Required in production; the sandbox falls back to labelled test keys.
   */
  WALLET_XPUB_BTC?: string;
  WALLET_XPUB_EVM?: string;
  WALLET_XPUB_TRON?: string;
  OTP_QUEUE_URL?: string;
  EVENTS_QUEUE_URL?: string;
  /** A webhook attempt must get its response status within this (API.md: 10 s). */
  WEBHOOK_TIMEOUT_MS: number;
  /**
   * Multiplies every webhook retry delay. 1 in AWS; integration tests use 0 to retry at once. The
   * queues' maxReceiveCount is fixed by the nominal schedule, so anything but 1 shortens the window.
   */
  WEBHOOK_RETRY_DELAY_SCALE: number;
  /**
   * The webhook sweeper (shared/services/webhook-sweeper.ts): how long past its due time an
   * undelivered event waits before it is presumed lost and queued again, and how many events one
   * run takes at most (oldest due first; the next run takes the rest).
   */
  WEBHOOK_SWEEP_GRACE_SECONDS: number;
  WEBHOOK_SWEEP_LIMIT: number;
  /** The table-stream consumers' on-failure queue (operators only: `npm run admin -- dead-letters`). */
  STREAM_DLQ_URL?: string;
  /**
   * `allow` lets webhooks reach loopback and private addresses; set only by the local stack (and
   * unit tests), for receivers on a developer's machine. In AWS these ranges hold the Lambda
   * Runtime API and the metadata service (SSRF), so the CDK stack never sets it: deployed stages,
   * sandbox included, deny (shared/domain/webhook-addresses.ts).
   */
  WEBHOOK_PRIVATE_ADDRESSES: 'deny' | 'allow';
  /**
   * How long a warm authorization function trusts the business's default spending controls it read
   * (shared/services/controls.ts): a change of them reaches every authorization within this. 0
   * reads them on every authorization (one more read on the approve path).
   */
  BUSINESS_CONTROLS_CACHE_SECONDS: number;
  /**
   * How long an authorization's hold lasts before the platform releases it, by MCC
   * (shared/domain/hold-expiry.ts), as JSON: set per stage from infra/stage-config.ts `holdExpiry`.
   */
  HOLD_EXPIRY_DAYS: HoldExpiryPolicy;
  /**
   * `on`: new B2B authorizations hold on the business balance's escrow shards (shared/services/escrow.ts).
   * `off`: on the pool, refilled from the shards if short. Every function of this release reads and
   * moves shards either way; `off` exists for the deploy that upgrades from a release that knew no
   * shards (README "Escrow sub-balances"). Set per stage from infra/stage-config.ts `escrowHolds`.
   */
  ESCROW_HOLDS: 'on' | 'off';
  /**
   * How new items are written; every function reads both formats. `release3`: an event's delivery
   * state on a delivery record of its own (shared/db/events-repository.ts; an event committed
   * without one moves its state there on its first delivery write), and list and sweeper index keys
   * over the full shard counts (shared/db/keys.ts). `release2`: as release 2 wrote them (the state
   * on the event item, nothing moved, 16 shards), so release-2 functions running beside (a canary)
   * or rolled back to see everything; writes still follow an event to its record if a `release3`
   * function made one. README "Upgrading from release 2". Set per stage from infra/stage-config.ts
   * `writeFormat`.
   */
  WRITE_FORMAT: 'release2' | 'release3';
  /**
   * The hold-expiry sweeper: how long one run keeps paging through due holds (the next run, 5
   * minutes later, takes the rest; below the function's 300 s timeout), and how many it releases
   * at once.
   */
  HOLD_EXPIRY_SWEEP_SECONDS: number;
  HOLD_EXPIRY_SWEEP_CONCURRENCY: number;
  POWERTOOLS_SERVICE_NAME: string;
}

const PARAMETER_NAME = /^\/[\w./-]+$/;
const CARD_BIN = /^35(2[89]|[3-8]\d)\d{2}$/;

/** Reads variables off an environment, collecting one problem per variable that is wrong. */
class EnvironmentReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  required(name: string): string {
    const value = this.env[name];
    if (value === undefined || value === '') this.problems.push(`${name}: is required`);
    return value ?? '';
  }

  optional(name: string, pattern?: RegExp, expected?: string): string | undefined {
    const value = this.env[name];
    if (value !== undefined && pattern && !pattern.test(value)) this.problems.push(`${name}: ${expected}`);
    return value;
  }

  matching(name: string, fallback: string, pattern: RegExp, expected: string): string {
    return this.optional(name, pattern, expected) ?? fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.env[name];
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}: must be one of ${allowed.join(', ')} (got "${value}")`);
    return fallback;
  }

  /** A number between `min` and `max` (an integer unless `fractional`), `fallback` when unset. */
  number(name: string, fallback: number, min: number, max: number, fractional = false): number {
    const text = this.env[name];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || (!fractional && !Number.isInteger(value)) || value < min || value > max) {
      this.problems.push(`${name}: must be ${fractional ? 'a number' : 'an integer'} from ${min} to ${max} (got "${text}")`);
      return fallback;
    }
    return value;
  }

  holdExpiry(name: string): HoldExpiryPolicy {
    const text = this.env[name];
    if (text === undefined) return DEFAULT_HOLD_EXPIRY;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const problems = parsed === undefined ? ['not JSON'] : holdExpiryPolicyProblems(parsed);
    if (problems.length === 0) return parsed as HoldExpiryPolicy;
    this.problems.push(`${name}: must be JSON such as {"defaultDays":7,"daysByMcc":{"7011":30}} (${problems.join('; ')})`);
    return DEFAULT_HOLD_EXPIRY;
  }
}

function readConfig(env: NodeJS.ProcessEnv): { value: Config; problems: string[] } {
  const read = new EnvironmentReader(env);
  const parameterName = 'must be an SSM parameter name such as /card-platform/production/fx/rates';
  const value: Config = {
    STAGE: read.oneOf('STAGE', STAGES, 'sandbox'),
    TABLE_NAME: read.required('TABLE_NAME'),
    KEY_SOURCE: read.oneOf('KEY_SOURCE', ['kms', 'local'] as const, 'kms'),
    KMS_KEY_ARN: read.optional('KMS_KEY_ARN'),
    LOCAL_KEY_FILE: read.optional('LOCAL_KEY_FILE'),
    CARD_BIN: read.matching('CARD_BIN', '356772', CARD_BIN, 'must be a 6-digit JCB BIN (3528-3589)'),
    FX_RATES_PARAMETER: read.optional('FX_RATES_PARAMETER', PARAMETER_NAME, parameterName),
    FX_FEE_BPS_PARAMETER: read.optional('FX_FEE_BPS_PARAMETER', PARAMETER_NAME, parameterName),
    DEPOSIT_FEE_BPS_PARAMETER: read.optional('DEPOSIT_FEE_BPS_PARAMETER', PARAMETER_NAME, parameterName),
    FX_RATE_MAX_AGE_SECONDS: read.number('FX_RATE_MAX_AGE_SECONDS', 86_400, 60, 30 * 86_400),
    WALLET_XPUB_BTC: read.optional('WALLET_XPUB_BTC'),
    WALLET_XPUB_EVM: read.optional('WALLET_XPUB_EVM'),
    WALLET_XPUB_TRON: read.optional('WALLET_XPUB_TRON'),
    OTP_QUEUE_URL: read.optional('OTP_QUEUE_URL'),
    EVENTS_QUEUE_URL: read.optional('EVENTS_QUEUE_URL'),
    WEBHOOK_TIMEOUT_MS: read.number('WEBHOOK_TIMEOUT_MS', 10_000, 100, 30_000),
    WEBHOOK_RETRY_DELAY_SCALE: read.number('WEBHOOK_RETRY_DELAY_SCALE', 1, 0, 1, true),
    WEBHOOK_SWEEP_GRACE_SECONDS: read.number('WEBHOOK_SWEEP_GRACE_SECONDS', SWEEP_GRACE_SECONDS, 1, 24 * 60 * 60),
    WEBHOOK_SWEEP_LIMIT: read.number('WEBHOOK_SWEEP_LIMIT', 200, 1, 1000),
    STREAM_DLQ_URL: read.optional('STREAM_DLQ_URL'),
    WEBHOOK_PRIVATE_ADDRESSES: read.oneOf('WEBHOOK_PRIVATE_ADDRESSES', ['deny', 'allow'] as const, 'deny'),
    BUSINESS_CONTROLS_CACHE_SECONDS: read.number('BUSINESS_CONTROLS_CACHE_SECONDS', 30, 0, 300),
    HOLD_EXPIRY_DAYS: read.holdExpiry('HOLD_EXPIRY_DAYS'),
    ESCROW_HOLDS: read.oneOf('ESCROW_HOLDS', ['on', 'off'] as const, 'on'),
    WRITE_FORMAT: read.oneOf('WRITE_FORMAT', ['release2', 'release3'] as const, 'release3'),
    HOLD_EXPIRY_SWEEP_SECONDS: read.number('HOLD_EXPIRY_SWEEP_SECONDS', 240, 1, 280),
    HOLD_EXPIRY_SWEEP_CONCURRENCY: read.number('HOLD_EXPIRY_SWEEP_CONCURRENCY', 16, 1, 64),
    POWERTOOLS_SERVICE_NAME: read.optional('POWERTOOLS_SERVICE_NAME') ?? 'card-platform',
  };
  return { value, problems: read.problems };
}

let cached: Config | undefined;

/** The validated configuration. Throws (at cold start) with the offending variable names. */
export function config(): Config {
  if (cached) return cached;
  const { value, problems } = readConfig(process.env);
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  if (value.KEY_SOURCE === 'kms' && !value.KMS_KEY_ARN) {
    throw new Error('Invalid configuration: KMS_KEY_ARN is required when KEY_SOURCE=kms');
  }
  if (value.KEY_SOURCE === 'local' && !value.LOCAL_KEY_FILE) {
    throw new Error('Invalid configuration: LOCAL_KEY_FILE is required when KEY_SOURCE=local');
  }
  if (value.KEY_SOURCE === 'local' && value.STAGE === 'production') {
    throw new Error('Invalid configuration: production must use KMS keys');
  }
  if (value.WEBHOOK_PRIVATE_ADDRESSES === 'allow' && value.STAGE === 'production') {
    throw new Error('Invalid configuration: production webhooks may not reach private addresses');
  }
  cached = value;
  return value;
}

/** Tests and the local stack change the environment between runs; this forgets the cached copy. */
export function resetConfigForTests(): void {
  cached = undefined;
}
