/**
 * Cards in the single table.
 *
 * - The card is one item, `CARD#<id>` / `CARD`. Everything the authorization path needs to decide
 *   (business, user, status, currency, limits) is on it, so the authorization engine reads it in
 *   the same single BatchGetItem as the balance and spend counters. Limits are minor-unit numbers,
 *   0 meaning off. The number, expiry and CVV exist only inside `secrets`, one envelope-encrypted
 *   bundle bound to { business_id, card_id, purpose: 'card' }; the shipping address of a physical
 *   card is sealed separately (purpose `card-shipping`) so that reading an address never decrypts
 *   a card number and revealing a number never decrypts an address.
 * - The number index, `PAN#<keyed hash of the number>` / `PAN`, maps a number from the network to
 *   its card. It is written in the card's own transaction on `attribute_not_exists(PK)`, so two
 *   cards can never share a number: a collision fails the transaction and the caller retries with
 *   a new number.
 * - The card's own spending controls are on the card item too (`controls`), so they cost the
 *   authorization no read and a change of them moves the card's version like a limit change.
 * - The audit trail, `CARD_AUDIT#<id>` / `AUDIT#<uuid v7>`: every reveal of the full details,
 *   every status change and every change of limits or controls (before and after), with the API
 *   key id that did it. Kept without expiry (PCI DSS req. 10.5.1
 *   wants a year of audit history; this table keeps it for the card's life). Append-only: each
 *   event is a Put on `attribute_not_exists(PK)`, and no role may update or delete in its
 *   partition (a partition apart from the card's, since IAM sees only partition keys).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ApiError } from '../errors.ts';
import { cardNumberToken } from '../crypto/card-number-token.ts';
import {
  CARD_AUDIT_ACTIONS,
  CARD_FORMS,
  CARD_MODES,
  CARD_STATUSES,
  LIMIT_RULES,
  type CardAuditEvent,
  type CardLimits,
  type CardSettingsChange,
  type CardRecord,
  type CardStatus,
} from '../domain/cards.ts';
import { CARD_CURRENCIES } from '../domain/money.ts';
import { controlsFromItem, controlsItem } from './controls-repository.ts';
import type { PageKey } from '../http/cursor.ts';
import { bigintAttr, db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { cardKeys } from './keys.ts';
import { GSI2_KEY, gsi1Shard, queryNewestFirst, queryShardsNewestFirst, TABLE_KEY, type Page } from './query-page.ts';
import { transaction, type TransactItem } from './transact.ts';
import { activeUserCheck } from './users-repository.ts';

export interface StoredCard extends CardRecord {
  /** `sealSecret(CardSecrets, { business_id, card_id, purpose: 'card' })` */
  secretsCiphertext: string;
  /** `sealSecret(address, { business_id, card_id, purpose: 'card-shipping' })`; physical cards only. */
  shippingCiphertext: string | null;
}

/** The keyed HMAC under which a card number is indexed. Never a plain hash: 10^9 candidates per BIN. */
export function cardNumberHash(number: string): Promise<string> {
  return cardNumberToken(number);
}

export interface InsertCardOptions {
  /** For a B2C card: the user must still be Active in this business when the card commits. */
  activeUser?: { businessId: string; userId: string };
  /** `IdempotencyScope.completionItem(...)`: committed with the card or not at all. */
  idempotencyCompletion?: TransactItem;
}

/**
 * Writes a new card and its number index in one transaction. Returns `'number_taken'` when another
 * card already has this number (nothing is written; generate another). Throws 409
 * `user_not_active` when the B2C user was suspended since it was read.
 */
export async function insertCard(card: StoredCard, numberHash: string, options: InsertCardOptions = {}): Promise<'inserted' | 'number_taken'> {
  const table = tableName();
  const tx = transaction<'number' | 'user' | 'idempotency'>()
    .add({ Put: { TableName: table, Item: toItem(card), ConditionExpression: 'attribute_not_exists(PK)' } })
    .add(
      {
        Put: {
          TableName: table,
          Item: { ...cardKeys.numberIndex(numberHash), entity: 'card_number_index', cardId: card.cardId, businessId: card.businessId },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      'number',
    );
  if (options.activeUser) tx.add(activeUserCheck(options.activeUser.businessId, options.activeUser.userId), 'user');
  if (options.idempotencyCompletion) tx.add(options.idempotencyCompletion, 'idempotency');

  const result = await tx.commit();
  if (result.committed) return 'inserted';
  if (result.failed.has('user')) throw userNotActive();
  if (result.failed.has('idempotency')) throw idempotencyInProgress();
  return 'number_taken';
}

/**
 * A transaction item that holds only while the card is still `Active` (a challenge is made only
 * for a card that can still be used).
 */
export function activeCardCheck(cardId: string): TransactItem {
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: cardKeys.card(cardId),
      ConditionExpression: '#status = :active',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':active': 'Active' },
    },
  };
}

/** The card, whoever it belongs to (callers compare `businessId`). Strongly consistent. */
export async function getCard(cardId: string): Promise<StoredCard | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: cardKeys.card(cardId), ConsistentRead: true }));
  return result.Item ? fromItem(result.Item) : undefined;
}

/** The card, if it exists and belongs to `businessId`; otherwise undefined (the caller's 404). */
export async function findCard(businessId: string, cardId: string): Promise<StoredCard | undefined> {
  const card = await getCard(cardId);
  return card && card.businessId === businessId ? card : undefined;
}

/** For the network routes: which card a number belongs to (one GetItem on its keyed hash). */
export async function findCardIdByNumber(number: string): Promise<{ cardId: string; businessId: string } | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: cardKeys.numberIndex(await cardNumberHash(number)) }));
  if (!result.Item) return undefined;
  return { cardId: String(result.Item.cardId), businessId: String(result.Item.businessId) };
}

export interface SaveCardChangeOptions {
  /** Written in the same transaction as the change (a status change and its audit entry are one fact). */
  auditEvent?: CardAuditEvent;
  idempotencyCompletion?: TransactItem;
}

/**
 * Writes `after` (status, limits and their bookkeeping) over `before`, on the condition that the
 * card is still the version that was read and still belongs to the business. Returns `'stale'`
 * when someone changed it in between, so the caller re-reads and decides again; the state
 * machine is never bypassed by a race.
 */
export async function saveCardChange(before: StoredCard, after: CardRecord, options: SaveCardChangeOptions = {}): Promise<'saved' | 'stale'> {
  const table = tableName();
  const update = {
    TableName: table,
    Key: cardKeys.card(before.cardId),
    UpdateExpression:
      'SET #status = :status, limits = :limits, controls = :controls, statusChangedAt = :statusChangedAt, statusChangedBy = :statusChangedBy, updatedAt = :updatedAt, version = :nextVersion',
    ConditionExpression: 'businessId = :businessId AND version = :version',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: {
      ':status': after.status,
      ':limits': limitsItem(after.limits),
      ':controls': controlsItem(after.controls),
      ':statusChangedAt': after.statusChangedAt,
      ':statusChangedBy': after.statusChangedBy,
      ':updatedAt': after.updatedAt,
      ':nextVersion': before.version + 1,
      ':businessId': before.businessId,
      ':version': before.version,
    },
  };

  if (!options.auditEvent && !options.idempotencyCompletion) {
    try {
      await db().send(new UpdateCommand(update));
      return 'saved';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'stale';
      throw error;
    }
  }

  const tx = transaction<'stale' | 'idempotency'>().add({ Update: update }, 'stale');
  // The audit event's id is a fresh UUID v7: its condition only guards against overwriting.
  if (options.auditEvent) tx.add({ Put: auditPut(options.auditEvent) });
  if (options.idempotencyCompletion) tx.add(options.idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return 'saved';
  if (result.failed.has('idempotency')) throw idempotencyInProgress();
  return 'stale';
}

/** Records one audit event on its own (a reveal), conditional on not overwriting another. */
export async function recordAuditEvent(event: CardAuditEvent): Promise<void> {
  await db().send(new PutCommand(auditPut(event)));
}

export interface CardListFilter {
  status?: CardStatus;
}

/** One page of a business's cards, newest first (GSI1, merged from the list's write shards; card ids are UUID v7). */
export function listCardsOfBusiness(businessId: string, filter: CardListFilter, limit: number, startKey?: PageKey): Promise<Page<StoredCard>> {
  const filtered = cardFilter({ ...filter, businessId });
  return queryShardsNewestFirst(
    cardKeys.businessListPartitions(businessId),
    (partition, before) => {
      const shard = gsi1Shard(partition, before);
      return { ...shard, ...filtered, ExpressionAttributeValues: { ...shard.ExpressionAttributeValues, ...filtered.ExpressionAttributeValues } };
    },
    'GSI1SK',
    fromItem,
    limit,
    startKey,
  );
}

/**
 * One page of a user's cards, newest first (GSI2). Filtered on the business too: a user id of
 * another business yields an empty list, exactly like one that does not exist.
 */
export function listCardsOfUser(
  businessId: string,
  userId: string,
  filter: CardListFilter,
  limit: number,
  startKey?: PageKey,
): Promise<Page<StoredCard>> {
  const filtered = cardFilter({ ...filter, businessId });
  return queryNewestFirst(
    {
      IndexName: 'GSI2',
      KeyConditionExpression: 'GSI2PK = :partition',
      ...filtered,
      ExpressionAttributeValues: { ':partition': cardKeys.userListPartition(userId), ...filtered.ExpressionAttributeValues },
    },
    GSI2_KEY,
    fromItem,
    limit,
    startKey,
  );
}

/** One page of a card's audit trail, newest first. */
export async function listAuditEvents(cardId: string, limit: number, startKey?: PageKey): Promise<Page<CardAuditEvent>> {
  const prefix = cardKeys.auditEventsPrefix(cardId);
  return queryNewestFirst(
    {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': prefix.PK, ':prefix': prefix.SKPrefix },
    },
    TABLE_KEY,
    auditFromItem,
    limit,
    startKey,
  );
}

/** The filter of a card list: always the business, and the status when asked. */
function cardFilter(filter: CardListFilter & { businessId: string }): Pick<QueryCommandInput, 'FilterExpression' | 'ExpressionAttributeValues' | 'ExpressionAttributeNames'> {
  const conditions = ['businessId = :businessId'];
  const values: Record<string, unknown> = { ':businessId': filter.businessId };
  if (!filter.status) return { FilterExpression: conditions.join(' AND '), ExpressionAttributeValues: values };
  conditions.push('#status = :status');
  values[':status'] = filter.status;
  return { FilterExpression: conditions.join(' AND '), ExpressionAttributeValues: values, ExpressionAttributeNames: { '#status': 'status' } };
}

function auditPut(event: CardAuditEvent) {
  return {
    TableName: tableName(),
    Item: {
      ...cardKeys.auditEvent(event.cardId, event.eventId),
      entity: 'card_audit_event',
      eventId: event.eventId,
      cardId: event.cardId,
      businessId: event.businessId,
      keyId: event.keyId,
      action: event.action,
      fromStatus: event.fromStatus ?? undefined,
      toStatus: event.toStatus ?? undefined,
      // As the API showed it, in JSON: the document client would read its numbers back wrapped.
      change: event.change ? JSON.stringify(event.change) : undefined,
      origin: event.origin,
      at: event.at,
    },
    ConditionExpression: 'attribute_not_exists(PK)',
  };
}

function userNotActive(): ApiError {
  return new ApiError('user_not_active');
}

function limitsItem(limits: CardLimits): Record<string, bigint> {
  return { transaction: limits.transaction, daily: limits.daily, monthly: limits.monthly, lifetime: limits.lifetime };
}

function toItem(card: StoredCard): Record<string, unknown> {
  return {
    ...cardKeys.card(card.cardId),
    ...cardKeys.businessListIndex(card.businessId, card.cardId),
    ...(card.userId ? cardKeys.userListIndex(card.userId, card.cardId) : {}),
    entity: 'card',
    cardId: card.cardId,
    businessId: card.businessId,
    mode: card.mode,
    userId: card.userId ?? undefined,
    form: card.form,
    status: card.status,
    currency: card.currency,
    maskedNumber: card.maskedNumber,
    last4: card.last4,
    limits: limitsItem(card.limits),
    controls: controlsItem(card.controls),
    nickname: card.nickname ?? undefined,
    secrets: card.secretsCiphertext,
    shipping: card.shippingCiphertext ?? undefined,
    createdAt: card.createdAt,
    createdBy: card.createdBy,
    updatedAt: card.updatedAt,
    statusChangedAt: card.statusChangedAt,
    statusChangedBy: card.statusChangedBy,
    version: card.version,
  };
}

function fromItem(item: Record<string, unknown>): StoredCard {
  const cardId = String(item.cardId);
  const oneOf = <T extends string>(allowed: readonly T[], value: unknown, name: string): T => {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    throw new Error(`Card item ${cardId} has an unknown ${name}`);
  };
  const limits = (item.limits ?? {}) as Record<string, unknown>;
  return {
    cardId,
    businessId: String(item.businessId),
    mode: oneOf(CARD_MODES, item.mode, 'mode'),
    userId: typeof item.userId === 'string' ? item.userId : null,
    form: oneOf(CARD_FORMS, item.form, 'form'),
    status: oneOf(CARD_STATUSES, item.status, 'status'),
    currency: oneOf(CARD_CURRENCIES, item.currency, 'currency'),
    maskedNumber: String(item.maskedNumber),
    last4: String(item.last4),
    limits: Object.fromEntries(LIMIT_RULES.map((rule) => [rule, bigintAttr(limits[rule])])) as CardLimits,
    // Cards issued before controls existed have none.
    controls: controlsFromItem(item.controls),
    nickname: typeof item.nickname === 'string' ? item.nickname : null,
    createdAt: String(item.createdAt),
    createdBy: String(item.createdBy),
    updatedAt: String(item.updatedAt),
    statusChangedAt: String(item.statusChangedAt),
    statusChangedBy: String(item.statusChangedBy),
    version: intAttr(item.version),
    secretsCiphertext: String(item.secrets),
    shippingCiphertext: typeof item.shipping === 'string' ? item.shipping : null,
  };
}

function auditFromItem(item: Record<string, unknown>): CardAuditEvent {
  const status = (value: unknown): CardStatus | null =>
    typeof value === 'string' && (CARD_STATUSES as readonly string[]).includes(value) ? (value as CardStatus) : null;
  if (typeof item.action !== 'string' || !(CARD_AUDIT_ACTIONS as readonly string[]).includes(item.action)) {
    throw new Error(`Card audit event ${String(item.eventId)} has an unknown action`);
  }
  return {
    eventId: String(item.eventId),
    cardId: String(item.cardId),
    businessId: String(item.businessId),
    keyId: String(item.keyId),
    action: item.action as CardAuditEvent['action'],
    fromStatus: status(item.fromStatus),
    toStatus: status(item.toStatus),
    ...(typeof item.change === 'string' ? { change: JSON.parse(item.change) as CardSettingsChange } : {}),
    ...(typeof item.origin === 'string' ? { origin: item.origin } : {}),
    at: String(item.at),
  };
}
