import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../../../shared/domain/cards.ts';
import { counterMoves, exceededWindow, MAX_COUNTER_MOVES, windowPeriods, windowResets, withIncrementShare, type WindowShare } from '../../../shared/domain/spend-windows.ts';
import { propertySeed } from '../../support/property-seed.ts';

describe('windowPeriods', () => {
  it('uses the calendar day and month of the business timezone, not UTC', () => {
    // 2025-03-31T20:00Z is already April 1st in Hong Kong (UTC+8).
    expect(windowPeriods(new Date('2025-03-31T20:00:00Z'), 'Asia/Hong_Kong')).toEqual({
      daily: '2025-04-01',
      monthly: '2025-04',
      lifetime: 'lifetime',
    });
    expect(windowPeriods(new Date('2025-03-31T20:00:00Z'), 'UTC')).toMatchObject({ daily: '2025-03-31', monthly: '2025-03' });
  });

  it('puts the instant before midnight and the instant after into different days', () => {
    const tz = 'America/New_York';
    expect(windowPeriods(new Date('2025-06-02T03:59:59.999Z'), tz).daily).toBe('2025-06-01');
    expect(windowPeriods(new Date('2025-06-02T04:00:00.000Z'), tz).daily).toBe('2025-06-02');
  });

  it('rolls the month over at local midnight of the 1st in a negative-offset zone', () => {
    expect(windowPeriods(new Date('2025-01-01T04:59:59Z'), 'America/New_York').monthly).toBe('2024-12');
    expect(windowPeriods(new Date('2025-01-01T05:00:00Z'), 'America/New_York').monthly).toBe('2025-01');
  });

  it('handles leap days', () => {
    expect(windowPeriods(new Date('2024-02-29T12:00:00Z'), 'UTC')).toMatchObject({ daily: '2024-02-29', monthly: '2024-02' });
    expect(windowPeriods(new Date('2024-02-29T23:30:00Z'), 'Asia/Tokyo').daily).toBe('2024-03-01');
  });

  it('keeps a 23-hour and a 25-hour DST day each as one day', () => {
    const tz = 'Europe/London';
    // Spring forward 2025-03-30 (23 h), fall back 2025-10-26 (25 h).
    expect(windowPeriods(new Date('2025-03-30T00:30:00Z'), tz).daily).toBe('2025-03-30');
    expect(windowPeriods(new Date('2025-03-30T22:59:00Z'), tz).daily).toBe('2025-03-30');
    expect(windowPeriods(new Date('2025-03-30T23:00:00Z'), tz).daily).toBe('2025-03-31');
    expect(windowPeriods(new Date('2025-10-26T00:30:00Z'), tz).daily).toBe('2025-10-26');
    expect(windowPeriods(new Date('2025-10-26T23:59:00Z'), tz).daily).toBe('2025-10-26');
    expect(windowPeriods(new Date('2025-10-27T00:00:00Z'), tz).daily).toBe('2025-10-27');
  });

  it('handles half-hour and 45-minute offsets', () => {
    expect(windowPeriods(new Date('2025-05-31T18:29:00Z'), 'Asia/Kolkata').daily).toBe('2025-05-31');
    expect(windowPeriods(new Date('2025-05-31T18:30:00Z'), 'Asia/Kolkata').daily).toBe('2025-06-01');
    expect(windowPeriods(new Date('2025-05-31T18:15:00Z'), 'Asia/Kathmandu').daily).toBe('2025-06-01');
  });
});

describe('exceededWindow', () => {
  const spent = { daily: 900n, monthly: 900n, lifetime: 900n };

  it('finds nothing when every limit is off', () => {
    expect(exceededWindow(NO_LIMITS, spent, 10n ** 12n)).toBeUndefined();
  });

  it('allows spending exactly up to the limit', () => {
    expect(exceededWindow({ ...NO_LIMITS, daily: 1000n }, spent, 100n)).toBeUndefined();
    expect(exceededWindow({ ...NO_LIMITS, daily: 1000n }, spent, 101n)).toBe('daily');
  });

  it('reports daily before monthly before lifetime', () => {
    const limits = { ...NO_LIMITS, daily: 1000n, monthly: 1000n, lifetime: 1000n };
    expect(exceededWindow(limits, spent, 101n)).toBe('daily');
    expect(exceededWindow({ ...limits, daily: 0n }, spent, 101n)).toBe('monthly');
    expect(exceededWindow({ ...limits, daily: 0n, monthly: 0n }, spent, 101n)).toBe('lifetime');
  });
});

describe('windowResets', () => {
  it('ends the day and the month at local midnight of the business timezone, in UTC', () => {
    const at = new Date('2025-03-04T03:32:11Z');
    expect(windowResets(at, 'Asia/Hong_Kong')).toEqual({ daily: new Date('2025-03-04T16:00:00Z'), monthly: new Date('2025-03-31T16:00:00Z') });
    expect(windowResets(at, 'UTC')).toEqual({ daily: new Date('2025-03-05T00:00:00Z'), monthly: new Date('2025-04-01T00:00:00Z') });
  });

  it('rolls over the year, and follows a DST change (New York: 5 h behind in March before, 4 h after)', () => {
    expect(windowResets(new Date('2025-12-31T20:00:00Z'), 'Asia/Hong_Kong').monthly).toEqual(new Date('2026-01-31T16:00:00Z'));
    expect(windowResets(new Date('2025-03-08T20:00:00Z'), 'America/New_York')).toEqual({
      daily: new Date('2025-03-09T05:00:00Z'),
      monthly: new Date('2025-04-01T04:00:00Z'),
    });
  });

  it('is always after the instant, within a day (or a month), and starts the next period', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom('UTC', 'Asia/Hong_Kong', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu'),
        (at, timezone) => {
          const resets = windowResets(at, timezone);
          expect(resets.daily.getTime()).toBeGreaterThan(at.getTime());
          expect(resets.daily.getTime() - at.getTime()).toBeLessThanOrEqual(25 * 3600_000);
          expect(windowPeriods(resets.daily, timezone).daily).not.toBe(windowPeriods(at, timezone).daily);
          expect(windowPeriods(new Date(resets.daily.getTime() - 1000), timezone).daily).toBe(windowPeriods(at, timezone).daily);
          expect(windowPeriods(resets.monthly, timezone).monthly).not.toBe(windowPeriods(at, timezone).monthly);
          expect(windowPeriods(new Date(resets.monthly.getTime() - 1000), timezone).monthly).toBe(windowPeriods(at, timezone).monthly);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('increment shares (an increment counts in the windows of the day it is made)', () => {
  const day1 = windowPeriods(new Date('2027-03-10T12:00:00Z'), 'UTC');
  const day2 = windowPeriods(new Date('2027-03-11T12:00:00Z'), 'UTC');
  const nextMonth = windowPeriods(new Date('2027-04-02T12:00:00Z'), 'UTC');

  it('records no share for an increment made in the authorization’s own periods', () => {
    expect(withIncrementShare(day1, [], day1, 50n)).toEqual([]);
  });

  it('adds to the latest share of the same periods, else appends one', () => {
    const once = withIncrementShare(day1, [], day2, 30n);
    expect(once).toEqual([{ periods: day2, amount: 30n }]);
    expect(withIncrementShare(day1, once, day2, 5n)).toEqual([{ periods: day2, amount: 35n }]);
    expect(withIncrementShare(day1, once, nextMonth, 7n)).toEqual([
      { periods: day2, amount: 30n },
      { periods: nextMonth, amount: 7n },
    ]);
  });

  it('gives back to the latest increment first, summing the moves of a counter they share', () => {
    const shares = [{ periods: day2, amount: 30n }];
    const { moves, shares: after } = counterMoves(day1, shares, -50n);
    expect(after).toEqual([]);
    // The month and the lifetime are one counter for both days: one move each.
    expect(moves).toEqual([
      { kind: 'daily', period: '2027-03-11', amount: -30n },
      { kind: 'monthly', period: '2027-03', amount: -50n },
      { kind: 'lifetime', period: 'lifetime', amount: -50n },
      { kind: 'daily', period: '2027-03-10', amount: -20n },
    ]);
  });

  it('counts what the network forces above the hold in the authorization’s own periods', () => {
    expect(counterMoves(day1, [{ periods: day2, amount: 30n }], 8n)).toEqual({
      moves: [
        { kind: 'daily', period: '2027-03-10', amount: 8n },
        { kind: 'monthly', period: '2027-03', amount: 8n },
        { kind: 'lifetime', period: 'lifetime', amount: 8n },
      ],
      shares: [{ periods: day2, amount: 30n }],
    });
  });

  it('never gives a counter back more than the transaction counted in it (any increments, any give-backs)', () => {
    const days = [day1, day2, nextMonth, windowPeriods(new Date('2027-04-03T12:00:00Z'), 'UTC')];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.record({ day: fc.integer({ min: 0, max: 3 }), amount: fc.integer({ min: 0, max: 10_000 }) }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 6 }),
        (held, increments, giveBacks) => {
          const counted = new Map<string, bigint>();
          const count = (periods: typeof day1, amount: bigint) => {
            for (const kind of ['daily', 'monthly', 'lifetime'] as const) counted.set(`${kind}#${periods[kind]}`, (counted.get(`${kind}#${periods[kind]}`) ?? 0n) + amount);
          };
          count(day1, BigInt(held));
          let remaining = BigInt(held);
          let shares: ReturnType<typeof withIncrementShare> = [];
          let day = 0;
          for (const increment of increments) {
            day = Math.max(day, increment.day); // days only move forward
            shares = withIncrementShare(day1, shares, days[day]!, BigInt(increment.amount));
            count(days[day]!, BigInt(increment.amount));
            remaining += BigInt(increment.amount);
          }
          for (const giveBack of giveBacks) {
            const amount = BigInt(giveBack) > remaining ? remaining : BigInt(giveBack);
            const result = counterMoves(day1, shares, -amount);
            for (const move of result.moves) counted.set(`${move.kind}#${move.period}`, (counted.get(`${move.kind}#${move.period}`) ?? 0n) + move.amount);
            shares = result.shares;
            remaining -= amount;
          }
          for (const value of counted.values()) expect(value).toBeGreaterThanOrEqual(0n);
          // What is still counted across the daily counters is exactly what is still held.
          const daily = [...counted].filter(([key]) => key.startsWith('daily#')).reduce((sum, [, value]) => sum + value, 0n);
          expect(daily).toBe(remaining);
          expect(counted.get('lifetime#lifetime')).toBe(remaining);
        },
      ),
      { seed: propertySeed },
    );
  });

  describe('a hold enlarged on many days (a long stay, one increment a night)', () => {
    const own = windowPeriods(new Date('2027-01-05T12:00:00Z'), 'UTC');
    /** One share of `amount` for each of `nights` nights after the authorization's day. */
    const nightly = (nights: number, amount: (night: number) => bigint): WindowShare[] => {
      let shares: WindowShare[] = [];
      for (let night = 1; night <= nights; night++) {
        shares = withIncrementShare(own, shares, windowPeriods(new Date(Date.parse('2027-01-05T12:00:00Z') + night * 86_400_000), 'UTC'), amount(night));
      }
      return shares;
    };
    const sum = (shares: WindowShare[]) => shares.reduce((total, share) => total + share.amount, 0n);

    it('gives back in at most MAX_COUNTER_MOVES moves, so the release fits one DynamoDB transaction (100 actions, 7 of them its own items)', () => {
      expect(MAX_COUNTER_MOVES + 7).toBeLessThanOrEqual(100);
      // Ninety nights from 6 January: a daily counter for each of 91 days, 4 months, lifetime.
      const shares = nightly(90, () => 1_000n);
      const held = 5_000n + sum(shares);
      const { moves, shares: after } = counterMoves(own, shares, -held);
      expect(after).toEqual([]);
      expect(moves.length).toBeLessThanOrEqual(MAX_COUNTER_MOVES);
      // Lifetime and every month get back exactly what they counted; the newest day too.
      const of = (kind: string, period: string) => moves.find((move) => move.kind === kind && move.period === period)?.amount;
      expect(of('lifetime', 'lifetime')).toBe(-held);
      expect(of('monthly', '2027-01')).toBe(-(5_000n + 26n * 1_000n));
      expect(of('monthly', '2027-02')).toBe(-28_000n);
      expect(of('monthly', '2027-03')).toBe(-31_000n);
      expect(of('monthly', '2027-04')).toBe(-5_000n);
      expect(of('daily', '2027-04-05')).toBe(-1_000n);
      // What is left out is the oldest days' give-backs, never a day as new as the newest share's.
      const daily = moves.filter((move) => move.kind === 'daily').map((move) => move.period);
      const leftOut = 91 - daily.length;
      expect(leftOut).toBeGreaterThan(0);
      expect(Math.min(...daily.map((period) => Date.parse(period)))).toBe(Date.parse('2027-01-05') + leftOut * 86_400_000);
    });

    it('changes nothing while the moves fit, and never gives back more than was counted nor leaves out a current period (random nights and give-backs)', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 400 }),
          fc.integer({ min: 1, max: 10_000 }),
          fc.bigInt({ min: 0n, max: 10n ** 9n }),
          (nights, perNight, giveBack) => {
            const shares = nightly(nights, (night) => BigInt(1 + ((night * perNight) % 997)));
            const held = 1_000n + sum(shares);
            const amount = giveBack > held ? held : giveBack;
            const { moves } = counterMoves(own, shares, -amount);
            expect(moves.length).toBeLessThanOrEqual(MAX_COUNTER_MOVES);
            // Unbounded, as before the budget: the sum of every share's and own's counters.
            const counted = new Map<string, bigint>();
            for (const share of [{ periods: own, amount: 1_000n }, ...shares]) {
              for (const kind of ['daily', 'monthly', 'lifetime'] as const) counted.set(`${kind}#${share.periods[kind]}`, (counted.get(`${kind}#${share.periods[kind]}`) ?? 0n) + share.amount);
            }
            const newest = shares.at(-1)?.periods ?? own;
            for (const move of moves) {
              expect(move.amount).toBeLessThan(0n);
              expect(-move.amount).toBeLessThanOrEqual(counted.get(`${move.kind}#${move.period}`)!);
            }
            // Lifetime always gets everything back; a give-back of the whole hold reaches the newest day and month in full.
            if (amount > 0n) expect(moves.find((move) => move.kind === 'lifetime')?.amount).toBe(-amount);
            if (amount === held && counted.size <= MAX_COUNTER_MOVES) {
              // Within the budget, nothing is left out: every counter gets back exactly what it counted.
              expect(new Map(moves.map((move) => [`${move.kind}#${move.period}`, -move.amount]))).toEqual(counted);
            }
            if (amount === held) {
              expect(moves.find((move) => move.kind === 'daily' && move.period === newest.daily)?.amount).toBe(-counted.get(`daily#${newest.daily}`)!);
              expect(moves.find((move) => move.kind === 'monthly' && move.period === newest.monthly)?.amount).toBe(-counted.get(`monthly#${newest.monthly}`)!);
            }
          },
        ),
        { seed: propertySeed, numRuns: 60 },
      );
    });
  });
});
