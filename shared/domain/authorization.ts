/**
 * The authorization decision, as pure rules. The checks run in this documented order and the
 * first that fails is the decline reason:
 *
 *   1. card_terminated           the card is Terminated
 *   2. card_locked               the card is Locked
 *   3. card_expired              the card's expiry month has passed
 *   4. user_suspended            (B2C) the cardholder is not Active
 *   5. merchant_category_blocked the card's or the business's controls refuse the merchant's MCC
 *   6. merchant_country_blocked  the card's or the business's controls refuse the merchant's country
 *   7. currency_not_supported    the merchant currency cannot be converted to the card currency
 *   8. fx_rate_unavailable       a conversion is needed and no usable rate is at hand: the rate
 *                                table is older than the stage allows, or could not be read
 *   9. exceeds_transaction_limit the card-currency total is above the per-transaction limit
 *  10. exceeds_daily_limit       \
 *  11. exceeds_monthly_limit      } spent in the window + total would exceed the window's limit
 *  12. exceeds_lifetime_limit    /
 *  13. exceeds_daily_count       the day's approved authorizations reached `max_daily_count`
 *  14. insufficient_balance      the available balance is below the total
 *
 * Checks 1-3 and 5-9 need only the card, the business's controls (cached: see
 * services/controls.ts), the merchant and the rate table, and are decided before any write.
 * Checks 4 and 10-14 are enforced by the conditions of the single authorization transaction, so
 * concurrency can never overspend or over-count; when that transaction is cancelled, the failed
 * conditions are mapped back to reasons in the same order by `firstDeclineReason`.
 */
import type { CardLimits, CardStatus } from './cards.ts';
import { controlsDecline, type MerchantFacts, type SpendingControls } from './controls.ts';
import type { CardExpiry } from './card-number.ts';
import type { WindowKind } from './spend-windows.ts';

export const DECLINE_REASONS = [
  'card_terminated',
  'card_locked',
  'card_expired',
  'user_suspended',
  'merchant_category_blocked',
  'merchant_country_blocked',
  'currency_not_supported',
  'fx_rate_unavailable',
  'exceeds_transaction_limit',
  'exceeds_daily_limit',
  'exceeds_monthly_limit',
  'exceeds_lifetime_limit',
  'exceeds_daily_count',
  'insufficient_balance',
  // After every check of the platform's own: the business's authorization endpoint decided
  // (shared/domain/authorization-decisions.ts).
  'partner_declined',
  'stand_in_declined',
] as const;

export type DeclineReason = (typeof DECLINE_REASONS)[number];

export const WINDOW_DECLINE: Record<WindowKind, DeclineReason> = {
  daily: 'exceeds_daily_limit',
  monthly: 'exceeds_monthly_limit',
  lifetime: 'exceeds_lifetime_limit',
};

/** The first reason of `reasons` in the documented order. */
export function firstDeclineReason(reasons: Iterable<DeclineReason>): DeclineReason | undefined {
  const present = new Set(reasons);
  return DECLINE_REASONS.find((reason) => present.has(reason));
}

/** A card is valid through the last day of its expiry month (UTC, as printed on the card). */
export function isExpired(expiry: CardExpiry, at: Date): boolean {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth() + 1;
  const expiryYear = Number(expiry.year);
  const expiryMonth = Number(expiry.month);
  return year > expiryYear || (year === expiryYear && month > expiryMonth);
}

export interface PreCheckInput {
  cardStatus: CardStatus;
  expiry: CardExpiry;
  at: Date;
  /** Whether the merchant currency converts to the card currency. */
  currencySupported: boolean;
  /** Whether a usable rate is at hand (always, when no conversion is needed). */
  rateAvailable: boolean;
  /** The card-currency total (converted amount + FX fee), minor units. */
  total: bigint;
  limits: CardLimits;
  /** The card's controls and the business's defaults: both must pass (none: nothing restricts). */
  controls?: readonly SpendingControls[];
  merchant?: MerchantFacts;
}

/**
 * Checks 1-3 and 5-9, plus a window that `total` alone exceeds when no window before it could
 * refuse first: the windows are checked in order, and once an enabled window is within reach of
 * `total` alone, whether it refuses depends on what was spent, which only the transaction knows
 * (a later window is then refused by its own counter condition, and the first failed reason in
 * the documented order wins). Returns the decline reason, or undefined to go on to the
 * transactional checks.
 */
export function preCheck(input: PreCheckInput): DeclineReason | undefined {
  if (input.cardStatus === 'Terminated') return 'card_terminated';
  if (input.cardStatus === 'Locked') return 'card_locked';
  if (isExpired(input.expiry, input.at)) return 'card_expired';
  const refused = input.merchant && controlsDecline(input.controls ?? [], input.merchant);
  if (refused) return refused;
  if (!input.currencySupported) return 'currency_not_supported';
  if (!input.rateAvailable) return 'fx_rate_unavailable';
  const { limits, total } = input;
  if (limits.transaction > 0n && total > limits.transaction) return 'exceeds_transaction_limit';
  for (const kind of ['daily', 'monthly', 'lifetime'] as const) {
    const limit = limits[kind];
    if (limit === 0n) continue;
    if (total > limit) return WINDOW_DECLINE[kind];
    break;
  }
  return undefined;
}
