/**
 * The partition prefixes IAM conditions name (infra/constructs/access.ts) must match the keys the
 * repositories actually write: IAM sees only the partition key, so a posting or audit event outside
 * its prefix could be changed, and another entity inside one could never be updated.
 */
import { describe, expect, it } from 'vitest';
import * as keys from '../../../shared/db/keys.ts';
import { APPEND_ONLY_PARTITIONS, cardKeys, DELETABLE_PARTITIONS, idempotencyKeys, postingKeys } from '../../../shared/db/keys.ts';

const ID = '0190a3c4-0000-7000-8000-000000000001';
const appendOnly = (pk: string) => APPEND_ONLY_PARTITIONS.some((prefix) => pk.startsWith(prefix));

/** The partition key of every builder of every entity, called with placeholder arguments. */
function everyPartitionKey(): { builder: string; pk: string }[] {
  const found: { builder: string; pk: string }[] = [];
  for (const [group, builders] of Object.entries(keys)) {
    if (typeof builders !== 'object' || Array.isArray(builders)) continue;
    for (const [name, build] of Object.entries(builders as Record<string, unknown>)) {
      if (typeof build !== 'function') continue;
      const key = build(...Array.from({ length: build.length }, () => ID)) as { PK?: unknown };
      if (typeof key?.PK === 'string') found.push({ builder: `${group}.${name}`, pk: key.PK });
    }
  }
  return found;
}

describe('append-only partitions', () => {
  it('hold every ledger posting and every card audit event', () => {
    expect(appendOnly(postingKeys.posting(ID).PK)).toBe(true);
    expect(appendOnly(cardKeys.auditEvent(ID, ID).PK)).toBe(true);
    expect(cardKeys.auditEventsPrefix(ID).PK).toBe(cardKeys.auditEvent(ID, ID).PK);
  });

  it('hold nothing else, so every other entity stays updatable', () => {
    const appendOnlyBuilders = ['postingKeys.posting', 'cardKeys.auditEvent', 'cardKeys.auditEventsPrefix'];
    const others = everyPartitionKey().filter(({ builder }) => !appendOnlyBuilders.includes(builder));
    expect(others.length).toBeGreaterThan(10);
    expect(others.filter(({ pk }) => appendOnly(pk))).toEqual([]);
  });
});

describe('deletable partitions', () => {
  it('hold the idempotency markers a failed request releases', () => {
    expect(idempotencyKeys.record(ID, 'key').PK.startsWith(DELETABLE_PARTITIONS.idempotency)).toBe(true);
  });

  it('never overlap an append-only partition', () => {
    for (const prefix of Object.values(DELETABLE_PARTITIONS)) expect(appendOnly(prefix)).toBe(false);
  });
});
