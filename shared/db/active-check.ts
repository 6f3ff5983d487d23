import { tableName } from './client.ts';
import type { ItemKey } from './keys.ts';
import type { TransactItem } from './transact.ts';

/** A transaction item that holds only while the card or user at `key` is still `Active`. */
export function activeCheck(key: ItemKey): TransactItem {
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: key,
      ConditionExpression: '#status = :active',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':active': 'Active' },
    },
  };
}
