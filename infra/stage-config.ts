/**
 * Per-stage settings of the AWS deployment. The stage is chosen with `cdk synth|deploy -c stage=...`
 * and nothing else differs between stages unless it is written down here.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { routesForStage, type QueueName } from '../shared/routes.ts';
import { type HoldExpiryPolicy, holdExpiryPolicyProblems } from '../shared/domain/hold-expiry.ts';

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
   * Per-business throttling of the partner API (`/v1/...`): the stage's default usage plan, which
   * every business's API Gateway API key is meant to join. The business authorizer names the key
   * (`usageIdentifierKey`: the business id, the API key's value) and the API takes keys from the
   * authorizer only, so the value is an identifier, never a secret a client presents.
   * `enforced` sets `apiKeyRequired` on the `/v1/...` methods, and only then does API Gateway apply
   * the plan; a request of a business whose key is missing is then refused (403). `create-business`
   * gives each new business its key; on a stage that had businesses before, run
   * `npm run admin -- enroll-usage-keys --stage <stage>` before deploying with it on.
   */
  businessUsagePlan: { rateLimit: number; burstLimit: number; enforced: boolean };
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
  /**
   * How long an authorization's hold lasts before the platform releases it (status `Expired`):
   * days by default and by MCC (shared/domain/hold-expiry.ts). Every function gets it as
   * `HOLD_EXPIRY_DAYS`; a change applies to holds taken after the deploy.
   */
  holdExpiry: HoldExpiryPolicy;
  /**
   * Whether new B2B authorizations hold on escrow shards of the business balance (README "Escrow
   * sub-balances"): every function gets it as `ESCROW_HOLDS`. Off, they hold on the pool (refilled
   * from the shards if short); every function still reads and moves shards. Upgrading a stage from
   * a release without escrow: deploy with it off first, then on (`-c escrowHolds=on`), so no
   * version that knows no shards ever runs beside one that fills them.
   */
  escrowHolds: 'on' | 'off';
  /**
   * How new items are written (every function reads both): `release3` (events' delivery state on
   * records of their own, list and sweeper index keys over the full shard counts) or `release2` (as
   * release 2 wrote them). Every function gets it as `WRITE_FORMAT`. Upgrading a stage from release
   * 2: deploy with `release2` first, then `-c writeFormat=release3`, so no release-2 function ever
   * runs beside, or is rolled back to over, items it cannot see (README "Upgrading from release 2").
   */
  writeFormat: 'release2' | 'release3';
  /**
   * An e-mail address subscribed to the alarm topic (the recipient confirms the subscription once).
   * Also `-c alarmEmail=...`; without one, the topic has no subscriber until an operator adds one.
   */
  alarmEmail?: string;
  /** p99 latency of `POST /network/authorizations` (ms, as API Gateway measures it) that raises an alarm. */
  networkAuthorizationP99Ms: number;
  /**
   * Reserved concurrency of route functions, by route (`"POST /network/authorizations"`). A
   * reservation is capacity no other function can take, and also a ceiling: calls beyond it are
   * throttled. It costs nothing by itself, but it comes out of the account's concurrency quota,
   * and Lambda refuses any reservation that leaves less than {@link UNRESERVED_CONCURRENCY_MINIMUM}
   * unreserved. Only routes of the stage may be named.
   */
  reservedConcurrency: Readonly<Record<string, number>>;
  /**
   * Provisioned concurrency of `POST /network/authorizations` (0: none): this many execution
   * environments of its `live` alias kept initialised, so the card network's decision window never
   * pays a cold start while traffic stays within them. Needs the canary deployment (the alias) and
   * at most the route's reserved concurrency. It is billed whether used or not (README "Provisioned
   * concurrency"); also `-c networkAuthorizationProvisionedConcurrency=N`.
   */
  networkAuthorizationProvisionedConcurrency: number;
  /**
   * At most this many concurrent invocations of each webhook queue's delivery function (SQS
   * event-source maximum concurrency, 2-1000), so partners whose endpoints hang occupy at most this
   * much of the account's concurrency; the rest of their messages wait in the queue.
   */
  deliveryConcurrency: Readonly<Record<QueueName, number>>;
  /**
   * WAF rate limit per source IP over 5 minutes, on every path but the card network's
   * (`/network/...`): a flood guard in front of the partner API, not a quota.
   */
  wafRateLimitPer5Minutes: number;
  /**
   * How a new function version takes traffic. `canary`: each function has a `live` alias, which API
   * Gateway and the event sources invoke, and CodeDeploy shifts it to the new version by
   * `trafficShift`, rolling back if an alarm of that function's flow fires meanwhile (unless
   * `rollbackAlarms` is `ignore`: `-c rollbackAlarms=ignore`, for a fix that must go out while one
   * fires). `all-at-once`: invokers call the function itself, which serves new code once updated.
   */
  deployment: { kind: 'canary'; trafficShift: TrafficShift; rollbackAlarms: 'watch' | 'ignore' } | { kind: 'all-at-once' };
  /**
   * An AWS Backup plan for the table (daily, kept 35 days; monthly, kept a year) into a
   * KMS-encrypted vault, on top of point-in-time recovery.
   */
  tableBackups: boolean;
}

/** CodeDeploy's predefined Lambda traffic shifts the stages may use. */
export type TrafficShift = 'CANARY_10PERCENT_5MINUTES' | 'CANARY_10PERCENT_10MINUTES' | 'LINEAR_10PERCENT_EVERY_1MINUTE';

/**
 * Lambda keeps at least this much of an account's concurrency unreserved, and refuses a
 * reservation that would leave less.
 */
export const UNRESERVED_CONCURRENCY_MINIMUM = 100;
/**
 * Lambda's default concurrency quota per account and region. A stage's reservations must leave
 * the unreserved minimum of it; an account whose quota was raised could reserve more, one still
 * on a new account's lower quota less (check Service Quotas before deploying production).
 */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

const STAGE_CONFIGS: Record<Stage, StageConfig> = {
  sandbox: {
    stage: 'sandbox',
    cardBin: '356772',
    retainData: false,
    logRetention: RetentionDays.ONE_MONTH,
    apiThrottle: { rateLimit: 50, burstLimit: 100 },
    businessUsagePlan: { rateLimit: 10, burstLimit: 20, enforced: true },
    walletKeys: 'sandbox-test-keys',
    operatorSettings: 'sandbox-defaults',
    fxRateMaxAge: Duration.hours(24),
    // The networks' rules: 7 days, 30 for lodging (7011) and car rental (7512).
    holdExpiry: { defaultDays: 7, daysByMcc: { '7011': 30, '7512': 30 } },
    // Deployed all at once: no version of another release runs beside this one.
    escrowHolds: 'on',
    writeFormat: 'release3',
    // Cold starts dominate a sandbox's few requests.
    networkAuthorizationP99Ms: 3000,
    // None: a sandbox account may be on a new account's low concurrency quota, where any
    // reservation fails the deploy; partners' tests do not need guaranteed capacity.
    reservedConcurrency: {},
    networkAuthorizationProvisionedConcurrency: 0,
    deliveryConcurrency: { otp: 2, events: 5 },
    wafRateLimitPer5Minutes: 2000,
    // Cheaper and simpler: no versions, aliases or CodeDeploy; a broken deploy is fixed forward.
    deployment: { kind: 'all-at-once' },
    // Disposable data; point-in-time recovery covers mistakes.
    tableBackups: false,
  },
  production: {
    stage: 'production',
    cardBin: '356772',
    retainData: true,
    logRetention: RetentionDays.ONE_YEAR,
    apiThrottle: { rateLimit: 500, burstLimit: 1000 },
    // A tenth of the stage's limit: one partner's burst cannot take the whole API.
    businessUsagePlan: { rateLimit: 50, burstLimit: 100, enforced: true },
    walletKeys: 'ssm',
    operatorSettings: 'ssm',
    // Rates are fixed once a day; a table that missed a day's update declines conversions.
    fxRateMaxAge: Duration.hours(24),
    holdExpiry: { defaultDays: 7, daysByMcc: { '7011': 30, '7512': 30 } },
    // Canary deploys run two versions at once: off for the deploy that upgrades from release 2
    // (which knew no shards), then `-c escrowHolds=on` (README "Escrow sub-balances").
    escrowHolds: 'off',
    // Likewise items in release 2's format for that deploy, then `-c writeFormat=release3`.
    writeFormat: 'release2',
    networkAuthorizationP99Ms: 1000,
    // 220 of the default 1000 leaves 780 for the partner API, the authorizers and the webhook
    // pipeline. At ~100 ms an approval, 100 concurrent authorizations serve ~1000 per second.
    // Every network route has its own, so a flood of one kind never starves another.
    reservedConcurrency: {
      'POST /network/authorizations': 100,
      'POST /network/authorizations/{id}/reverse': 20,
      'POST /network/authorizations/{id}/settle': 20,
      'POST /network/authorizations/{id}/increment': 10,
      'POST /network/settlements': 10,
      'POST /network/refunds': 10,
      'POST /network/3ds/challenges': 20,
      'POST /network/3ds/challenges/{verification_id}/verify': 20,
      'POST /network/deposits': 10,
    },
    // Off by default: each warm environment costs ~$11 a month at 1024 MB (README "Provisioned concurrency").
    networkAuthorizationProvisionedConcurrency: 0,
    // A delivery waits at most 10 s per message: 50 concurrent batches of 10 still deliver
    // ~50 events a second while every partner endpoint hangs.
    deliveryConcurrency: { otp: 10, events: 50 },
    // ~33 requests a second from one address, above a partner backend's expected peak (usage
    // plans do the per-business limiting).
    wafRateLimitPer5Minutes: 10_000,
    deployment: { kind: 'canary', trafficShift: 'CANARY_10PERCENT_5MINUTES', rollbackAlarms: 'watch' },
    tableBackups: true,
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

/** Deliberately loose: SNS sends the confirmation, this only catches a wrong context value. */
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The settings of a stage, with optional overrides from CDK context: the card BIN
 * (`-c cardBin=...`), the `/network/...` allow list (`-c networkAllowedCidrs=a/n,b/m`, or a list
 * under `context` in cdk.json), the alarm e-mail (`-c alarmEmail=...`) and, for one deploy,
 * whether the canary watches its rollback alarms (`-c rollbackAlarms=ignore`). Every value is
 * checked here, so a typo fails the synth instead of deploying.
 */
export function stageConfig(
  stage: Stage,
  overrides: {
    cardBin?: unknown;
    networkAllowedCidrs?: unknown;
    alarmEmail?: unknown;
    rollbackAlarms?: unknown;
    networkAuthorizationProvisionedConcurrency?: unknown;
    escrowHolds?: unknown;
    writeFormat?: unknown;
  } = {},
): StageConfig {
  let config = STAGE_CONFIGS[stage];
  if (overrides.cardBin !== undefined) {
    if (typeof overrides.cardBin !== 'string' || !JCB_BIN.test(overrides.cardBin)) {
      throw new Error(`cardBin ${JSON.stringify(overrides.cardBin)} is not a 6-digit JCB BIN (3528-3589).`);
    }
    config = { ...config, cardBin: overrides.cardBin };
  }
  if (overrides.networkAllowedCidrs !== undefined) config = { ...config, networkAllowedCidrs: parseCidrList(overrides.networkAllowedCidrs) };
  else if (config.networkAllowedCidrs !== undefined) parseCidrList(config.networkAllowedCidrs);
  if (overrides.alarmEmail !== undefined) {
    if (typeof overrides.alarmEmail !== 'string' || !EMAIL.test(overrides.alarmEmail)) {
      throw new Error(`alarmEmail ${JSON.stringify(overrides.alarmEmail)} is not an e-mail address.`);
    }
    config = { ...config, alarmEmail: overrides.alarmEmail };
  }
  if (overrides.rollbackAlarms !== undefined) {
    if (overrides.rollbackAlarms !== 'watch' && overrides.rollbackAlarms !== 'ignore') {
      throw new Error(`rollbackAlarms ${JSON.stringify(overrides.rollbackAlarms)} must be watch or ignore.`);
    }
    if (config.deployment.kind !== 'canary') throw new Error(`The ${stage} stage deploys all at once: it has no rollback alarms to ignore.`);
    config = { ...config, deployment: { ...config.deployment, rollbackAlarms: overrides.rollbackAlarms } };
  }
  if (overrides.escrowHolds !== undefined) {
    if (overrides.escrowHolds !== 'on' && overrides.escrowHolds !== 'off') throw new Error(`escrowHolds ${JSON.stringify(overrides.escrowHolds)} must be on or off.`);
    config = { ...config, escrowHolds: overrides.escrowHolds };
  }
  if (overrides.writeFormat !== undefined) {
    if (overrides.writeFormat !== 'release2' && overrides.writeFormat !== 'release3') {
      throw new Error(`writeFormat ${JSON.stringify(overrides.writeFormat)} must be release2 or release3.`);
    }
    config = { ...config, writeFormat: overrides.writeFormat };
  }
  if (overrides.networkAuthorizationProvisionedConcurrency !== undefined) {
    const value = Number(overrides.networkAuthorizationProvisionedConcurrency);
    config = { ...config, networkAuthorizationProvisionedConcurrency: value };
  }
  checkConcurrency(config);
  // The functions refuse to start with a policy shared/config.ts cannot read: refuse it at synth.
  const holdExpiryProblems = holdExpiryPolicyProblems(config.holdExpiry);
  if (holdExpiryProblems.length > 0) throw new Error(`holdExpiry of the ${stage} stage is invalid: ${holdExpiryProblems.join('; ')}`);
  return config;
}

/** Refuses settings Lambda or SQS would refuse at deploy time, so the synth fails first. */
function checkConcurrency(config: StageConfig): void {
  const reservations = Object.entries(config.reservedConcurrency);
  const routes = new Set(routesForStage(config.stage).map((row) => `${row.method} ${row.path}`));
  for (const [route, reserved] of reservations) {
    if (!routes.has(route)) throw new Error(`Reserved concurrency names ${route}, which is not a route of the ${config.stage} stage.`);
    if (!Number.isInteger(reserved) || reserved < 1) throw new Error(`Reserved concurrency of ${route} must be a positive integer, not ${reserved}.`);
  }
  const reserved = reservations.reduce((sum, [, value]) => sum + value, 0);
  if (reserved > DEFAULT_ACCOUNT_CONCURRENCY - UNRESERVED_CONCURRENCY_MINIMUM) {
    throw new Error(
      `The ${config.stage} stage reserves ${reserved} concurrent executions; Lambda keeps ${UNRESERVED_CONCURRENCY_MINIMUM} of an ` +
        `account's ${DEFAULT_ACCOUNT_CONCURRENCY} unreserved.`,
    );
  }
  const provisioned = config.networkAuthorizationProvisionedConcurrency;
  if (!Number.isInteger(provisioned) || provisioned < 0) {
    throw new Error(`networkAuthorizationProvisionedConcurrency must be a whole number (0 for none), not ${provisioned}.`);
  }
  if (provisioned > 0) {
    if (config.deployment.kind !== 'canary') throw new Error(`The ${config.stage} stage deploys all at once: provisioned concurrency needs the canary deployment's live alias.`);
    const reservedForRoute = config.reservedConcurrency['POST /network/authorizations'];
    if (reservedForRoute !== undefined && provisioned > reservedForRoute) {
      throw new Error(`networkAuthorizationProvisionedConcurrency (${provisioned}) exceeds the route's reserved concurrency (${reservedForRoute}).`);
    }
  }
  for (const [queue, maximum] of Object.entries(config.deliveryConcurrency)) {
    if (!Number.isInteger(maximum) || maximum < 2 || maximum > 1000) {
      throw new Error(`Delivery concurrency of the ${queue} queue must be an integer from 2 to 1000 (SQS event-source maximum concurrency), not ${maximum}.`);
    }
  }
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
    defaultUsagePlanId: `${prefix}/usage-plans/default-id`,
    apiId: `${prefix}/api-id`,
    streamDlqUrl: `${prefix}/stream-dlq-url`,
    queueUrl: (queue: string) => `${prefix}/queues/${queue}/url`,
    queueDlqUrl: (queue: string) => `${prefix}/queues/${queue}/dlq-url`,
    walletXpub: (family: 'btc' | 'evm' | 'tron') => `${prefix}/wallet-xpubs/${family}`,
    fxRates: `${prefix}/fx/rates`,
    fxFeeBps: `${prefix}/fx/fee-bps`,
    depositFeeBps: `${prefix}/deposits/fee-bps`,
  };
}
