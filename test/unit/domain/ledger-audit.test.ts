import { describe, expect, it } from 'vitest';
import { auditLedger } from '../../../shared/domain/ledger-audit.ts';

const topup = [
  { postingId: 'p1', account: 'funding:USD', currency: 'USD', amount: -1000n },
  { postingId: 'p1', account: 'business:b:USD:available', currency: 'USD', amount: 1000n },
];
const hold = [
  { postingId: 'p2', account: 'business:b:USD:available', currency: 'USD', amount: -300n },
  { postingId: 'p2', account: 'business:b:USD:pending', currency: 'USD', amount: 300n },
];

describe('auditLedger', () => {
  it('finds nothing when every balance is the replay of its entries', () => {
    const report = auditLedger([{ owner: 'business:b', currency: 'USD', available: 700n, pending: 300n }], [...topup, ...hold]);
    expect(report).toEqual({ postings: 2, balances: 1, findings: [] });
  });

  it('adds up a business balance kept in several items (its pool and escrow shards)', () => {
    const items = [
      { owner: 'business:b', currency: 'USD', available: 200n, pending: 0n },
      { owner: 'business:b', currency: 'USD', available: 450n, pending: 300n },
      { owner: 'business:b', currency: 'USD', available: 50n, pending: 0n },
    ];
    expect(auditLedger(items, [...topup, ...hold]).findings).toEqual([]);
    // A unit moved out of a shard with no posting shows, whichever item lost it.
    const leak = items.map((item, index) => (index === 2 ? { ...item, available: 49n } : item));
    expect(auditLedger(leak, [...topup, ...hold]).findings).toEqual([{ kind: 'balance_mismatch', account: 'business:b:USD:available', stored: '699', replayed: '700' }]);
  });

  it('reports a balance that disagrees with its ledger', () => {
    const report = auditLedger([{ owner: 'business:b', currency: 'USD', available: 701n, pending: 300n }], [...topup, ...hold]);
    expect(report.findings).toEqual([{ kind: 'balance_mismatch', account: 'business:b:USD:available', stored: '701', replayed: '700' }]);
  });

  it('reports entries whose balance item is missing', () => {
    const report = auditLedger([], topup);
    expect(report.findings).toEqual([{ kind: 'balance_mismatch', account: 'business:b:USD:available', stored: '0', replayed: '1000' }]);
  });

  it('reports an unbalanced posting and a negative balance', () => {
    const report = auditLedger(
      [{ owner: 'user:u', currency: 'USD', available: -5n, pending: 0n }],
      [{ postingId: 'p9', account: 'user:u:USD:available', currency: 'USD', amount: -5n }],
    );
    expect(report.findings).toContainEqual({ kind: 'unbalanced_posting', postingId: 'p9', currency: 'USD', off_by: '-5' });
    expect(report.findings).toContainEqual({ kind: 'negative_balance', account: 'user:u:USD:available', amount: '-5' });
  });

  it('accepts an available balance below zero only where a forced capture took it there', () => {
    const forcedPost = [
      { postingId: 'p3', account: 'business:b:USD:available', currency: 'USD', amount: -1500n, kind: 'forced_capture' },
      { postingId: 'p3', account: 'network:USD', currency: 'USD', amount: 1500n, kind: 'forced_capture' },
    ];
    const forced = auditLedger([{ owner: 'business:b', currency: 'USD', available: -800n, pending: 300n }], [...topup, ...hold, ...forcedPost]);
    expect(forced.findings).toEqual([]);
    const unforced = forcedPost.map((l) => ({ ...l, kind: 'settlement' }));
    const report = auditLedger([{ owner: 'business:b', currency: 'USD', available: -800n, pending: 300n }], [...topup, ...hold, ...unforced]);
    expect(report.findings).toEqual([{ kind: 'negative_balance', account: 'business:b:USD:available', amount: '-800' }]);
  });
});
