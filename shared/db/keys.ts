/**
 * Key builders for the single table, one group per entity, and the access patterns they serve.
 * Every request-path access is one GetItem, one Query or one TransactWriteItems; never a Scan.
 *
 * | access pattern                          | operation | keys                                                        |
 * | --------------------------------------- | --------- | ----------------------------------------------------------- |
 * | business by id                          | GetItem   | PK=BUSINESS#<id>          SK=PROFILE                        |
 * | business by API key (authorizer)        | GetItem   | PK=APIKEY#<keyed hash>    SK=APIKEY                         |
 * | network credential (network authorizer) | GetItem   | PK=NETWORKKEY#<hash>      SK=NETWORKKEY                     |
 * | user by id (checked against business)   | GetItem   | PK=USER#<id>              SK=PROFILE                        |
 * | users of a business, newest first       | Query     | GSI1PK=BUSINESS#<id>#USERS GSI1SK=<user id (uuid v7)>       |
 * | external_id claim, unique per business  | Put in tx | PK=BUSINESS#<id>#EXTERNAL_USER#<external id> SK=EXTERNAL_USER |
 * | balances of a user                      | Query     | PK=USER#<id>              SK begins_with BALANCE#           |
 * | balances of a business (B2B)            | Query     | PK=BUSINESS#<id>          SK begins_with BALANCE#           |
 * | idempotency record                      | GetItem   | PK=IDEMPOTENCY#<business>#<key> SK=IDEMPOTENCY              |
 *
 * Ids are UUID v7, so a sort key made of an id sorts by creation time ("newest first" is
 * `ScanIndexForward: false`).
 */

export interface ItemKey {
  PK: string;
  SK: string;
}

export const businessKeys = {
  profile: (businessId: string): ItemKey => ({ PK: `BUSINESS#${businessId}`, SK: 'PROFILE' }),
  balance: (businessId: string, currency: string): ItemKey => ({ PK: `BUSINESS#${businessId}`, SK: `BALANCE#${currency}` }),
  balancesPrefix: (businessId: string) => ({ PK: `BUSINESS#${businessId}`, SKPrefix: 'BALANCE#' }),
};

export const apiKeyKeys = {
  byHash: (keyHash: string): ItemKey => ({ PK: `APIKEY#${keyHash}`, SK: 'APIKEY' }),
};

export const networkKeyKeys = {
  byHash: (keyHash: string): ItemKey => ({ PK: `NETWORKKEY#${keyHash}`, SK: 'NETWORKKEY' }),
};

export const userKeys = {
  profile: (userId: string): ItemKey => ({ PK: `USER#${userId}`, SK: 'PROFILE' }),
  listIndex: (businessId: string, userId: string) => ({ GSI1PK: `BUSINESS#${businessId}#USERS`, GSI1SK: userId }),
  listPartition: (businessId: string) => `BUSINESS#${businessId}#USERS`,
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
