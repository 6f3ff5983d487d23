/**
 * The money settings the operator owns (API.md: "production rates and the deposit fee come from
 * configuration the operator sets, never the sandbox defaults"): the FX rate table, the FX fee
 * and the deposit fee.
 *
 * - Where: SSM String parameters the operator creates (`/card-platform/<stage>/fx/rates`,
 *   `…/fx/fee-bps`, `…/deposits/fee-bps`; infra/stage-config.ts), named to a function through
 *   `FX_RATES_PARAMETER`, `FX_FEE_BPS_PARAMETER` and `DEPOSIT_FEE_BPS_PARAMETER` only when its
 *   route row reads them; the function may `ssm:GetParameter` exactly those.
 * - When: at runtime, not at deploy time. Rates change daily, and a deploy per rate change would
 *   tie the treasury's routine to a release. Each value is cached for `CACHE_MS`, so an operator's
 *   change takes effect within a minute, and SSM sees one read per minute per warm container.
 * - Validation: on every read. A malformed value (or a missing parameter) fails with a message
 *   naming the parameter and each problem; if a good value was read before, the function keeps
 *   it and logs the error, which is safe because a rate table carries its own `as_of` and still
 *   ages out (`isRateTableFresh`).
 * - The sandbox and the local stack set no parameter names and use the sandbox defaults: the
 *   sandbox rate table (dated at each read, so it is never stale), a 1% FX fee, no deposit fee.
 *   Production without the names refuses instead of falling back.
 *
 * None of these values is secret; they may be logged.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { config, type Stage } from '../config.ts';
import { parseRateTable, RateTableError, sandboxRateTable, SANDBOX_FX_FEE_BPS, type RateTable } from '../domain/fx.ts';
import { MoneyFormatError, parseBasisPoints } from '../domain/money.ts';
import { assertKeyGrant } from '../crypto/local-key-policy.ts';
import { logger } from '../logger.ts';

/**
 * What a route row may read (its `access.settings`): `fx`, the rate table and the FX fee, for the
 * rows that convert currencies; `deposit-fee` for the rows that credit deposits.
 */
export const OPERATOR_SETTINGS = ['fx', 'deposit-fee'] as const;
export type OperatorSetting = (typeof OPERATOR_SETTINGS)[number];

/** How long a value read from SSM is used before it is read again. */
export const CACHE_MS = 60_000;

/** The deposit fee when the operator sets none: the sandbox's, 0 (API.md). */
export const SANDBOX_DEPOSIT_FEE_BPS = 0n;

/** A setting could not be had: not configured, not found, unreadable or malformed. */
export class OperatorSettingsError extends Error {}

export interface FxSettings {
  rates: RateTable;
  feeBps: bigint;
  /** How old `rates.asOf` may be for a conversion. */
  maxAgeMs: number;
}

/** Where a function's FX settings come from: its stage and the parameters its row names. */
export interface FxSource {
  stage: Stage;
  ratesParameter?: string;
  feeBpsParameter?: string;
  maxAgeSeconds: number;
}

/** The FX settings of this function (its configuration), read or cached. */
export async function fxSettings(): Promise<FxSettings> {
  // Only a row listing `fx` gets the parameters' names and may read them (local-key-policy.ts).
  assertKeyGrant('settings', 'fx');
  const settings = config();
  return readFxSettings(
    {
      stage: settings.STAGE,
      ratesParameter: settings.FX_RATES_PARAMETER,
      feeBpsParameter: settings.FX_FEE_BPS_PARAMETER,
      maxAgeSeconds: settings.FX_RATE_MAX_AGE_SECONDS,
    },
    new Date(),
  );
}

export async function readFxSettings(source: FxSource, now: Date): Promise<FxSettings> {
  const maxAgeMs = source.maxAgeSeconds * 1000;
  const { ratesParameter, feeBpsParameter } = source;
  if (ratesParameter === undefined && feeBpsParameter === undefined && source.stage === 'sandbox') {
    return { rates: sandboxRateTable(now), feeBps: SANDBOX_FX_FEE_BPS, maxAgeMs };
  }
  if (ratesParameter === undefined || feeBpsParameter === undefined) {
    throw new OperatorSettingsError(
      'FX_RATES_PARAMETER and FX_FEE_BPS_PARAMETER must both name the operator\'s SSM parameters: production never converts with the sandbox rates',
    );
  }
  const [rates, feeBps] = await Promise.all([
    cachedParameter(ratesParameter, (text) => parseRateTable(text, now), now),
    cachedParameter(feeBpsParameter, parseBasisPoints, now),
  ]);
  return { rates, feeBps, maxAgeMs };
}

/** The deposit fee of this function (its configuration), in basis points of the credited USD. */
export async function depositFeeBps(): Promise<bigint> {
  assertKeyGrant('settings', 'deposit-fee');
  const settings = config();
  return readDepositFeeBps({ stage: settings.STAGE, parameter: settings.DEPOSIT_FEE_BPS_PARAMETER }, new Date());
}

export async function readDepositFeeBps(source: { stage: Stage; parameter?: string }, now: Date): Promise<bigint> {
  if (source.parameter === undefined) {
    if (source.stage === 'sandbox') return SANDBOX_DEPOSIT_FEE_BPS;
    throw new OperatorSettingsError('DEPOSIT_FEE_BPS_PARAMETER must name the operator\'s SSM parameter: production never charges the sandbox deposit fee');
  }
  return cachedParameter(source.parameter, parseBasisPoints, now);
}

// ---------------------------------------------------------------------------------------------
// SSM, cached

let client: SSMClient | undefined;
function ssm(): SSMClient {
  client ??= new SSMClient({ maxAttempts: 3 });
  return client;
}

interface CachedValue {
  value: unknown;
  freshUntil: number;
}
const cache = new Map<string, CachedValue>();

async function cachedParameter<T>(name: string, parse: (text: string) => T, now: Date): Promise<T> {
  const cached = cache.get(name);
  if (cached && now.getTime() < cached.freshUntil) return cached.value as T;
  let value: T;
  try {
    value = parse(await readParameter(name));
  } catch (error) {
    const problem = `SSM parameter ${name} ${describe(error)}`;
    if (!cached) throw new OperatorSettingsError(problem);
    // Keep the last good value for another period rather than failing every request meanwhile.
    logger.error('operator setting not refreshed; the last good value stays in use', { parameter: name, problem });
    cached.freshUntil = now.getTime() + CACHE_MS;
    return cached.value as T;
  }
  cache.set(name, { value, freshUntil: now.getTime() + CACHE_MS });
  return value;
}

async function readParameter(name: string): Promise<string> {
  const result = await ssm().send(new GetParameterCommand({ Name: name }));
  const value = result.Parameter?.Value;
  if (value === undefined) throw new Error('has no value');
  return value;
}

function describe(error: unknown): string {
  if (error instanceof RateTableError || error instanceof MoneyFormatError) return `is malformed: ${error.message}`;
  const name = (error as Error | undefined)?.name;
  if (name === 'ParameterNotFound') return 'does not exist: the operator creates it (README, "Deploying")';
  return `could not be read (${name ?? 'unknown error'}: ${(error as Error | undefined)?.message ?? ''})`;
}

/** Tests change parameters and clients between cases; this forgets every cached value. */
export function resetOperatorSettingsForTests(): void {
  cache.clear();
  client = undefined;
}
