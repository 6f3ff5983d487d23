/**
 * The single table's physical shape, shared by the CDK stack and the local stack so both create
 * exactly the same keys, indexes, TTL and stream.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** Generic GSIs: an entity decides what its GSIn keys mean (see keys.ts for the access patterns). */
  globalIndexes: [
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    // Sparse: only undelivered events (the webhook sweeper's index) and B2C card transactions (a
    // user's list) carry its keys; their partitions never meet (keys.ts).
    { indexName: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
    // Sparse: only authorizations that still hold money carry its keys (the hold-expiry sweeper's index).
    { indexName: 'GSI4', partitionKey: 'GSI4PK', sortKey: 'GSI4SK' },
  ],
  /** Epoch seconds; DynamoDB deletes expired items (idempotency records, OTP verifications). */
  timeToLiveAttribute: 'expiresAt',
} as const;

export type GlobalIndexName = (typeof TABLE_SCHEMA.globalIndexes)[number]['indexName'];
