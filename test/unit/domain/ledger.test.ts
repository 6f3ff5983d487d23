import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditLegs, holdLegs, posting, releaseLegs, settleLegs, UnbalancedPostingError } from '../../../shared/domain/ledger.ts';

const owner = { kind: 'user' as const, id: 'u-1' };
const sum = (legs: { amount: bigint }[]) => legs.reduce((total, l) => total + l.amount, 0n);

describe('ledger postings', () => {
  it('refuses a posting that does not sum to zero', () => {
    expect(() =>
      posting({ postingId: 'p', kind: 'topup', reference: 'r', createdAt: 'now', legs: [{ account: 'a', currency: 'USD', amount: 1n }] }),
    ).toThrow(UnbalancedPostingError);
  });

  it('balances every kind of movement for any amounts', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.bigInt({ min: 0n, max: 10n ** 20n }), (held, x) => {
        const settled = x % (held + 1n);
        const fee = settled / 100n;
        for (const legs of [holdLegs(owner, 'USD', held), releaseLegs(owner, 'USD', held), settleLegs(owner, 'USD', held, settled, fee), creditLegs(owner, 'USD', held, 'funding')]) {
          expect(sum(legs)).toBe(0n);
        }
      }),
    );
  });

  it('moves a hold from available to pending', () => {
    expect(holdLegs(owner, 'USD', 500n)).toEqual([
      { account: 'user:u-1:USD:available', currency: 'USD', amount: -500n },
      { account: 'user:u-1:USD:pending', currency: 'USD', amount: 500n },
    ]);
  });
});
