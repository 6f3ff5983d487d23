/**
 * The commands of the money model: each sends one request (or a concurrent burst) to the local
 * stack, predicts its answer from the reference model, checks it, and moves the model on.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  approve,
  capture,
  cents,
  decide,
  expire,
  forcePost,
  increment,
  refund,
  decimal,
  depositCredit,
  periodsAt,
  reverse,
  settle,
  type Limits,
  type Model,
  type ModelTransaction,
} from './model.ts';
import { call, post, type Real } from './real.ts';

type Command = fc.AsyncCommand<Model, Real, false>;

const MERCHANT = { merchant_name: 'Model Shop', merchant_id: 'mid-model', merchant_country: 'HK', mcc: '5999' };

/** A purchase as the sandbox (by card id) or the card network (by number, with its own id) sends it. */
class Authorize implements Command {
  constructor(
    readonly card: number,
    readonly amount: bigint,
    readonly via: 'simulate' | 'network',
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const card = model.cards[this.card]!;
    const networkId = `net-${randomUUID()}`;
    const answer =
      this.via === 'simulate'
        ? await post(real, 'partner', '/v1/simulate/authorizations', { card_id: card.id, amount: decimal(this.amount), currency: 'USD', ...MERCHANT })
        : await post(real, 'network', '/network/authorizations', {
            card_number: card.number,
            network_authorization_id: networkId,
            amount: decimal(this.amount),
            currency: 'USD',
            ...MERCHANT,
          });
    expect(answer.status, answer.text).toBe(201);
    recordDecision(model, this.card, this.amount, answer.body, this.via === 'network' ? networkId : undefined);
  }
  toString = () => `Authorize(card ${this.card}, ${decimal(this.amount)}, ${this.via})`;
}

/** Checks a decision against the model and applies it. */
function recordDecision(model: Model, cardIndex: number, amount: bigint, body: any, networkId?: string): ModelTransaction {
  const card = model.cards[cardIndex]!;
  const periods = periodsAt(body.p_created_at);
  const expected = decide(model, card, amount, periods);
  const txn: ModelTransaction = { id: body.id, card: cardIndex, status: 'Declined', remaining: 0n, periods: null, amount, networkId };
  if (expected === 'approve') {
    expect(body.status, JSON.stringify(body)).toBe('Authorized');
    Object.assign(txn, { status: 'Authorized', remaining: amount, periods });
    approve(model, txn);
  } else {
    expect({ status: body.status, reason: body.decline_reason }).toEqual({ status: 'Declined', reason: expected });
  }
  model.transactions.push(txn);
  return txn;
}

/** Identical purchases at once on one card: order cannot matter, so the model predicts the count. */
class Burst implements Command {
  constructor(
    readonly card: number,
    readonly amount: bigint,
    readonly size: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const card = model.cards[this.card]!;
    const answers = await Promise.all(
      Array.from({ length: this.size }, () =>
        post(real, 'partner', '/v1/simulate/authorizations', { card_id: card.id, amount: decimal(this.amount), currency: 'USD', ...MERCHANT }),
      ),
    );
    for (const answer of answers) expect(answer.status, answer.text).toBe(201);
    // Approved ones first: that is a serial order the platform could have taken.
    const ordered = [...answers].sort((a, b) => Number(b.body.status === 'Authorized') - Number(a.body.status === 'Authorized'));
    for (const answer of ordered) recordDecision(model, this.card, this.amount, answer.body);
  }
  toString = () => `Burst(card ${this.card}, ${this.size} x ${decimal(this.amount)})`;
}

/** The network sends an authorization id it used before: the same purchase, or another one. */
class RepeatNetworkId implements Command {
  constructor(
    readonly pick: number,
    readonly variant: 'same' | 'otherAmount' | 'otherCard' | 'otherBusinessCard',
  ) {}
  check = (model: Readonly<Model>) => model.transactions.some((t) => t.networkId);
  async run(model: Model, real: Real): Promise<void> {
    const previous = model.transactions.filter((t) => t.networkId);
    const first = previous[this.pick % previous.length]!;
    const card = model.cards[first.card]!;
    const otherCard = model.cards[(first.card + 1) % model.cards.length]!;
    const body = {
      card_number: this.variant === 'otherCard' ? otherCard.number : this.variant === 'otherBusinessCard' ? model.other.cardNumber : card.number,
      network_authorization_id: first.networkId,
      amount: decimal(this.variant === 'otherAmount' ? first.amount + 1n : first.amount),
      currency: 'USD',
      ...MERCHANT,
    };
    const answer = await post(real, 'network', '/network/authorizations', body);
    if (this.variant === 'same') {
      expect(answer.status, answer.text).toBe(200);
      expect({ id: answer.body.id, card: answer.body.card?.id ?? answer.body.card }).toMatchObject({ id: first.id });
    } else {
      expect(answer.status, answer.text).toBe(409);
      expect(answer.body.error.code).toBe('network_authorization_conflict');
    }
  }
  toString = () => `RepeatNetworkId(${this.pick}, ${this.variant})`;
}

/**
 * A reversal (part: half of what is held) or a settlement (part: two thirds), or the whole hold
 * by default; of a transaction that is not `Authorized` any more, a 409, except a capture of an
 * `Expired` one (a late capture: of two thirds of what the expiry released, or all of it).
 */
class Adjust implements Command {
  constructor(
    readonly action: 'reverse' | 'settle',
    readonly pick: number,
    readonly part: boolean,
    /** A settlement only: `final: false` (a partial capture that keeps the rest held). */
    readonly partial = false,
  ) {}
  check = (model: Readonly<Model>) => model.transactions.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const txn = model.transactions[this.pick % model.transactions.length]!;
    // Of an expired authorization, parts of what the expiry released (partial late captures).
    const base = txn.status === 'Expired' ? (txn.expired ?? 0n) : txn.remaining;
    const share = this.action === 'reverse' ? base / 2n : base - base / 3n;
    const amount = this.part && share > 0n && share < base ? share : undefined;
    const body = { ...(amount === undefined ? {} : { amount: decimal(amount) }), ...(this.partial ? { final: false } : {}) };
    const answer = await post(real, 'partner', `/v1/simulate/authorizations/${txn.id}/${this.action}`, body);
    // A capture of an expired authorization (a late capture) always posts what the expiry released.
    const lateCapture = this.action === 'settle' && txn.status === 'Expired' && (txn.expired ?? 0n) > 0n;
    if (txn.status !== 'Authorized' && !lateCapture) {
      expect(answer.status, answer.text).toBe(409);
      return;
    }
    expect(answer.status, answer.text).toBe(200);
    if (this.action === 'reverse') reverse(model, txn, amount ?? txn.remaining);
    else if (lateCapture) capture(model, txn, amount ?? txn.expired!, !this.partial);
    else if (this.partial) capture(model, txn, amount ?? txn.remaining, false);
    else settle(model, txn, amount ?? txn.remaining);
    expect(answer.body.status).toBe(txn.status);
  }
  toString = () => `${this.action === 'reverse' ? 'Reverse' : 'Settle'}(${this.pick}, ${this.part ? 'part' : 'all'}${this.partial ? ', final: false' : ''})`;
}

const STATUS_REFUSALS = { Declined: 'transaction_declined', Reversed: 'transaction_reversed', Settled: 'transaction_settled', Expired: 'transaction_expired' } as const;

/** An increment of an authorization by the sandbox or the network: checked like a new authorization for the extra amount. */
class Increment implements Command {
  constructor(
    readonly pick: number,
    readonly extra: bigint,
    readonly via: 'simulate' | 'network',
  ) {}
  check = (model: Readonly<Model>) => model.transactions.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const txn = model.transactions[this.pick % model.transactions.length]!;
    const path = this.via === 'simulate' ? `/v1/simulate/authorizations/${txn.id}/increment` : `/network/authorizations/${txn.id}/increment`;
    const answer = await post(real, this.via === 'simulate' ? 'partner' : 'network', path, { amount: decimal(this.extra) });
    expectIncrement(model, txn, this.extra, answer);
  }
  toString = () => `Increment(${this.pick}, ${decimal(this.extra)}, ${this.via})`;
}

function expectIncrement(model: Model, txn: ModelTransaction, extra: bigint, answer: { status: number; body: any; text: string }): void {
  if (txn.status !== 'Authorized') {
    expect([answer.status, answer.body?.error?.code], answer.text).toEqual([409, STATUS_REFUSALS[txn.status]]);
    return;
  }
  // Checked in the windows of the day it is made (a run crossing midnight UTC sees the new day's).
  const periods = periodsAt(answer.body?.p_updated_at ?? new Date().toISOString());
  const expected = decide(model, model.cards[txn.card]!, extra, periods);
  if (expected === 'approve') {
    expect(answer.status, answer.text).toBe(200);
    increment(model, txn, extra, periods);
    expect(cents(answer.body.held_amount)).toBe(-txn.remaining);
  } else {
    expect([answer.status, answer.body?.error?.code, answer.body?.error?.decline_reason], answer.text).toEqual([422, 'increment_declined', expected]);
  }
}

/** The sandbox expires an authorization now, as the hold-expiry sweeper does when its time comes. */
class Expire implements Command {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.transactions.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const txn = model.transactions[this.pick % model.transactions.length]!;
    const answer = await post(real, 'partner', `/v1/simulate/authorizations/${txn.id}/expire`, {});
    if (txn.status !== 'Authorized') {
      expect([answer.status, answer.body?.error?.code], answer.text).toEqual([409, STATUS_REFUSALS[txn.status]]);
      return;
    }
    expect(answer.status, answer.text).toBe(200);
    expire(model, txn);
    expect(answer.body).toMatchObject({ status: 'Expired', held_amount: '0' });
  }
  toString = () => `Expire(${this.pick})`;
}

/**
 * A force post or a refund from the network (by card number) or the sandbox (by card id): new,
 * or a network id sent again with the same terms (the first answer, 200) or another amount (409).
 */
class NetworkPosting implements Command {
  constructor(
    readonly kind: 'settlements' | 'refunds',
    readonly card: number,
    readonly amount: bigint,
    readonly variant: 'new' | 'repeat' | 'otherAmount',
    readonly via: 'simulate' | 'network',
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const previous = model.networkPostings.filter((p) => p.kind === this.kind);
    const first = this.variant === 'new' ? undefined : previous.at(-1);
    const card = model.cards[first?.card ?? this.card]!;
    const networkId = first?.networkId ?? `${this.kind}-${randomUUID()}`;
    const amount = first ? (this.variant === 'repeat' ? first.amount : first.amount + 1n) : this.amount;
    const idField = this.kind === 'settlements' ? 'network_settlement_id' : 'network_refund_id';
    const body = { [idField]: networkId, amount: decimal(amount), currency: 'USD', ...MERCHANT, ...(first?.refundOf ? { transaction_id: first.refundOf } : {}) };
    const answer =
      this.via === 'network'
        ? await post(real, 'network', `/network/${this.kind}`, { card_number: card.number, ...body })
        : await post(real, 'partner', `/v1/simulate/${this.kind}`, { card_id: card.id, ...body });
    if (first && this.variant === 'repeat') {
      expect([answer.status, answer.body?.id], answer.text).toEqual([200, first.transactionId]);
      return;
    }
    if (first) {
      expect([answer.status, answer.body?.error?.code], answer.text).toEqual([409, this.kind === 'settlements' ? 'network_settlement_conflict' : 'network_refund_conflict']);
      return;
    }
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body).toMatchObject({ status: 'Settled', type: this.kind === 'settlements' ? 'Sales' : 'Refund' });
    if (this.kind === 'settlements') forcePost(model, card, amount, periodsAt(answer.body.p_created_at));
    else refund(model, card, amount);
    model.networkPostings.push({ kind: this.kind, networkId, card: model.cards.indexOf(card), amount, transactionId: answer.body.id });
  }
  toString = () => `NetworkPosting(${this.kind}, card ${this.card}, ${decimal(this.amount)}, ${this.variant}, ${this.via})`;
}

/**
 * An increment and a final capture of one authorization at once: either order may win, and the
 * answers say which (after the capture, the increment is a 409; before it, the capture posts the
 * enlarged hold or the increment was declined and moved nothing).
 */
class IncrementRacesCapture implements Command {
  constructor(
    readonly pick: number,
    readonly extra: bigint,
  ) {}
  check = (model: Readonly<Model>) => model.transactions.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const txn = model.transactions[this.pick % model.transactions.length]!;
    const [inc, cap] = await Promise.all([
      post(real, 'network', `/network/authorizations/${txn.id}/increment`, { amount: decimal(this.extra) }),
      post(real, 'partner', `/v1/simulate/authorizations/${txn.id}/settle`, {}),
    ]);
    if (txn.status !== 'Authorized') {
      expect(inc.status, inc.text).toBe(409);
      expect(cap.status, cap.text).toBe(txn.status === 'Expired' && (txn.expired ?? 0n) > 0n ? 200 : 409);
      if (cap.status === 200) capture(model, txn, txn.expired!, true);
      return;
    }
    expect(cap.status, cap.text).toBe(200);
    if (inc.status === 409) {
      // The capture went first: the increment found it Settled.
      expect(inc.body.error.code).toBe('transaction_settled');
      settle(model, txn, txn.remaining);
    } else {
      // The increment went first (approved, or declined and nothing moved); the capture took all that was then held.
      expectIncrement(model, txn, this.extra, inc);
      expect(cap.body).toMatchObject({ status: 'Settled', held_amount: '0' });
      settle(model, txn, txn.remaining);
    }
  }
  toString = () => `IncrementRacesCapture(${this.pick}, ${decimal(this.extra)})`;
}

/** A refund to a card while one of its authorizations expires: both apply, whatever the order. */
class RefundRacesExpiry implements Command {
  constructor(
    readonly pick: number,
    readonly amount: bigint,
  ) {}
  check = (model: Readonly<Model>) => model.transactions.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const txn = model.transactions[this.pick % model.transactions.length]!;
    const card = model.cards[txn.card]!;
    const networkId = `refunds-${randomUUID()}`;
    const [refunded, expired] = await Promise.all([
      post(real, 'network', '/network/refunds', { card_number: card.number, network_refund_id: networkId, amount: decimal(this.amount), currency: 'USD', transaction_id: txn.id, ...MERCHANT }),
      post(real, 'partner', `/v1/simulate/authorizations/${txn.id}/expire`, {}),
    ]);
    expect(refunded.status, refunded.text).toBe(201);
    refund(model, card, this.amount);
    model.networkPostings.push({ kind: 'refunds', networkId, card: txn.card, amount: this.amount, transactionId: refunded.body.id, refundOf: txn.id });
    if (txn.status !== 'Authorized') {
      expect(expired.status, expired.text).toBe(409);
      return;
    }
    expect(expired.status, expired.text).toBe(200);
    expire(model, txn);
  }
  toString = () => `RefundRacesExpiry(${this.pick}, ${decimal(this.amount)})`;
}

class TopUp implements Command {
  constructor(readonly amount: bigint) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const answer = await post(real, 'partner', '/v1/simulate/topups', { currency: 'USD', amount: decimal(this.amount) });
    expect(answer.status, answer.text).toBe(201);
    model.business.available += this.amount;
  }
  toString = () => `TopUp(${decimal(this.amount)})`;
}

/** A USDT transfer on TRON to a user's address: new, reported again, or another log of the same transaction. */
class Deposit implements Command {
  constructor(
    readonly user: number,
    readonly amountMicros: bigint,
    readonly mode: 'new' | 'repeat' | 'reposition',
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const previous = model.deposits.filter((d) => d.user === this.user);
    const last = previous.at(-1);
    const mode = last ? this.mode : 'new';
    const deposit =
      mode === 'repeat'
        ? last!
        : mode === 'reposition'
          ? { txHash: last!.txHash, logIndex: Math.max(...previous.filter((d) => d.txHash === last!.txHash).map((d) => d.logIndex)) + 1, amountMicros: this.amountMicros, user: this.user }
          : { txHash: randomBytes(32).toString('hex'), logIndex: 0, amountMicros: this.amountMicros, user: this.user };
    const user = model.users[this.user]!;
    const answer = await post(real, 'partner', '/v1/simulate/deposits', {
      chain: 'TRON',
      address: user.address,
      asset: 'USDT',
      amount: microsText(deposit.amountMicros),
      tx_hash: deposit.txHash,
      log_index: deposit.logIndex,
    });
    if (mode === 'repeat') {
      expect(answer.status, answer.text).toBe(200);
      return;
    }
    expect(answer.status, answer.text).toBe(201);
    model.deposits.push(deposit);
    user.balance.available += depositCredit(deposit.amountMicros);
  }
  toString = () => `Deposit(user ${this.user}, ${microsText(this.amountMicros)}, ${this.mode})`;
}

class Transfer implements Command {
  constructor(
    readonly from: number,
    readonly to: number,
    readonly amount: bigint,
    readonly ekycMatches: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const sender = model.users[this.from]!;
    const receiver = model.users[this.to]!;
    const party = (u: typeof sender, ok: boolean) => ({ p_user_id: u.id, ...u.ekyc, ...(ok ? {} : { id_number: `${u.ekyc.id_number}X` }) });
    const answer = await post(real, 'partner', '/v1/transfers', {
      sender_party: party(sender, this.ekycMatches),
      receiver_party: party(receiver, true),
      currency: 'USD',
      amount: decimal(this.amount),
    });
    const expected =
      this.from === this.to
        ? [422, 'same_user']
        : !this.ekycMatches
          ? [422, 'ekyc_mismatch']
          : sender.status !== 'Active' || receiver.status !== 'Active'
            ? [409, 'user_not_active']
            : sender.balance.available < this.amount
              ? [422, 'insufficient_balance']
              : [201, undefined];
    expect([answer.status, answer.body?.error?.code], answer.text).toEqual(expected);
    if (answer.status === 201) {
      sender.balance.available -= this.amount;
      receiver.balance.available += this.amount;
    }
  }
  toString = () => `Transfer(${this.from} -> ${this.to}, ${decimal(this.amount)}${this.ekycMatches ? '' : ', wrong eKYC'})`;
}

class SetLimits implements Command {
  constructor(
    readonly card: number,
    readonly limits: Limits,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const card = model.cards[this.card]!;
    const body = Object.fromEntries(Object.entries(this.limits).map(([k, v]) => [k, decimal(v)]));
    const answer = await call(real, 'partner', 'PUT', `/v1/cards/${card.id}/limits`, body);
    if (card.status === 'Terminated') return;
    expect(answer.status, answer.text).toBe(200);
    card.limits = { ...this.limits };
  }
  toString = () => `SetLimits(card ${this.card}, ${Object.values(this.limits).map(decimal).join('/')})`;
}

class ToggleLock implements Command {
  constructor(readonly card: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const card = model.cards[this.card]!;
    const action = card.status === 'Active' ? 'lock' : 'unlock';
    const answer = await post(real, 'partner', `/v1/cards/${card.id}/${action}`, {});
    expect(answer.status, answer.text).toBe(200);
    card.status = action === 'lock' ? 'Locked' : 'Active';
  }
  toString = () => `ToggleLock(card ${this.card})`;
}

class ToggleUser implements Command {
  constructor(readonly user: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const user = model.users[this.user]!;
    const status = user.status === 'Active' ? 'Suspended' : 'Active';
    const answer = await call(real, 'partner', 'PATCH', `/v1/users/${user.id}`, { status });
    expect(answer.status, answer.text).toBe(200);
    user.status = status;
  }
  toString = () => `ToggleUser(${this.user})`;
}

/** An Idempotency-Key sent again: with the same body it replays the first answer; with another, 422. */
class Replay implements Command {
  constructor(
    readonly pick: number,
    readonly sameBody: boolean,
  ) {}
  check = () => true;
  async run(_model: Model, real: Real): Promise<void> {
    if (real.exchanges.length === 0) return;
    const first = real.exchanges[this.pick % real.exchanges.length]!;
    const body = this.sameBody ? first.body : { ...first.body, amount: 'amount' in first.body ? '0.07' : '0.03' };
    const answer = await call(real, first.caller, 'POST', first.path, body, { 'idempotency-key': first.key });
    if (this.sameBody) {
      expect({ status: answer.status, body: answer.text }).toEqual({ status: first.answer.status, body: first.answer.text });
    } else if (JSON.stringify(body) !== JSON.stringify(first.body)) {
      expect([answer.status, answer.body?.error?.code], answer.text).toEqual([422, 'idempotency_key_reused']);
    }
  }
  toString = () => `Replay(${this.pick}, ${this.sameBody ? 'same body' : 'other body'})`;
}

/** Ids of the other business, used by this one: each is a 404 and moves nothing. */
class ForeignIds implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const { other } = model;
    const answers = [
      await call(real, 'partner', 'GET', `/v1/cards/${other.cardId}`),
      await post(real, 'partner', `/v1/simulate/authorizations/${other.transactionId}/reverse`, {}),
      await post(real, 'partner', `/v1/simulate/authorizations/${other.transactionId}/settle`, {}),
      await post(real, 'partner', `/v1/simulate/authorizations/${other.transactionId}/increment`, { amount: '1.00' }),
      await post(real, 'partner', `/v1/simulate/authorizations/${other.transactionId}/expire`, {}),
      await post(real, 'partner', '/v1/simulate/refunds', { card_id: other.cardId, network_refund_id: `refunds-${randomUUID()}`, amount: '1.00', currency: 'USD' }),
      await post(real, 'partner', '/v1/simulate/settlements', { card_id: other.cardId, network_settlement_id: `settlements-${randomUUID()}`, amount: '1.00', currency: 'USD' }),
      await post(real, 'partner', '/v1/simulate/authorizations', { card_id: other.cardId, amount: '1.00', currency: 'USD', ...MERCHANT }),
      await call(real, 'partner', 'GET', `/v1/transactions/${other.transactionId}`),
      await call(real, 'partner', 'GET', `/v1/users/${other.userId}/balances`),
    ];
    for (const answer of answers) expect(answer.status, answer.text).toBe(404);
  }
  toString = () => 'ForeignIds()';
}

const cardIndex = fc.nat({ max: 2 });
const userIndex = fc.nat({ max: 1 });
const amount = fc.oneof(fc.constantFrom(1n, 50n, 100n, 999n, 2_500n), fc.bigInt({ min: 1n, max: 40_000n }));
const limit = fc.constantFrom(0n, 0n, 500n, 3_000n, 20_000n);

export const commandArbitraries: fc.Arbitrary<Command>[] = [
  fc.tuple(cardIndex, amount, fc.constantFrom('simulate' as const, 'network' as const)).map(([c, a, via]) => new Authorize(c, a, via)),
  fc.tuple(cardIndex, amount, fc.constantFrom('simulate' as const, 'network' as const)).map(([c, a, via]) => new Authorize(c, a, via)),
  fc.tuple(cardIndex, fc.constantFrom(100n, 700n, 2_000n), fc.integer({ min: 3, max: 8 })).map(([c, a, n]) => new Burst(c, a, n)),
  fc.tuple(fc.nat(), fc.constantFrom('same' as const, 'otherAmount' as const, 'otherCard' as const, 'otherBusinessCard' as const)).map(([p, v]) => new RepeatNetworkId(p, v)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, part]) => new Adjust('reverse', p, part)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, part]) => new Adjust('settle', p, part)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, part]) => new Adjust('settle', p, part, true)),
  fc.tuple(fc.nat(), amount, fc.constantFrom('simulate' as const, 'network' as const)).map(([p, a, via]) => new Increment(p, a, via)),
  fc.nat().map((p) => new Expire(p)),
  fc
    .tuple(fc.constantFrom('settlements' as const, 'refunds' as const), cardIndex, amount, fc.constantFrom('new' as const, 'new' as const, 'repeat' as const, 'otherAmount' as const), fc.constantFrom('simulate' as const, 'network' as const))
    .map(([kind, c, a, variant, via]) => new NetworkPosting(kind, c, a, variant, via)),
  fc.tuple(fc.nat(), amount).map(([p, a]) => new IncrementRacesCapture(p, a)),
  fc.tuple(fc.nat(), amount).map(([p, a]) => new RefundRacesExpiry(p, a)),
  fc.bigInt({ min: 1n, max: 50_000n }).map((a) => new TopUp(a)),
  fc.tuple(userIndex, fc.bigInt({ min: 1n, max: 200_000_000n }), fc.constantFrom('new' as const, 'repeat' as const, 'reposition' as const)).map(([u, a, m]) => new Deposit(u, a, m)),
  fc.tuple(userIndex, userIndex, amount, fc.boolean()).map(([f, t, a, ok]) => new Transfer(f, t, a, ok)),
  fc.tuple(cardIndex, fc.record({ transaction: limit, daily: limit, monthly: limit, lifetime: limit })).map(([c, l]) => new SetLimits(c, l)),
  cardIndex.map((c) => new ToggleLock(c)),
  userIndex.map((u) => new ToggleUser(u)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, same]) => new Replay(p, same)),
  fc.constant(new ForeignIds()),
];

function microsText(value: bigint): string {
  return `${value / 1_000_000n}.${String(value % 1_000_000n).padStart(6, '0')}`;
}

