/**
 * Cards: issue, read, reveal, lock/unlock/terminate and limits. Each export is the one domain call
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
  parseCardLimits,
  transition,
  type CardAction,
  type CardAuditEvent,
  type CardAuditEventView,
  type CardFullDetailsView,
  type CardRecord,
  type CardSecrets,
  type CardView,
  type CreateCardBody,
  type ListCardAuditEventsQuery,
  type ListCardsQuery,
  type UpdateCardLimitsBody,
} from '../domain/cards.ts';
import { isUuid, newId } from '../domain/ids.ts';
import { nowIso } from '../domain/time.ts';
import { ConflictError, notFound, ServiceUnavailableError } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
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

export interface ListResult<T> {
  data: T[];
  next_cursor: string | null;
}

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

  let userId: string | null = null;
  if (body.mode === 'B2C') {
    const user = body.p_user_id && isUuid(body.p_user_id) ? await findUser(businessId, body.p_user_id) : undefined;
    if (!user) throw notFound('user');
    if (user.status !== 'Active') throw new ConflictError('user_not_active', 'The user is not Active; cards can only be issued to Active users.');
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
          ...(idempotency ? { idempotencyCompletion: idempotency.completionItem(201, view) } : {}),
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
export async function listCards(auth: BusinessAuth, query: ListCardsQuery): Promise<ListResult<CardView>> {
  if (query.p_user_id !== undefined) await requireUser(auth.businessId, query.p_user_id);
  const scope = { businessId: auth.businessId, list: `cards?status=${query.status ?? ''}&p_user_id=${query.p_user_id ?? ''}` };
  const startKey = await decodeCursor(scope, query.cursor);
  const filter = query.status ? { status: query.status } : {};
  const page = query.p_user_id
    ? await listCardsOfUser(auth.businessId, query.p_user_id, filter, query.limit, startKey)
    : await listCardsOfBusiness(auth.businessId, filter, query.limit, startKey);
  return { data: page.items.map(cardView), next_cursor: await encodeCursor(scope, page.lastKey) };
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
  const secrets = await openSecret<CardSecrets>(card.secretsCiphertext, secretsContext(card));
  return cardFullDetailsView(card.cardId, secrets);
}

/** `GET /v1/cards/{id}/audit-events`, newest first. */
export async function listCardAuditEvents(auth: BusinessAuth, cardId: string, query: ListCardAuditEventsQuery): Promise<ListResult<CardAuditEventView>> {
  const card = await requireCard(auth.businessId, cardId);
  const scope = { businessId: auth.businessId, list: `cards/${card.cardId}/audit-events` };
  const page = await listAuditEvents(card.cardId, query.limit, await decodeCursor(scope, query.cursor));
  return { data: page.items.map(cardAuditEventView), next_cursor: await encodeCursor(scope, page.lastKey) };
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
 * counted in the current windows stays counted (the counters are separate items).
 */
export function updateCardLimits(auth: BusinessAuth, cardId: string, body: UpdateCardLimitsBody, idempotency?: IdempotencyScope): Promise<CardView> {
  return changeCard(auth, cardId, idempotency, (card, now) => {
    if (!isModifiable(card.status)) throw cardTerminated();
    return { after: { ...card, limits: parseCardLimits(body, card.currency), updatedAt: now } };
  });
}

function changeStatus(auth: BusinessAuth, cardId: string, action: CardAction, idempotency?: IdempotencyScope): Promise<CardView> {
  return changeCard(auth, cardId, idempotency, (card, now) => {
    const next = transition(card.status, action);
    if (!next.allowed) throw new ConflictError(next.code, next.message);
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
      ...(idempotency ? { idempotencyCompletion: idempotency.completionItem(200, view) } : {}),
    });
    if (outcome === 'saved') return view;
  }
  throw new ServiceUnavailableError();
}

async function requireCard(businessId: string, cardId: string): Promise<StoredCard> {
  const card = await findCard(businessId, cardId);
  if (!card) throw notFound('card');
  return card;
}

function cardTerminated(): ConflictError {
  return new ConflictError('card_terminated', 'The card is terminated.');
}
