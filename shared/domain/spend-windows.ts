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

// ---------------------------------------------------------------------------------------------
// Daily count and what a card may still spend (`GET /v1/cards/{id}/spend`)

/**
 * The daily count of approved authorizations (`max_daily_count`) is a counter of the same day as
 * the daily window (`periods.daily`), incremented by every approval whether the control is on or
 * not, like the amount windows, so a count switched on mid-day sees the day's approvals already
 * made. A reversal does NOT give a count back: the control caps how many authorizations a card
 * makes in a day (a velocity control against card testing and split purchases), and an
 * authorization that was approved was made, whatever became of its money afterwards. Declines are
 * never counted.
 */
export const DAILY_COUNT_KIND = 'daily_count';

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** How far `timezone`'s wall clock is ahead of UTC at the instant `ms`, in milliseconds. */
function offsetMs(ms: number, timezone: string): number {
  let formatter = offsetFormatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormatters.set(timezone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant local midnight starts the date `year-month-day` in `timezone` (month may overflow: 13 is next January). */
function localMidnight(year: number, month: number, day: number, timezone: string): Date {
  const wall = Date.UTC(year, month - 1, day);
  let guess = wall;
  // Two rounds settle the offset, also across a DST change on that date.
  for (let round = 0; round < 3; round++) {
    const next = wall - offsetMs(guess, timezone);
    if (next === guess) break;
    guess = next;
  }
  return new Date(guess);
}

/** When the current day and month windows of `at` end (and the next begin), in `timezone`. */
export function windowResets(at: Date, timezone: string): { daily: Date; monthly: Date } {
  const periods = windowPeriods(at, timezone);
  const [year, month, day] = periods.daily.split('-').map(Number) as [number, number, number];
  return { daily: localMidnight(year, month, day + 1, timezone), monthly: localMidnight(year, month + 1, 1, timezone) };
}
