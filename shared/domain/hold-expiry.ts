/**
 * When an authorization's hold expires (API.md "Authorization lifecycle": 7 days, 30 for hotels
 * and car rental, configurable per stage). Pure.
 *
 * The policy comes from the stage (infra/stage-config.ts `holdExpiry`, passed to the functions as
 * `HOLD_EXPIRY_DAYS`); the expiry time is fixed on the transaction when it is authorized (and
 * again on an increment), so a policy change applies to new holds, never retroactively.
 */
import { isoFromMicros } from './time.ts';

export interface HoldExpiryPolicy {
  /** Days a hold lasts when its MCC has no rule of its own. */
  defaultDays: number;
  /** Days by MCC (lodging 7011, car rental 7512, ...). */
  daysByMcc: Readonly<Record<string, number>>;
}

export const DEFAULT_HOLD_EXPIRY: HoldExpiryPolicy = { defaultDays: 7, daysByMcc: { '7011': 30, '7512': 30 } };

const MCC = /^\d{4}$/;

function daysProblem(path: string, days: unknown): string[] {
  return Number.isInteger(days) && (days as number) >= 1 && (days as number) <= 90 ? [] : [`${path}: must be an integer from 1 to 90`];
}

/**
 * What is wrong with a policy read from JSON (`HOLD_EXPIRY_DAYS`: `{"defaultDays":7,"daysByMcc":{"7011":30}}`),
 * one entry per field; none when it is a valid {@link HoldExpiryPolicy}. Checked by hand, without
 * zod, because shared/config.ts reads it in every function (docs/cold-start.md).
 */
export function holdExpiryPolicyProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['must be an object with defaultDays and daysByMcc'];
  const { defaultDays, daysByMcc } = value as Record<string, unknown>;
  const problems = daysProblem('defaultDays', defaultDays);
  if (typeof daysByMcc !== 'object' || daysByMcc === null || Array.isArray(daysByMcc)) return [...problems, 'daysByMcc: must be an object'];
  for (const [mcc, days] of Object.entries(daysByMcc)) {
    if (!MCC.test(mcc)) problems.push(`daysByMcc.${mcc}: must be a 4-digit MCC`);
    problems.push(...daysProblem(`daysByMcc.${mcc}`, days));
  }
  return problems;
}

export function holdExpiryDays(policy: HoldExpiryPolicy, mcc: string | null): number {
  return (mcc !== null && policy.daysByMcc[mcc]) || policy.defaultDays;
}

/** When a hold taken at `from` expires: RFC 3339, the same width as every `p_*_at`, so it sorts as a string. */
export function holdExpiresAt(policy: HoldExpiryPolicy, mcc: string | null, from: Date): string {
  return isoFromMicros(BigInt(from.getTime() + holdExpiryDays(policy, mcc) * 86_400_000) * 1000n);
}
