/**
 * Key builders for the single table, one group per entity, and the access patterns they serve.
 * Every request-path access is one GetItem, one Query or one TransactWriteItems; never a Scan.
 *
 * | access pattern                          | operation | keys                                                        |
 * | --------------------------------------- | --------- | ----------------------------------------------------------- |
 * | business by id                          | GetItem   | PK=BUSINESS#<id>          SK=PROFILE                        |
 * | credential by key (the authorizers)     | GetItem   | PK=CREDENTIAL#<keyed hash of the key> SK=CREDENTIAL         |
 * |   (API, card-network and chain-watcher keys alike; `kind` says which, `revokedAt` refuses it)        |
 * | credentials, newest first (operators)   | Query     | GSI1PK=CREDENTIALS        GSI1SK=<credential id (uuid v7)>  |
 * |   (one partition: a handful of keys per business, never on a request path)                           |
 * | credential by id (revoke)               | Query     | GSI1PK=CREDENTIALS        GSI1SK=<credential id>, then an   |
 * |                                         |           |   Update of the item it names, conditional on not revoked |
 * | user by id (checked against business)   | GetItem   | PK=USER#<id>              SK=PROFILE                        |
 * | users of a business, newest first       | Query ×32 | GSI1PK=BUSINESS#<id>#USERS[#<shard>] GSI1SK=<user id (uuid v7)> |
 * | external_id claim, unique per business  | Put in tx | PK=BUSINESS#<id>#EXTERNAL_USER#<external id> SK=EXTERNAL_USER |
 * | balances of a user                      | Query     | PK=USER#<id>              SK begins_with BALANCE#           |
 * | balances of a business (B2B)            | Query     | PK=BUSINESS#<id>          SK begins_with BALANCE#           |
 * |   (the pool), and each one's escrow     | Transact- | PK=ESCROW#<business id>#<currency>#<shard> SK=BALANCE       |
 * |   shards, summed (domain/escrow.ts)     | GetItems  |   (one atomic read of the pool and its `escrowShards` shards) |
 * | default spending controls of a business | GetItem   | PK=BUSINESS#<id>          SK=CONTROLS                       |
 * |   (cached per warm container by the authorization path: services/authorizations.ts)                 |
 * | idempotency record                      | GetItem   | PK=IDEMPOTENCY#<business>#<key> SK=IDEMPOTENCY              |
 * | card by id (checked against business)   | GetItem   | PK=CARD#<id>              SK=CARD                           |
 * | card id by number (network routes)      | GetItem   | PK=PAN#<keyed hash of number> SK=PAN (unique: Put in tx)    |
 * | cards of a business, newest first       | Query ×32 | GSI1PK=BUSINESS#<id>#CARDS[#<shard>] GSI1SK=<card id (uuid v7)> |
 * | cards of a user, newest first           | Query     | GSI2PK=USER#<id>#CARDS    GSI2SK=<card id (uuid v7)>        |
 * |   (`status` filter on either)           |           |   FilterExpression on #status; pages are refilled           |
 * | audit trail of a card, newest first     | Query     | PK=CARD_AUDIT#<id>        SK begins_with AUDIT#<uuid v7>    |
 * | card reveal session by link token       | Put, then | PK=REVEAL#<keyed hash of the token> SK=REVEAL             |
 * |   (consumed once: conditional Update)   | Update    |   (the token itself is never stored; TTL `expiresAt`)     |
 * | spend counter of a card's window        | Update tx | PK=CARD#<id>              SK=SPEND#<kind>#<period>          |
 * |   (and the day's approval count, kind `daily_count`; all of a card's: Query SK begins_with SPEND#)  |
 * | card transaction by id                  | GetItem   | PK=TXN#<id>               SK=TXN                            |
 * | transactions of a card, newest first,   | Query     | GSI1PK=CARD#<id>#TXNS     GSI1SK=<created at>#<txn id>      |
 * |   optionally between two times          |           |   (`status` filter: FilterExpression)                       |
 * | transactions of a business, newest first| Query ×32 | GSI2PK=BUSINESS#<id>#TXNS[#<shard>] GSI2SK=<created at>#<txn id> |
 * | transactions of a user (B2C), newest    | Query     | GSI3PK=USER#<id>#TXNS     GSI3SK=<created at>#<txn id>      |
 * |   first (sparse: B2C only); `status` and `type` filters on either: FilterExpression                 |
 * | claim of a network authorization id     | Put in tx | PK=NETAUTH#<network id>   SK=NETAUTH                        |
 * |   (card, txn id, fingerprint; read on a repeat: GetItem)                                              |
 * | claim of a force post's / refund's id   | Put in tx | PK=NETSETTLE#<network id> SK=NETSETTLE, PK=NETREFUND#<id> SK=NETREFUND |
 * |   (the same shape as NETAUTH: card, txn id, fingerprint; read on a repeat: GetItem)                  |
 * | holds that expired before a time,       | Query     | GSI4PK=HOLD_EXPIRY#<shard> GSI4SK=<expires at>#<txn id>     |
 * |   oldest first (the hold-expiry sweeper;|           |   (one query per shard; the keys exist only while the       |
 * |   sparse)                               |           |   transaction is Authorized and holds money)                |
 * | ledger posting (audit replays them all) | Put in tx | PK=POSTING#<id>           SK=POSTING                        |
 * | outbox event and its delivery record    | Query     | PK=EVENT#<id>             SK BETWEEN DELIVERY AND EVENT     |
 * |   (by id: both items of the partition)  |           |   (a list page's records: BatchGetItem SK=DELIVERY)         |
 * | events of a business, newest first      | Query ×32 | GSI1PK=BUSINESS#<id>#EVENTS[#<shard>] GSI1SK=<event id (uuid v7)> |
 * | redelivery request (stream dispatches)  | Put in tx | PK=EVENT#<id>             SK=REDELIVERY#<uuid v7>           |
 * | undelivered events due before a time,   | Query     | GSI3PK=UNDELIVERED#<shard> GSI3SK=<due at>#<event id>       |
 * |   oldest first (the sweeper; sparse:    |           |   (one query per shard, on the delivery records; the keys   |
 * |   removed on delivery or dead-letter)   |           |   exist only while the event is pending or retrying)        |
 * | 3DS verification by id                  | GetItem   | PK=THREEDS#<id>           SK=THREEDS                        |
 * | a card's wrong 3DS codes in the 24 h    | GetItem,  | PK=CARD#<id>              SK=WRONG_OTP#<hour, UTC>          |
 * |   up to an hour (one counter per hour)  | Update tx |   (ADD, conditional: domain/three-ds.ts)                    |
 * | top-up by id                            | Put in tx | PK=TOPUP#<id>             SK=TOPUP                          |
 * | next address index of a key family      | Update    | PK=WALLET_COUNTER#<family>#<shard> SK=COUNTER (ADD: atomic) |
 * | a user's key-family address (one each)  | Put in tx | PK=USER#<id>              SK=WALLET#KEY#<family>            |
 * | a user's address on a chain             | Put in tx | PK=USER#<id>              SK=WALLET#CHAIN#<chain>           |
 * | a user's addresses and family addresses | Query     | PK=USER#<id>              SK begins_with WALLET#            |
 * | user of a deposit address               | GetItem   | PK=ADDRESS#<family>#<address> SK=ADDRESS (unique: Put in tx)|
 * | deposit by its on-chain identity        | GetItem   | PK=DEPOSIT#<chain>#<tx hash>#<log index or vout> SK=DEPOSIT |
 * |   (conditional Put in the credit's tx: a deposit credits once)                                        |
 * | deposits of a user, newest first        | Query     | GSI1PK=USER#<id>#DEPOSITS GSI1SK=<deposit id (uuid v7)>     |
 * | transfer by id                          | GetItem   | PK=TRANSFER#<id>          SK=TRANSFER                       |
 * | transfers of a business, newest first   | Query ×32 | GSI1PK=BUSINESS#<id>#TRANSFERS[#<shard>] GSI1SK=<transfer id> |
 * |   (business-wide lists: write-sharded by id, `LIST_SHARDS`, merged newest first on read)              |
 * | transfers of a user (either party),     | Query     | PK=USER#<id>              SK begins_with TRANSFER#<uuid v7> |
 * |   newest first                          |           |   (one entry per party, written in the transfer's tx)     |
 *
 * Ids are UUID v7, so a sort key made of an id sorts by creation time ("newest first" is
 * `ScanIndexForward: false`).
 *
 * Ledger postings and card audit events are append-only, and each has partitions of its own
 * because IAM sees only an item's partition key (below).
 */

import { config } from '../config.ts';

export interface ItemKey {
  PK: string;
  SK: string;
}

/**
 * Partitions whose items are written once and never changed: ledger postings (the audit replays
 * them, invariant 5) and the card audit trail (PCI DSS 10.3.2: audit records protected from
 * modification). An IAM condition sees only the partition key (`dynamodb:LeadingKeys`), so these
 * prefixes hold nothing else, and every role that writes the table is denied UpdateItem and
 * DeleteItem under them (infra/constructs/access.ts).
 */
export const APPEND_ONLY_PARTITIONS = ['POSTING#', 'CARD_AUDIT#'] as const;

/**
 * The partitions a function may delete items in, named in its row's `access.deletes`. A request
 * deletes only its own idempotency marker, to release the key after a failure.
 */
export const DELETABLE_PARTITIONS = { idempotency: 'IDEMPOTENCY#' } as const;
export type DeletablePartition = keyof typeof DELETABLE_PARTITIONS;

/**
 * Business-wide lists (users, cards, transactions, transfers, events) are write-sharded: an item's
 * list key is its business's list partition with a suffix `#<shard>` chosen by the last (random) hex
 * digits of its id (`shardOf`), so one busy business spreads its list writes over `LIST_SHARDS`
 * index partitions instead of one (DynamoDB: ~1,000 write units a second per partition key; 32
 * keeps the events and transactions lists of one business at 5,000 authorizations a second under
 * 800: README "Capacity"). Shard 0 is the partition without a suffix, where the items of earlier
 * releases already are. A list reads every shard and merges them newest first
 * (shared/db/query-page.ts `queryShardsNewestFirst`), so an item stays found wherever an earlier
 * shard count put it: release 2's 16 shards are the first 16 of these.
 */
export const LIST_SHARDS = 32;

/** The list partition of the shard of `id` (a UUID; its last hex digits are random). */
export function listShardOf(partition: string, id: string): string {
  const shard = shardOf(id, writeShards(LIST_SHARDS));
  return shard === 0 ? partition : `${partition}#${shard}`;
}

/** Every shard's partition of a business-wide list, shard 0 (no suffix) first. */
export function listShards(partition: string): string[] {
  return Array.from({ length: LIST_SHARDS }, (_, shard) => (shard === 0 ? partition : `${partition}#${shard}`));
}

export const businessKeys = {
  profile: (businessId: string): ItemKey => ({ PK: `BUSINESS#${businessId}`, SK: 'PROFILE' }),
  balance: (businessId: string, currency: string): ItemKey => ({ PK: `BUSINESS#${businessId}`, SK: `BALANCE#${currency}` }),
  balancesPrefix: (businessId: string) => ({ PK: `BUSINESS#${businessId}`, SKPrefix: 'BALANCE#' }),
  /**
   * An escrow shard of a business balance (shared/domain/escrow.ts): a partition of its own, so
   * the approvals spread over as many partition keys as there are shards.
   */
  escrowShard: (businessId: string, currency: string, shard: number): ItemKey => ({ PK: `ESCROW#${businessId}#${currency}#${shard}`, SK: 'BALANCE' }),
  /** The default spending controls of every card of the business. */
  controls: (businessId: string): ItemKey => ({ PK: `BUSINESS#${businessId}`, SK: 'CONTROLS' }),
};

export const credentialKeys = {
  /** The authorizers' lookup: the key only ever appears as its keyed hash. */
  byHash: (keyHash: string): ItemKey => ({ PK: `CREDENTIAL#${keyHash}`, SK: 'CREDENTIAL' }),
  listIndex: (credentialId: string) => ({ GSI1PK: 'CREDENTIALS', GSI1SK: credentialId }),
  listPartition: 'CREDENTIALS',
};

export const userKeys = {
  profile: (userId: string): ItemKey => ({ PK: `USER#${userId}`, SK: 'PROFILE' }),
  listIndex: (businessId: string, userId: string) => ({ GSI1PK: listShardOf(`BUSINESS#${businessId}#USERS`, userId), GSI1SK: userId }),
  listPartitions: (businessId: string) => listShards(`BUSINESS#${businessId}#USERS`),
  /** Claims a partner's `external_id` within its business (no lookup by it: a uniqueness guard). */
  externalId: (businessId: string, externalId: string): ItemKey => ({
    PK: `BUSINESS#${businessId}#EXTERNAL_USER#${externalId}`,
    SK: 'EXTERNAL_USER',
  }),
  balance: (userId: string, currency: string): ItemKey => ({ PK: `USER#${userId}`, SK: `BALANCE#${currency}` }),
  balancesPrefix: (userId: string) => ({ PK: `USER#${userId}`, SKPrefix: 'BALANCE#' }),
};

export const idempotencyKeys = {
  record: (businessId: string, key: string): ItemKey => ({ PK: `IDEMPOTENCY#${businessId}#${key}`, SK: 'IDEMPOTENCY' }),
};

export const cardKeys = {
  card: (cardId: string): ItemKey => ({ PK: `CARD#${cardId}`, SK: 'CARD' }),
  /** The unique index of card numbers: the number only ever appears as its keyed hash. */
  numberIndex: (numberHash: string): ItemKey => ({ PK: `PAN#${numberHash}`, SK: 'PAN' }),
  businessListIndex: (businessId: string, cardId: string) => ({ GSI1PK: listShardOf(`BUSINESS#${businessId}#CARDS`, cardId), GSI1SK: cardId }),
  businessListPartitions: (businessId: string) => listShards(`BUSINESS#${businessId}#CARDS`),
  userListIndex: (userId: string, cardId: string) => ({ GSI2PK: `USER#${userId}#CARDS`, GSI2SK: cardId }),
  userListPartition: (userId: string) => `USER#${userId}#CARDS`,
  /** In a partition of its own, not the card's: IAM can then forbid changing it (APPEND_ONLY_PARTITIONS). */
  auditEvent: (cardId: string, eventId: string): ItemKey => ({ PK: `CARD_AUDIT#${cardId}`, SK: `AUDIT#${eventId}` }),
  auditEventsPrefix: (cardId: string) => ({ PK: `CARD_AUDIT#${cardId}`, SKPrefix: 'AUDIT#' }),
};

export const revealSessionKeys = {
  /** The token only ever appears as its keyed hash (shared/crypto/reveal-tokens.ts). */
  session: (tokenHash: string): ItemKey => ({ PK: `REVEAL#${tokenHash}`, SK: 'REVEAL' }),
};

export const spendWindowKeys = {
  counter: (cardId: string, kind: string, period: string): ItemKey => ({ PK: `CARD#${cardId}`, SK: `SPEND#${kind}#${period}` }),
  cardPrefix: (cardId: string) => ({ PK: `CARD#${cardId}`, SKPrefix: 'SPEND#' }),
};

export const transactionKeys = {
  transaction: (transactionId: string): ItemKey => ({ PK: `TXN#${transactionId}`, SK: 'TXN' }),
  cardListIndex: (cardId: string, createdAt: string, transactionId: string) => ({
    GSI1PK: `CARD#${cardId}#TXNS`,
    GSI1SK: `${createdAt}#${transactionId}`,
  }),
  cardListPartition: (cardId: string) => `CARD#${cardId}#TXNS`,
  /**
   * Every transaction of the business (GSI2, write-sharded: `LIST_SHARDS`) and, for B2C, of its
   * user (GSI3, sparse), sorted like the card's list.
   */
  businessListIndex: (businessId: string, createdAt: string, transactionId: string) => ({
    GSI2PK: listShardOf(`BUSINESS#${businessId}#TXNS`, transactionId),
    GSI2SK: `${createdAt}#${transactionId}`,
  }),
  businessListPartitions: (businessId: string) => listShards(`BUSINESS#${businessId}#TXNS`),
  userListIndex: (userId: string, createdAt: string, transactionId: string) => ({
    GSI3PK: `USER#${userId}#TXNS`,
    GSI3SK: `${createdAt}#${transactionId}`,
  }),
  userListPartition: (userId: string) => `USER#${userId}#TXNS`,
};

export const networkAuthorizationKeys = {
  /**
   * Keyed by the network's id alone: the id is global across the network, and the claim records
   * which card (and which terms) it belongs to, so a repeat for another card is told apart.
   */
  claim: (networkAuthorizationId: string): ItemKey => ({ PK: `NETAUTH#${networkAuthorizationId}`, SK: 'NETAUTH' }),
};

/** Force posts and refunds: the network's id claimed like an authorization's (NETAUTH). */
export const networkMessageKeys = {
  settlementClaim: (networkSettlementId: string): ItemKey => ({ PK: `NETSETTLE#${networkSettlementId}`, SK: 'NETSETTLE' }),
  refundClaim: (networkRefundId: string): ItemKey => ({ PK: `NETREFUND#${networkRefundId}`, SK: 'NETREFUND' }),
};

/**
 * The sparse index of holds by expiry time: set while a transaction is `Authorized` with money
 * held, removed by the write that captures, reverses or expires the rest. Spread over
 * `HOLD_EXPIRY_SHARDS` partitions by the transaction id's last (random) hex digits, so every
 * approval's write does not land on one index partition; the sweeper queries each.
 */
export const holdExpiryKeys = {
  index: (transactionId: string, expiresAt: string) => ({ GSI4PK: holdExpiryPartition(shardOf(transactionId, writeShards(HOLD_EXPIRY_SHARDS))), GSI4SK: `${expiresAt}#${transactionId}` }),
};

export const HOLD_EXPIRY_SHARDS = 32;

export function holdExpiryPartition(shard: number): string {
  return `HOLD_EXPIRY#${shard}`;
}

/** Release 2's shard count for every sharded key. */
const RELEASE2_SHARDS = 16;

/**
 * How many shards new keys spread over: the full count, or, while writing release 2's format
 * (`WRITE_FORMAT`), release 2's 16, where a release-2 function (beside this one in a canary, or
 * rolled back to) finds them. Reads always cover the full count.
 */
function writeShards(shards: number): number {
  return config().WRITE_FORMAT === 'release2' ? Math.min(shards, RELEASE2_SHARDS) : shards;
}

/**
 * The shard of an id among `shards` (a divisor of 256): its last two hex digits, which are random in
 * a UUID v7, modulo the count. Modulo 16 that is the last digit alone, the shard function of
 * release 2, so an item of then is in the shard it would be in now, or, for a count above 16, in one
 * of the first 16, which every sweep and list still reads.
 */
export function shardOf(id: string, shards: number): number {
  const digits = Number.parseInt(id.slice(-2), 16);
  return Number.isNaN(digits) ? 0 : digits % shards;
}

export const postingKeys = {
  posting: (postingId: string): ItemKey => ({ PK: `POSTING#${postingId}`, SK: 'POSTING' }),
};

export const eventKeys = {
  event: (eventId: string): ItemKey => ({ PK: `EVENT#${eventId}`, SK: 'EVENT' }),
  /** Its delivery record: status, attempts, generation and claim (shared/db/events-repository.ts). */
  delivery: (eventId: string): ItemKey => ({ PK: `EVENT#${eventId}`, SK: 'DELIVERY' }),
  businessListIndex: (businessId: string, eventId: string) => ({ GSI1PK: listShardOf(`BUSINESS#${businessId}#EVENTS`, eventId), GSI1SK: eventId }),
  businessListPartitions: (businessId: string) => listShards(`BUSINESS#${businessId}#EVENTS`),
  /** A partner's redelivery request: an insert under the event's key, so the stream dispatches it like an event. */
  redelivery: (eventId: string, requestId: string): ItemKey => ({ PK: `EVENT#${eventId}`, SK: `REDELIVERY#${requestId}` }),
  /**
   * The sparse index of undelivered events: set while an event is pending or retrying, sorted by
   * when it is next due (RFC 3339 times of one width sort as strings), removed once it is
   * delivered, dead-lettered or has no URL. Every insert and attempt writes it, for every business,
   * so it is spread over `UNDELIVERED_SHARDS` partitions (`shardOf` the event id) to stay under one
   * index partition's write rate; the sweeper queries each.
   */
  undeliveredIndex: (eventId: string, dueAt: string) => ({ GSI3PK: undeliveredPartition(shardOf(eventId, writeShards(UNDELIVERED_SHARDS))), GSI3SK: `${dueAt}#${eventId}` }),
};

export const UNDELIVERED_SHARDS = 64;

export function undeliveredPartition(shard: number): string {
  return `UNDELIVERED#${shard}`;
}


export const threeDsKeys = {
  verification: (verificationId: string): ItemKey => ({ PK: `THREEDS#${verificationId}`, SK: 'THREEDS' }),
  /** The card's wrong codes counted for the 24 h up to an hour (`wrongCodeHourLabel`, e.g. `2026-12-01T07`). */
  cardWrongCodes: (cardId: string, hourLabel: string): ItemKey => ({ PK: `CARD#${cardId}`, SK: `WRONG_OTP#${hourLabel}` }),
};

export const topupKeys = {
  topup: (topupId: string): ItemKey => ({ PK: `TOPUP#${topupId}`, SK: 'TOPUP' }),
};

export const walletAddressKeys = {
  /**
   * One of a key family's `ADDRESS_COUNTER_SHARDS` counters of addresses handed out (shared/db/
   * wallets-repository.ts `nextAddressIndex`): spread, so no single item takes every new address
   * of the platform. (`WALLET_COUNTER#<family>` without a shard was the one counter of release 2.)
   */
  counter: (family: string, shard: number): ItemKey => ({ PK: `WALLET_COUNTER#${family}#${shard}`, SK: 'COUNTER' }),
  /** A user's one address of a key family (EVM chains share it). */
  familyAddress: (userId: string, family: string): ItemKey => ({ PK: `USER#${userId}`, SK: `WALLET#KEY#${family}` }),
  /** A user's address on one chain, as listed by the API. */
  chainAddress: (userId: string, chain: string): ItemKey => ({ PK: `USER#${userId}`, SK: `WALLET#CHAIN#${chain}` }),
  userPrefix: (userId: string) => ({ PK: `USER#${userId}`, SKPrefix: 'WALLET#' }),
  /** Maps an address back to its user (deposits); the address in its canonical form. */
  addressIndex: (family: string, address: string): ItemKey => ({ PK: `ADDRESS#${family}#${address}`, SK: 'ADDRESS' }),
};

export const depositKeys = {
  /** Keyed by the deposit's on-chain identity (`depositIdentity`), so it can be recorded once. */
  deposit: (identity: string): ItemKey => ({ PK: `DEPOSIT#${identity}`, SK: 'DEPOSIT' }),
  userListIndex: (userId: string, depositId: string) => ({ GSI1PK: `USER#${userId}#DEPOSITS`, GSI1SK: depositId }),
  userListPartition: (userId: string) => `USER#${userId}#DEPOSITS`,
};

export const transferKeys = {
  transfer: (transferId: string): ItemKey => ({ PK: `TRANSFER#${transferId}`, SK: 'TRANSFER' }),
  businessListIndex: (businessId: string, transferId: string) => ({ GSI1PK: listShardOf(`BUSINESS#${businessId}#TRANSFERS`, transferId), GSI1SK: transferId }),
  businessListPartitions: (businessId: string) => listShards(`BUSINESS#${businessId}#TRANSFERS`),
  /** One per party, so a user's transfers (sent and received) are one Query. */
  partyEntry: (userId: string, transferId: string): ItemKey => ({ PK: `USER#${userId}`, SK: `TRANSFER#${transferId}` }),
  partyPrefix: (userId: string) => ({ PK: `USER#${userId}`, SKPrefix: 'TRANSFER#' }),
};
