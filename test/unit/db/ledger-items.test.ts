import { describe, expect, it } from 'vitest';
import { postingItem } from '../../../shared/db/ledger-items.ts';
import { creditLegs, posting } from '../../../shared/domain/ledger.ts';

describe('postingItem', () => {
  it('is a Put that can only insert: a posting is never overwritten', () => {
    const owner = { kind: 'user' as const, id: '0190a3c4-0000-7000-8000-00000000beef' };
    const entry = posting({
      postingId: '0190a3c4-0000-7000-8000-000000000001',
      kind: 'topup',
      reference: '0190a3c4-0000-7000-8000-000000000002',
      legs: creditLegs(owner, 'USD', 500n, 'funding'),
      createdAt: '2025-03-04T03:32:11.051Z',
    });
    expect(postingItem(entry).Put).toMatchObject({
      Item: { PK: 'POSTING#0190a3c4-0000-7000-8000-000000000001', SK: 'POSTING', entity: 'posting' },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
  });
});
