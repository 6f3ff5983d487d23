/**
 * When an authorization's hold expires (API.md "Authorization lifecycle": 7 days, 30 for hotels
 * and car rental, configurable per stage). Pure.
 *
 * The policy comes from the stage (infra/stage-config.ts `holdExpiry`, passed to the functions as
 * `HOLD_EXPIRY_DAYS`); the expiry time is fixed on the transaction when it is authorized (and
 * again on an increment), so a policy change applies to new holds, never retroactively.
 */
import * as z from 'zod';
import { isoFromMicros } from './time.ts';

export interface HoldExpiryPolicy {
  /** Days a hold lasts when its MCC has no rule of its own. */
  defaultDays: number;
  /** Days by MCC (lodging 7011, car rental 7512, ...). */
  daysByMcc: Readonly<Record<string, number>>;
}

export const DEFAULT_HOLD_EXPIRY: HoldExpiryPolicy = { defaultDays: 7, daysByMcc: { '7011': 30, '7512': 30 } };

const Days = z.number().int().min(1).max(90);
/** `HOLD_EXPIRY_DAYS`: `{"defaultDays":7,"daysByMcc":{"7011":30}}`. */
export const HoldExpiryPolicySchema = z.object({
  defaultDays: Days,
  daysByMcc: z.record(z.string().regex(/^\d{4}$/, 'must be a 4-digit MCC'), Days),
});

export function holdExpiryDays(policy: HoldExpiryPolicy, mcc: string | null): number {
  return (mcc !== null && policy.daysByMcc[mcc]) || policy.defaultDays;
}

/** When a hold taken at `from` expires: RFC 3339, the same width as every `p_*_at`, so it sorts as a string. */
export function holdExpiresAt(policy: HoldExpiryPolicy, mcc: string | null, from: Date): string {
  return isoFromMicros(BigInt(from.getTime() + holdExpiryDays(policy, mcc) * 86_400_000) * 1000n);
}
