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

/**
 * What an increment made in periods other than its authorization's own (a hotel's hold enlarged
 * on a later day) counted there, and still counts: an increment is checked against, and counted
 * in, the windows of the day it is made, so a give-back must find its way back to them.
 */
export interface WindowShare {
  periods: WindowPeriods;
  amount: bigint;
}

/** One spend counter's move: `amount` (signed) on the `kind` counter of `period`. */
export interface CounterMove {
  kind: WindowKind;
  period: string;
  amount: bigint;
}

const samePeriods = (a: WindowPeriods, b: WindowPeriods) => WINDOW_KINDS.every((kind) => a[kind] === b[kind]);

/**
 * The shares after an increment of `extra` counted in `current`: none when `current` is the
 * authorization's own periods (it counts there), else added to the latest share of those periods
 * or appended as a new one.
 */
export function withIncrementShare(own: WindowPeriods, shares: readonly WindowShare[], current: WindowPeriods, extra: bigint): WindowShare[] {
  if (extra === 0n || samePeriods(own, current)) return [...shares];
  const last = shares.at(-1);
  if (last && samePeriods(last.periods, current)) return [...shares.slice(0, -1), { periods: current, amount: last.amount + extra }];
  return [...shares, { periods: current, amount: extra }];
}

/**
 * The most counter moves one adjustment makes. A DynamoDB transaction holds at most 100 actions,
 * and an adjustment's own items (the versioned transaction, the held escrow shard, the pool, the
 * posting, two outbox events, an idempotency record) are at most 7; a hold enlarged on many days
 * (a long stay, one increment a night) would otherwise give back to one daily counter per day and
 * outgrow the transaction, a hold that no reversal or expiry could ever end.
 */
export const MAX_COUNTER_MOVES = 64;

/**
 * How a transaction's spend counters move when what it counts changes by `delta`, and its shares
 * after. A give-back (negative) comes out of the latest increment's share first, each share down
 * to zero, the rest out of the authorization's own periods: no counter ever gets back more than
 * this transaction counted in it. A positive delta (an over- or late capture the network forces)
 * counts in the authorization's own periods. Moves of one counter are summed into one (a DynamoDB
 * transaction touches an item once); zero moves are dropped.
 */
export function counterMoves(own: WindowPeriods, shares: readonly WindowShare[], delta: bigint): { moves: CounterMove[]; shares: WindowShare[] } {
  const left = shares.map((share) => ({ ...share }));
  const parts: Array<{ periods: WindowPeriods; amount: bigint }> = [];
  let rest = delta;
  for (let i = left.length - 1; i >= 0 && rest < 0n; i--) {
    const share = left[i]!;
    const taken = share.amount < -rest ? share.amount : -rest;
    share.amount -= taken;
    rest += taken;
    parts.push({ periods: share.periods, amount: -taken });
  }
  parts.push({ periods: own, amount: rest });
  const byCounter = new Map<string, CounterMove>();
  for (const part of parts) {
    for (const kind of WINDOW_KINDS) {
      const key = `${kind}#${part.periods[kind]}`;
      const move = byCounter.get(key) ?? { kind, period: part.periods[kind], amount: 0n };
      move.amount += part.amount;
      byCounter.set(key, move);
    }
  }
  const moves = [...byCounter.values()].filter((move) => move.amount !== 0n);
  return { moves: withinMoveBudget(moves), shares: left.filter((share) => share.amount > 0n) };
}

/**
 * Past `MAX_COUNTER_MOVES`, the give-backs to the oldest days, then the oldest months, are left
 * out, never the newest day or month this transaction counted in, nor lifetime. Those periods are
 * over: every share was counted when it was made, so a day older than the newest share's is
 * behind the clock, and no check reads its counter again. A counter left out keeps what it
 * counted: spend is over-stated there, never under-stated, so a card can never spend more for it.
 */
function withinMoveBudget(moves: CounterMove[]): CounterMove[] {
  let excess = moves.length - MAX_COUNTER_MOVES;
  if (excess <= 0) return moves;
  const left = new Set<CounterMove>();
  for (const kind of ['daily', 'monthly'] as const) {
    const oldestFirst = moves.filter((move) => move.kind === kind).sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : 0));
    for (const move of oldestFirst.slice(0, -1)) {
      if (excess === 0) break;
      left.add(move);
      excess--;
    }
  }
  return moves.filter((move) => !left.has(move));
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
