/**
 * Spending controls in the single table: the card's are an attribute of the card item
 * (cards-repository.ts); the business's defaults are one item, `BUSINESS#<id>` / `CONTROLS`.
 * Lists are stored as DynamoDB lists (an empty set cannot be stored), the count as a number.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { NO_CONTROLS, type SpendingControls } from '../domain/controls.ts';
import { db, intAttr, tableName } from './client.ts';
import { businessKeys } from './keys.ts';

export interface StoredBusinessControls {
  controls: SpendingControls;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** The attribute value of `controls` on a card or business controls item. */
export function controlsItem(controls: SpendingControls): Record<string, unknown> {
  return {
    allowedMccs: controls.allowedMccs,
    blockedMccs: controls.blockedMccs,
    allowedCountries: controls.allowedCountries,
    blockedCountries: controls.blockedCountries,
    maxDailyCount: controls.maxDailyCount,
  };
}

/** Controls as stored; a missing attribute (a card issued before controls) is no controls. */
export function controlsFromItem(value: unknown): SpendingControls {
  if (typeof value !== 'object' || value === null) return NO_CONTROLS;
  const stored = value as Record<string, unknown>;
  const list = (entry: unknown) => (Array.isArray(entry) ? entry.map(String) : []);
  return {
    allowedMccs: list(stored.allowedMccs),
    blockedMccs: list(stored.blockedMccs),
    allowedCountries: list(stored.allowedCountries),
    blockedCountries: list(stored.blockedCountries),
    maxDailyCount: stored.maxDailyCount === undefined ? 0 : intAttr(stored.maxDailyCount),
  };
}

/** The business's default controls (none set: no controls). */
export async function getBusinessControls(businessId: string, consistent = false): Promise<StoredBusinessControls> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: businessKeys.controls(businessId), ConsistentRead: consistent }));
  const item = result.Item;
  if (!item) return { controls: NO_CONTROLS, updatedAt: null, updatedBy: null };
  return {
    controls: controlsFromItem(item.controls),
    updatedAt: typeof item.updatedAt === 'string' ? item.updatedAt : null,
    updatedBy: typeof item.updatedBy === 'string' ? item.updatedBy : null,
  };
}

/** Replaces the business's default controls (a whole-set PUT: the last write wins). */
export async function putBusinessControls(businessId: string, controls: SpendingControls, updatedAt: string, updatedBy: string): Promise<void> {
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...businessKeys.controls(businessId), entity: 'business_controls', businessId, controls: controlsItem(controls), updatedAt, updatedBy },
    }),
  );
}
