/**
 * Cards: issue, read, reveal, lock/unlock/terminate, limits, controls and what a card may still
 * spend. Each export is the one domain call
 * of a handler under functions/cards/.
 *
 * Card secrets (number, expiry, CVV) are generated here from the CSPRNG, sealed at once with
 * envelope encryption, and from then on exist only as ciphertext and as the number's keyed hash.
 * The only way back to them is `revealFullDetails`, which writes an audit event before it decrypts.
 */
import { randomInt } from 'node:crypto';
import { config } from '../config.ts';
import { openSecret, sealSecret, type EncryptionContext } from '../crypto/envelope.ts';
import {
  allocateUnique,
  expiryFor,
  generateCardNumber,
  generateCvv,
  lastFour,
  maskCardNumber,
  type RandomInt,
} from '../domain/card-number.ts';
import {
  cardAuditEventView,
  cardFullDetailsView,
  cardView,
  isModifiable,
  limitsView,
  parseCardLimits,
  transition,
  type CardAction,
  type CardAuditEvent,
  type CardAuditEventView,
  type CardSettingsChange,
  type CardFullDetailsView,
  type CardRecord,
  type CardSecrets,
  type CardView,
  type CreateCardBody,
  type ListCardAuditEventsQuery,
  type ListCardsQuery,
  type UpdateCardLimitsBody,
  type UpdateControlsBody,
} from '../domain/cards.ts';
import { controlsView, effectiveMaxDailyCount, parseControls } from '../domain/controls.ts';
import { formatMoney } from '../domain/money.ts';
import { windowPeriods, windowResets } from '../domain/spend-windows.ts';
import { isoFromMicros } from '../domain/time.ts';
import { getBusinessControls } from '../db/controls-repository.ts';
import { getCardCounters } from '../db/transactions-repository.ts';
import { requireBusiness } from '../db/businesses-repository.ts';
import type { CardSpendView } from '../domain/cards.ts';
import { isUuid, newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { ApiError, notFound } from '../errors.ts';
import { decodeCursor, listPage, type ListPage } from '../http/cursor.ts';
import type { BusinessAuth } from '../http/handler.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import {
  cardNumberHash,
  findCard,
  insertCard,
  listAuditEvents,
  listCardsOfBusiness,
  listCardsOfUser,
  recordAuditEvent,
  saveCardChange,
  type StoredCard,
} from '../db/cards-repository.ts';
import { findUser } from '../db/users-repository.ts';
import { requireUser } from './users.ts';

/** The platform's CSPRNG; the pure generators take it as a parameter. */
const csprng: RandomInt = (maxExclusive) => randomInt(maxExclusive);


/** Encryption context of a card's secret bundle: a ciphertext copied to another card will not open. */
function secretsContext(card: { businessId: string; cardId: string }): EncryptionContext {
  return { business_id: card.businessId, card_id: card.cardId, purpose: 'card' };
}

function shippingContext(card: { businessId: string; cardId: string }): EncryptionContext {
  return { business_id: card.businessId, card_id: card.cardId, purpose: 'card-shipping' };
}

/**
 * `POST /v1/cards`. A B2C card needs an Active user of the same business, checked on read (for
 * the right error) and again inside the card's transaction (so a concurrent suspension cannot slip
 * through). The number is retried on the rare collision with an existing card's number.
 */
export async function createCard(auth: BusinessAuth, body: CreateCardBody, idempotency?: IdempotencyScope): Promise<CardView> {
  const businessId = auth.businessId;
  const limits = parseCardLimits(body.limits ?? {}, body.currency, 'limits.');
  const controls = parseControls(body.controls);

  let userId: string | null = null;
  if (body.mode === 'B2C') {
    const user = body.p_user_id && isUuid(body.p_user_id) ? await findUser(businessId, body.p_user_id) : undefined;
    if (!user) throw notFound('user');
    if (user.status !== 'Active') throw new ApiError('user_not_active');
    userId = user.userId;
  }

  const cardId = newId();
  const now = nowIso();
  const expiry = expiryFor(new Date(now));
  const cvv = generateCvv(csprng);
  const shippingCiphertext = body.shipping ? await sealSecret(body.shipping, shippingContext({ businessId, cardId })) : null;
  const bin = config().CARD_BIN;

  return allocateUnique(
    () => generateCardNumber(bin, csprng),
    async (number) => {
      const card: CardRecord = {
        cardId,
        businessId,
        mode: body.mode,
        userId,
        form: body.form,
        status: 'Active',
        currency: body.currency,
        maskedNumber: maskCardNumber(number),
        last4: lastFour(number),
        limits,
        controls,
        nickname: body.nickname ?? null,
        createdAt: now,
        createdBy: auth.keyId,
        updatedAt: now,
        statusChangedAt: now,
        statusChangedBy: auth.keyId,
        version: 1,
      };
      const secrets: CardSecrets = { number, expiry_month: expiry.month, expiry_year: expiry.year, cvv };
      const view = cardView(card);
      const outcome = await insertCard(
        { ...card, secretsCiphertext: await sealSecret(secrets, secretsContext(card)), shippingCiphertext },
        await cardNumberHash(number),
        {
          ...(userId ? { activeUser: { businessId, userId } } : {}),
          ...(idempotency ? { idempotencyCompletion: idempotency.completionItem(view) } : {}),
        },
      );
      return outcome === 'inserted' ? view : 'taken';
    },
  );
}

/** `GET /v1/cards/{id}` */
export async function getCard(auth: BusinessAuth, cardId: string): Promise<CardView> {
  return cardView(await requireCard(auth.businessId, cardId));
}

/**
 * `GET /v1/cards?status=&p_user_id=`, newest first. A `p_user_id` names a user like a path does:
 * one that is not the caller's (or not an id at all) is `404 user_not_found`, not an empty page.
 */
export async function listCards(auth: BusinessAuth, query: ListCardsQuery): Promise<ListPage<CardView>> {
  if (query.p_user_id !== undefined) await requireUser(auth.businessId, query.p_user_id);
  const scope = { businessId: auth.businessId, list: `cards?status=${query.status ?? ''}&p_user_id=${query.p_user_id ?? ''}` };
  const startKey = await decodeCursor(scope, query.cursor);
  const filter = query.status ? { status: query.status } : {};
  const page = query.p_user_id
    ? await listCardsOfUser(auth.businessId, query.p_user_id, filter, query.limit, startKey)
    : await listCardsOfBusiness(auth.businessId, filter, query.limit, startKey);
  return listPage(scope, page.items.map(cardView), page.lastKey);
}

/**
 * `GET /v1/cards/{id}/full`: the number, expiry and CVV. The audit event (who, when, which card;
 * never the values) is committed before anything is decrypted: if it cannot be written, nothing is
 * revealed. A terminated card's details are not revealed (409 `card_terminated`): it can never be
 * used again, so there is no legitimate reason to display it.
 */
export async function revealFullDetails(auth: BusinessAuth, cardId: string): Promise<CardFullDetailsView> {
  const card = await requireCard(auth.businessId, cardId);
  if (card.status === 'Terminated') throw cardTerminated();
  await recordAuditEvent({
    eventId: newId(),
    cardId: card.cardId,
    businessId: card.businessId,
    keyId: auth.keyId,
    action: 'reveal',
    fromStatus: null,
    toStatus: null,
    at: nowIso(),
  });
  return cardFullDetailsView(card.cardId, await openCardSecrets(card));
}

/**
 * Opens a card's number, expiry and CVV. Only for the two ways of revealing them (`/full` and a
 * reveal link), each after it wrote the reveal's audit event; only their rows may decrypt `card`.
 */
export function openCardSecrets(card: StoredCard): Promise<CardSecrets> {
  return openSecret<CardSecrets>(card.secretsCiphertext, secretsContext(card));
}

/** `GET /v1/cards/{id}/audit-events`, newest first. */
export async function listCardAuditEvents(auth: BusinessAuth, cardId: string, query: ListCardAuditEventsQuery): Promise<ListPage<CardAuditEventView>> {
  const card = await requireCard(auth.businessId, cardId);
  const scope = { businessId: auth.businessId, list: `cards/${card.cardId}/audit-events` };
  const page = await listAuditEvents(card.cardId, query.limit, await decodeCursor(scope, query.cursor));
  return listPage(scope, page.items.map(cardAuditEventView), page.lastKey);
}

/** `POST /v1/cards/{id}/lock` */
export function lockCard(auth: BusinessAuth, cardId: string, idempotency?: IdempotencyScope): Promise<CardView> {
  return changeStatus(auth, cardId, 'lock', idempotency);
}

/** `POST /v1/cards/{id}/unlock` */
export function unlockCard(auth: BusinessAuth, cardId: string, idempotency?: IdempotencyScope): Promise<CardView> {
  return changeStatus(auth, cardId, 'unlock', idempotency);
}

/** `POST /v1/cards/{id}/terminate` (permanent). */
export function terminateCard(auth: BusinessAuth, cardId: string, idempotency?: IdempotencyScope): Promise<CardView> {
  return changeStatus(auth, cardId, 'terminate', idempotency);
}

/**
 * `PUT /v1/cards/{id}/limits`. The new limits apply from the next authorization; spend already
 * counted in the current windows stays counted (the counters are separate items). The change and
 * its audit event (limits before and after) are one transaction.
 */
export function updateCardLimits(auth: BusinessAuth, cardId: string, body: UpdateCardLimitsBody, idempotency?: IdempotencyScope): Promise<CardView> {
  return changeCard(auth, cardId, idempotency, (card, now) => {
    if (!isModifiable(card.status)) throw cardTerminated();
    const limits = parseCardLimits(body, card.currency);
    return {
      after: { ...card, limits, updatedAt: now },
      audit: settingsAudit(auth, card, now, 'limits_update', {
        setting: 'limits',
        from: limitsView(card.limits, card.currency),
        to: limitsView(limits, card.currency),
      }),
    };
  });
}

/**
 * `PUT /v1/cards/{id}/controls`: the card's whole set of controls (a missing field is cleared).
 * Applies from the next authorization: the card's version moves, so an authorization decided on
 * the old controls fails its card check and decides again. Audited like a limit change.
 */
export function updateCardControls(auth: BusinessAuth, cardId: string, body: UpdateControlsBody, idempotency?: IdempotencyScope): Promise<CardView> {
  return changeCard(auth, cardId, idempotency, (card, now) => {
    if (!isModifiable(card.status)) throw cardTerminated();
    const controls = parseControls(body);
    return {
      after: { ...card, controls, updatedAt: now },
      audit: settingsAudit(auth, card, now, 'controls_update', { setting: 'controls', from: controlsView(card.controls), to: controlsView(controls) }),
    };
  });
}

function settingsAudit(auth: BusinessAuth, card: StoredCard, at: string, action: 'limits_update' | 'controls_update', change: CardSettingsChange): CardAuditEvent {
  return { eventId: newId(), cardId: card.cardId, businessId: card.businessId, keyId: auth.keyId, action, fromStatus: null, toStatus: null, change, at };
}

/**
 * `GET /v1/cards/{id}/spend`: the current day, month and lifetime windows in the card currency,
 * and the day's approval count against the governing `max_daily_count` (the stricter of the card's
 * and the business's). Read strongly consistent, so it matches what the next authorization sees.
 */
export async function getCardSpend(auth: BusinessAuth, cardId: string): Promise<CardSpendView> {
  const card = await requireCard(auth.businessId, cardId);
  const at = new Date();
  const [business, businessControls] = await Promise.all([requireBusiness(card.businessId), getBusinessControls(card.businessId, true)]);
  const periods = windowPeriods(at, business.timezone);
  const counters = await getCardCounters(card.cardId, periods);
  const resets = windowResets(at, business.timezone);
  const money = (minor: bigint) => formatMoney(minor, card.currency);
  const window = (kind: 'daily' | 'monthly' | 'lifetime') => {
    const limit = card.limits[kind];
    const spent = counters.spent[kind] > 0n ? counters.spent[kind] : 0n;
    return { limit: money(limit), spent: money(spent), remaining: limit === 0n ? null : money(limit > spent ? limit - spent : 0n) };
  };
  const timestamp = (date: Date) => isoFromMicros(BigInt(date.getTime()) * 1000n);
  return {
    currency: card.currency,
    daily: { ...window('daily'), resets_at: timestamp(resets.daily) },
    monthly: { ...window('monthly'), resets_at: timestamp(resets.monthly) },
    lifetime: window('lifetime'),
    daily_count: { limit: effectiveMaxDailyCount([card.controls, businessControls.controls]), used: counters.approvedToday },
  };
}

function changeStatus(auth: BusinessAuth, cardId: string, action: CardAction, idempotency?: IdempotencyScope): Promise<CardView> {
  return changeCard(auth, cardId, idempotency, (card, now) => {
    const next = transition(card.status, action);
    if (!next.allowed) throw new ApiError(next.code);
    return {
      after: { ...card, status: next.to, statusChangedAt: now, statusChangedBy: auth.keyId, updatedAt: now },
      audit: {
        eventId: newId(),
        cardId: card.cardId,
        businessId: card.businessId,
        keyId: auth.keyId,
        action,
        fromStatus: card.status,
        toStatus: next.to,
        at: now,
      },
    };
  });
}

/** Optimistic-concurrency retries of one change; a conflict means another change just committed. */
const MAX_CHANGE_ATTEMPTS = 3;

/**
 * Read, decide with the pure rules, write conditionally on the version read; if the card changed
 * in between, decide again from its new state (so e.g. a lock racing a terminate gets the
 * state machine's answer, never a lost update).
 */
async function changeCard(
  auth: BusinessAuth,
  cardId: string,
  idempotency: IdempotencyScope | undefined,
  decide: (card: StoredCard, now: string) => { after: CardRecord; audit?: CardAuditEvent },
): Promise<CardView> {
  for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
    const card = await requireCard(auth.businessId, cardId);
    const { after, audit } = decide(card, nowIso());
    const view = cardView(after);
    const outcome = await saveCardChange(card, after, {
      ...(audit ? { auditEvent: audit } : {}),
      ...(idempotency ? { idempotencyCompletion: idempotency.completionItem(view) } : {}),
    });
    if (outcome === 'saved') return view;
  }
  throw new ApiError('service_unavailable');
}

/** The business's card, or `404 card_not_found` (another business's card is a missing one). */
export async function requireCard(businessId: string, cardId: string): Promise<StoredCard> {
  const card = await findCard(businessId, cardId);
  if (!card) throw notFound('card');
  return card;
}

function cardTerminated(): ApiError {
  return new ApiError('card_terminated');
}
