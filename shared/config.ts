/**
 * Runtime configuration, read once per cold start from the environment and validated, so a
 * misconfigured function fails fast at its first invocation instead of misbehaving later.
 *
 * The same variables are set by the CDK stack (in AWS) and by the local stack (on a laptop).
 * Endpoints of the emulators come from the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables, so no
 * code path differs between the two.
 */
import * as z from 'zod';
import { DEFAULT_HOLD_EXPIRY, HoldExpiryPolicySchema } from './domain/hold-expiry.ts';
import { SWEEP_GRACE_SECONDS } from './domain/webhook-sweep-grace.ts';

const Stage = z.enum(['sandbox', 'production']);
const ParameterName = z.string().regex(/^\/[\w./-]+$/, 'must be an SSM parameter name such as /card-platform/production/fx/rates');
export type Stage = z.infer<typeof Stage>;

const ConfigSchema = z.object({
  STAGE: Stage.default('sandbox'),
  TABLE_NAME: z.string().min(1),
  /**
   * `kms`: AWS KMS keyring and KMS HMAC keys (their ARNs in `MAC_KEY_ARN_<PURPOSE>`, set only for the
   * purposes a function's row lists). `local`: raw AES and HMAC keys from a file.
   */
  KEY_SOURCE: z.enum(['kms', 'local']).default('kms'),
  KMS_KEY_ARN: z.string().optional(),
  LOCAL_KEY_FILE: z.string().optional(),
  CARD_BIN: z.string().regex(/^35(2[89]|[3-8]\d)\d{2}$/, 'must be a 6-digit JCB BIN (3528-3589)').default('356772'),
  /**
   * SSM parameter names of the money settings the operator sets (shared/services/operator-settings.ts),
   * set only on the functions whose row reads them: the FX rate table, the FX fee and the deposit
   * fee. Unset in the sandbox and the local stack, which use the sandbox defaults; production
   * never does, and refuses to convert (or to charge a deposit fee) without them.
   */
  FX_RATES_PARAMETER: ParameterName.optional(),
  FX_FEE_BPS_PARAMETER: ParameterName.optional(),
  DEPOSIT_FEE_BPS_PARAMETER: ParameterName.optional(),
  /** How old a rate table (its `as_of`) may be before a conversion declines `fx_rate_unavailable`. */
  FX_RATE_MAX_AGE_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400),
  /**
   * Account-level extended public keys that deposit addresses derive from (shared/services/wallet-keys.ts):
   * BTC `m/84'/0'/0'` (xpub or zpub), EVM `m/44'/60'/0'` (ETH, BSC, POLYGON), TRON `m/44'/195'/0'`.
   * Required in production; the sandbox falls back to labelled test keys.
   */
  WALLET_XPUB_BTC: z.string().optional(),
  WALLET_XPUB_EVM: z.string().optional(),
  WALLET_XPUB_TRON: z.string().optional(),
  OTP_QUEUE_URL: z.string().optional(),
  EVENTS_QUEUE_URL: z.string().optional(),
  /** A webhook attempt must get its response status within this (API.md: 10 s). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(10_000),
  /**
   * Multiplies every webhook retry delay. 1 in AWS; integration tests use 0 to retry at once. The
   * queues' maxReceiveCount is fixed by the nominal schedule, so anything but 1 shortens the window.
   */
  WEBHOOK_RETRY_DELAY_SCALE: z.coerce.number().min(0).max(1).default(1),
  /**
   * The webhook sweeper (shared/services/webhook-sweeper.ts): how long past its due time an
   * undelivered event waits before it is presumed lost and queued again, and how many events one
   * run takes at most (oldest due first; the next run takes the rest).
   */
  WEBHOOK_SWEEP_GRACE_SECONDS: z.coerce.number().int().min(1).max(24 * 60 * 60).default(SWEEP_GRACE_SECONDS),
  WEBHOOK_SWEEP_LIMIT: z.coerce.number().int().min(1).max(1000).default(200),
  /** The table-stream consumers' on-failure queue (operators only: `npm run admin -- dead-letters`). */
  STREAM_DLQ_URL: z.string().optional(),
  /**
   * `allow` lets webhooks reach loopback and private addresses; set only by the local stack (and
   * unit tests), for receivers on a developer's machine. In AWS these ranges hold the Lambda
   * Runtime API and the metadata service (SSRF), so the CDK stack never sets it: deployed stages,
   * sandbox included, deny (shared/domain/webhook-addresses.ts).
   */
  WEBHOOK_PRIVATE_ADDRESSES: z.enum(['deny', 'allow']).default('deny'),
  /**
   * How long a warm authorization function trusts the business's default spending controls it read
   * (shared/services/controls.ts): a change of them reaches every authorization within this. 0
   * reads them on every authorization (one more read on the approve path).
   */
  BUSINESS_CONTROLS_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /**
   * How long an authorization's hold lasts before the platform releases it, by MCC
   * (shared/domain/hold-expiry.ts), as JSON: set per stage from infra/stage-config.ts `holdExpiry`.
   */
  HOLD_EXPIRY_DAYS: z
    .string()
    .default(JSON.stringify(DEFAULT_HOLD_EXPIRY))
    .transform((text, ctx) => {
      try {
        return HoldExpiryPolicySchema.parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON such as {"defaultDays":7,"daysByMcc":{"7011":30}}' });
        return z.NEVER;
      }
    }),
  /**
   * The hold-expiry sweeper: how long one run keeps paging through due holds (the next run, 5
   * minutes later, takes the rest; below the function's 300 s timeout), and how many it releases
   * at once.
   */
  HOLD_EXPIRY_SWEEP_SECONDS: z.coerce.number().int().min(1).max(280).default(240),
  HOLD_EXPIRY_SWEEP_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(16),
  POWERTOOLS_SERVICE_NAME: z.string().default('card-platform'),
});

export type Config = z.infer<typeof ConfigSchema>;

let cached: Config | undefined;

/** The validated configuration. Throws (at cold start) with the offending variable names. */
export function config(): Config {
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const value = parsed.data;
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
