/**
 * Per-stage settings of the AWS deployment. The stage is chosen with `cdk synth|deploy -c stage=...`
 * and nothing else differs between stages unless it is written down here.
 */
import { isIPv4, isIPv6 } from 'node:net';
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
   * Where the card network and the chain watcher call from, as IPv4/IPv6 CIDRs. When set, the WAF
   * blocks every `/network/...` request from any other address (403 `forbidden`), a second lock
   * besides their keys: a leaked network key is useless from elsewhere. Unset: no such rule. Set it
   * here per stage, or at deploy time with `-c networkAllowedCidrs=203.0.113.0/24,2001:db8::/48`.
   */
  networkAllowedCidrs?: string[];
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

/**
 * The settings of a stage, with optional overrides from CDK context: the card BIN
 * (`-c cardBin=...`) and the `/network/...` allow list (`-c networkAllowedCidrs=a/n,b/m`, or a list under
 * `context` in cdk.json). Every value is checked here, so a typo fails the synth instead of deploying.
 */
export function stageConfig(stage: Stage, overrides: { cardBin?: unknown; networkAllowedCidrs?: unknown } = {}): StageConfig {
  let config = STAGE_CONFIGS[stage];
  if (overrides.cardBin !== undefined) {
    if (typeof overrides.cardBin !== 'string' || !JCB_BIN.test(overrides.cardBin)) {
      throw new Error(`cardBin ${JSON.stringify(overrides.cardBin)} is not a 6-digit JCB BIN (3528-3589).`);
    }
    config = { ...config, cardBin: overrides.cardBin };
  }
  if (overrides.networkAllowedCidrs !== undefined) config = { ...config, networkAllowedCidrs: parseCidrList(overrides.networkAllowedCidrs) };
  else if (config.networkAllowedCidrs !== undefined) parseCidrList(config.networkAllowedCidrs);
  return config;
}

/**
 * A list of CIDRs (an array, or one comma-separated string as `-c` passes it), each an IPv4 or
 * IPv6 network address with a prefix length. Refused: an empty list (it would lock the card
 * network out; leave the setting unset for no rule), `/0` (WAF refuses it, and it allows
 * everyone), and an address with bits set past its prefix (`203.0.113.7/24`: which network was
 * meant?).
 */
export function parseCidrList(value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',').map((entry) => entry.trim()).filter(Boolean) : value;
  if (!Array.isArray(list) || list.some((entry) => typeof entry !== 'string')) {
    throw new Error(`networkAllowedCidrs must be a list of CIDRs, not ${JSON.stringify(value)}.`);
  }
  if (list.length === 0) throw new Error('networkAllowedCidrs is empty: that would block the card network entirely; leave it unset for no allow list.');
  for (const cidr of list as string[]) {
    const problem = cidrProblem(cidr);
    if (problem) throw new Error(`networkAllowedCidrs: "${cidr}" ${problem}.`);
  }
  return list as string[];
}

function cidrProblem(cidr: string): string | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!match) return 'is not address/prefix';
  const [, address, prefixText] = match as unknown as [string, string, string];
  const prefix = Number(prefixText);
  const bits = isIPv4(address) ? 32 : isIPv6(address) && !address.includes('.') ? 128 : 0;
  if (bits === 0) return 'is not an IPv4 or IPv6 address (write IPv4 ranges in dotted form, not inside IPv6)';
  if (prefix < 1 || prefix > bits) return `needs a prefix length from 1 to ${bits}`;
  const value = bits === 32 ? ipv4Value(address) : ipv6Value(address);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((value & hostMask) !== 0n) return 'has bits set past its prefix length (write the network address)';
  return undefined;
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** A valid IPv6 address without an embedded IPv4 part, as a 128-bit number. */
function ipv6Value(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
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
