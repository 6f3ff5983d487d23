import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escrowTotal, grownShardCount, MAX_ESCROW_SHARDS, planForcedDebit, planRefill, shardsFor, type EscrowSnapshot } from '../../../shared/domain/escrow.ts';
import { propertySeed } from '../../support/property-seed.ts';

describe('shardsFor', () => {
  it('picks two different shards in range, the same ones for the same id', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 2, max: MAX_ESCROW_SHARDS }), (id, count) => {
        const shards = shardsFor(id, count);
        expect(shards).toHaveLength(2);
        expect(shards[0]).not.toBe(shards[1]);
        for (const shard of shards) expect(shard >= 0 && shard < count).toBe(true);
        expect(shardsFor(id, count)).toEqual(shards);
      }),
      { seed: propertySeed },
    );
  });

  it('has one shard to offer when there is one', () => {
    expect(shardsFor('a', 1)).toEqual([0]);
  });

  it('spreads ids evenly (no shard takes twice its share of 16,000 ids)', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) {
      const shard = shardsFor(`0190a3c4-0000-7000-8000-${i.toString(16).padStart(12, '0')}`, 16)[0]!;
      counts[shard] = counts[shard]! + 1;
    }
    expect(Math.max(...counts)).toBeLessThan(2_000);
    expect(Math.min(...counts)).toBeGreaterThan(500);
  });
});

describe('grownShardCount', () => {
  it('doubles up to the maximum, never beyond', () => {
    expect(grownShardCount(4)).toBe(8);
    expect(grownShardCount(48)).toBe(MAX_ESCROW_SHARDS);
    expect(grownShardCount(MAX_ESCROW_SHARDS)).toBe(MAX_ESCROW_SHARDS);
  });
});

const snapshots = fc
  .integer({ min: 1, max: MAX_ESCROW_SHARDS })
  .chain((shardCount) =>
    fc.record({
      shardCount: fc.constant(shardCount),
      pool: fc.bigInt({ min: -1_000n, max: 100_000n }),
      // Mostly non-negative; a shard below zero is no state the platform makes, but the plans must not depend on it.
      shards: fc.array(fc.oneof({ weight: 9, arbitrary: fc.bigInt({ min: 0n, max: 50_000n }) }, { weight: 1, arbitrary: fc.bigInt({ min: -500n, max: -1n }) }), {
        minLength: shardCount,
        maxLength: shardCount,
      }),
    }),
  );

describe('planRefill', () => {
  it('declines exactly when the sum is short; otherwise the target ends at zero or more and no source below zero', () => {
    fc.assert(
      fc.property(snapshots, fc.nat({ max: MAX_ESCROW_SHARDS - 1 }), fc.bigInt({ min: 1n, max: 200_000n }), (snapshot: EscrowSnapshot, at, amount) => {
        const target = at % snapshot.shardCount;
        const plan = planRefill(snapshot, target, amount);
        if (escrowTotal(snapshot) < amount) {
          expect(plan).toBe('insufficient');
          return;
        }
        expect(plan).not.toBe('insufficient');
        if (plan === 'insufficient') return;
        expect(plan.target).toBe(target);
        // What comes in is what the sources give, each at most what it holds, never the target itself.
        expect(plan.sources.reduce((sum, source) => sum + source.amount, 0n)).toBe(plan.refill);
        for (const source of plan.sources) {
          expect(source.amount > 0n).toBe(true);
          expect(source.from).not.toBe(target);
          const has = source.from === 'pool' ? snapshot.pool : snapshot.shards[source.from]!;
          expect(source.amount <= has).toBe(true);
        }
        expect(new Set(plan.sources.map((source) => source.from)).size).toBe(plan.sources.length);
        // The hold's condition (available >= amount - refill) holds on what was read: the shard stays >= 0.
        expect(snapshot.shards[target]! + plan.refill - amount >= 0n).toBe(true);
        // The target gets at least what it misses; a shard at or below the average gives only what the target must have.
        const missing = amount - snapshot.shards[target]!;
        expect(plan.refill >= (missing > 0n ? missing : 0n)).toBe(true);
        const average = escrowTotal(snapshot) / BigInt(snapshot.shardCount);
        const fromLevelShards = plan.sources.filter((source) => source.from !== 'pool' && snapshot.shards[source.from]! <= average).reduce((sum, source) => sum + source.amount, 0n);
        expect(fromLevelShards <= (missing > 0n ? missing : 0n)).toBe(true);
      }),
      { seed: propertySeed, numRuns: 500 },
    );
  });

  it('takes an even share of the pool, so the next approvals find the shard filled', () => {
    const plan = planRefill({ shardCount: 4, pool: 10_000n, shards: [0n, 0n, 0n, 0n] }, 2, 100n);
    expect(plan).toEqual({ target: 2, refill: 2_500n, sources: [{ from: 'pool', amount: 2_500n }] });
  });

  it('takes what is missing from the fullest shards when the pool is short', () => {
    const plan = planRefill({ shardCount: 4, pool: 30n, shards: [10n, 50n, 0n, 80n] }, 0, 150n);
    expect(plan).toEqual({
      target: 0,
      refill: 140n,
      sources: [
        { from: 'pool', amount: 30n },
        { from: 3, amount: 80n },
        { from: 1, amount: 30n },
      ],
    });
  });

  it('moves nothing when the target already covers the amount and sits at the average or above', () => {
    expect(planRefill({ shardCount: 2, pool: 0n, shards: [500n, 0n] }, 0, 500n)).toEqual({ target: 0, refill: 0n, sources: [] });
  });

  it('levels a short shard from the shards above the average when the pool is empty, not just by what it misses', () => {
    // 1,000 in all over 4 shards (average 250): shard 1 has 0 and is asked for 1.
    expect(planRefill({ shardCount: 4, pool: 0n, shards: [700n, 0n, 200n, 100n] }, 1, 1n)).toEqual({ target: 1, refill: 250n, sources: [{ from: 0, amount: 250n }] });
  });

  it('declines one minor unit short of the whole balance, even when it is spread over every shard', () => {
    const snapshot = { shardCount: 3, pool: 1n, shards: [1n, 1n, 1n] };
    expect(planRefill(snapshot, 1, 5n)).toBe('insufficient');
    expect(planRefill(snapshot, 1, 4n)).not.toBe('insufficient');
  });
});

describe('planRefill of the pool (an increment of a transaction held there before escrow)', () => {
  it('fills the pool from the fullest shards, exactly what is missing', () => {
    expect(planRefill({ shardCount: 4, pool: 10n, shards: [40n, 0n, 70n, 0n] }, 'pool', 100n)).toEqual({
      target: 'pool',
      refill: 90n,
      sources: [
        { from: 2, amount: 70n },
        { from: 0, amount: 20n },
      ],
    });
  });
});

describe('planForcedDebit', () => {
  it('takes what is available first, only the rest below zero: no positive part survives a balance below zero', () => {
    fc.assert(
      fc.property(snapshots, fc.bigInt({ min: 1n, max: 300_000n }), (snapshot: EscrowSnapshot, amount) => {
        const { sources, beyond } = planForcedDebit(snapshot, amount);
        const taken = sources.reduce((sum, source) => sum + source.amount, 0n);
        expect(taken + beyond).toBe(amount);
        expect(beyond >= 0n).toBe(true);
        const after = { pool: snapshot.pool - beyond, shards: [...snapshot.shards] };
        for (const source of sources) {
          const has = source.from === 'pool' ? snapshot.pool : snapshot.shards[source.from]!;
          expect(source.amount > 0n && source.amount <= has).toBe(true);
          if (source.from === 'pool') after.pool -= source.amount;
          else after.shards[source.from]! -= source.amount;
        }
        const positiveOf = (parts: bigint[]) => parts.filter((part) => part > 0n).reduce((sum, part) => sum + part, 0n);
        const excess = (pool: bigint, shards: bigint[]) => {
          const total = escrowTotal({ shardCount: shards.length, pool, shards });
          return positiveOf([pool, ...shards]) - (total > 0n ? total : 0n);
        };
        // What can be approved beyond the balance never grows (it is 0 in every state the platform
        // makes); and once the debit takes the pool below zero, nothing is left to approve with,
        // every shard pinned to what was read.
        expect(excess(after.pool, after.shards) <= excess(snapshot.pool, snapshot.shards)).toBe(true);
        if (beyond > 0n) {
          expect(positiveOf([after.pool, ...after.shards])).toBe(0n);
          expect(planForcedDebit(snapshot, amount).shardsAtMost).toEqual(snapshot.shards);
        } else {
          expect(planForcedDebit(snapshot, amount).shardsAtMost).toBeUndefined();
        }
      }),
      { seed: propertySeed, numRuns: 500 },
    );
  });
});
