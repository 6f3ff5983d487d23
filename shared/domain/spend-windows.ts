/**
 * Spend windows for card limits (API.md "Limits"): a "day" and a "month" are natural calendar
 * periods in the business's IANA timezone, the transaction limit applies per authorization, and
 * lifetime never resets.
 *
 * Each window is a counter keyed by its period label (`2025-03-04`, `2025-03`, `lifetime`). Every
 * approved authorization is counted in every window, enabled or not, so that a limit switched on
 * mid-month still sees what was already spent that month ("money already spent in the current
 * windows still counts"). A reversal gives the amount back to the exact periods it was counted in,
 * which is why the transaction remembers them.
 */
import type { CardLimits } from './cards.ts';

export const WINDOW_KINDS = ['daily', 'monthly', 'lifetime'] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

export type WindowPeriods = Record<WindowKind, string>;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** The calendar periods that `at` falls in, in `timezone`. */
export function windowPeriods(at: Date, timezone: string): WindowPeriods {
  const parts = formatterFor(timezone).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const month = `${part('year')}-${part('month')}`;
  return { daily: `${month}-${part('day')}`, monthly: month, lifetime: 'lifetime' };
}

/** The limit (minor units, 0 = off) that governs each window. */
export function windowLimit(limits: CardLimits, kind: WindowKind): bigint {
  return limits[kind];
}

export type SpendCounters = Record<WindowKind, bigint>;

/**
 * The first window whose limit `amount` would exceed given what is already spent, in the
 * documented order daily, monthly, lifetime; undefined if every enabled window has room.
 */
export function exceededWindow(limits: CardLimits, spent: SpendCounters, amount: bigint): WindowKind | undefined {
  return WINDOW_KINDS.find((kind) => {
    const limit = windowLimit(limits, kind);
    return limit > 0n && spent[kind] + amount > limit;
  });
}
