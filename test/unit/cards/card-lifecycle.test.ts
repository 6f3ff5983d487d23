import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CARD_ACTIONS, CARD_STATUSES, isModifiable, transition, type CardAction, type CardStatus } from '../../../shared/domain/cards.ts';

/** The whole table of API.md: every action from every state. */
const expected: Record<CardStatus, Record<CardAction, CardStatus | string>> = {
  Active: { lock: 'Locked', unlock: 'card_not_locked', terminate: 'Terminated' },
  Locked: { lock: 'card_already_locked', unlock: 'Active', terminate: 'Terminated' },
  Terminated: { lock: 'card_terminated', unlock: 'card_terminated', terminate: 'card_terminated' },
};

describe('card lifecycle state machine', () => {
  for (const from of CARD_STATUSES) {
    for (const action of CARD_ACTIONS) {
      const outcome = expected[from][action];
      const isStatus = (CARD_STATUSES as readonly string[]).includes(outcome);
      it(`${action} on a ${from} card ${isStatus ? `makes it ${outcome}` : `is refused with 409 ${outcome}`}`, () => {
        const result = transition(from, action);
        if (isStatus) expect(result).toEqual({ allowed: true, to: outcome });
        else expect(result).toMatchObject({ allowed: false, code: outcome });
      });
    }
  }

  it('covers every state and action', () => {
    expect(Object.keys(expected).sort()).toEqual([...CARD_STATUSES].sort());
    for (const row of Object.values(expected)) expect(Object.keys(row).sort()).toEqual([...CARD_ACTIONS].sort());
  });

  it('termination is permanent: no sequence of actions leaves Terminated', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...CARD_ACTIONS), { maxLength: 30 }), (actions) => {
        let status: CardStatus = 'Terminated';
        for (const action of actions) {
          const result = transition(status, action);
          expect(result.allowed).toBe(false);
          if (result.allowed) status = result.to;
        }
        expect(status).toBe('Terminated');
      }),
    );
  });

  it('any sequence of allowed actions from Active stays within the three statuses and only ends Terminated via terminate', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...CARD_ACTIONS), { maxLength: 30 }), (actions) => {
        let status: CardStatus = 'Active';
        let terminated = false;
        for (const action of actions) {
          const result = transition(status, action);
          if (!result.allowed) continue;
          if (result.to === 'Terminated') {
            expect(action).toBe('terminate');
            terminated = true;
          }
          status = result.to;
        }
        expect(status === 'Terminated').toBe(terminated);
      }),
    );
  });

  it('limits can change on Active and Locked cards, not on Terminated ones', () => {
    expect(isModifiable('Active')).toBe(true);
    expect(isModifiable('Locked')).toBe(true);
    expect(isModifiable('Terminated')).toBe(false);
  });
});
