/**
 * Helpers for the cards handler tests: events for each route and an in-memory table behind
 * aws-sdk-client-mock that honours exactly the expressions the cards routes use (conditions of
 * the form `a = :x AND b <> :y AND attribute_not_exists(PK)`, `SET` updates, key conditions on the
 * table and the two GSIs, filters, `Limit` and `ExclusiveStartKey`), so a test can create a card
 * and then lock, reveal or list it through the real handlers.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { apiEvent, TEST_BUSINESS_ID } from '../../support/events.ts';

export type DocumentMock = AwsStub<any, any, DynamoDBDocumentClient['config']>;

export const OTHER_BUSINESS_ID = '0190a3c4-0000-7000-8000-0000000000f2';
export const USER_ID = '0190a3c4-0000-7000-8000-00000000beef';
export const MISSING_CARD_ID = '0190a3c4-0000-7000-8000-00000000dead';

export function businessAuthorizer(businessId: string, keyId = '0190a3c4-0000-7000-8000-0000000000ab') {
  return { credential: 'business', businessId, keyId };
}

export function createCardEvent(body: unknown, options: { headers?: Record<string, string>; authorizer?: Record<string, string> } = {}) {
  return apiEvent({
    method: 'POST',
    path: '/v1/cards',
    resource: '/v1/cards',
    body,
    headers: options.headers ?? {},
    ...(options.authorizer ? { authorizer: options.authorizer } : {}),
  });
}

/** An event for `/v1/cards/{id}<suffix>`. */
export function cardEvent(
  method: string,
  cardId: string,
  suffix = '',
  options: { body?: unknown; query?: Record<string, string>; headers?: Record<string, string>; authorizer?: Record<string, string> } = {},
) {
  return apiEvent({
    method,
    path: `/v1/cards/${cardId}${suffix}`,
    resource: `/v1/cards/{id}${suffix}`,
    pathParameters: { id: cardId },
    body: options.body,
    ...(options.query ? { query: options.query } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.authorizer ? { authorizer: options.authorizer } : {}),
  });
}

export function listCardsEvent(query: Record<string, string> = {}, authorizer?: Record<string, string>) {
  return apiEvent({ method: 'GET', path: '/v1/cards', resource: '/v1/cards', query, ...(authorizer ? { authorizer } : {}) });
}

export function userItem(status: 'Active' | 'Suspended', businessId = TEST_BUSINESS_ID, userId = USER_ID) {
  return {
    PK: `USER#${userId}`,
    SK: 'PROFILE',
    entity: 'user',
    userId,
    businessId,
    status,
    ekyc: 'sealed-ekyc-placeholder',
    ekycFingerprints: { firstName: 'f', lastName: 'l', idNumber: 'i' },
    createdAt: '2025-03-04T03:32:11.051702Z',
    updatedAt: '2025-03-04T03:32:11.051702Z',
  };
}

type Item = Record<string, any>;

class ConditionFailed extends Error {}

/** An in-memory single table with the semantics the cards routes rely on. */
export class FakeTable {
  readonly items = new Map<string, Item>();
  /** Every write, in order, as `<command> <PK>|<SK>`, to assert what was written before what. */
  readonly writes: string[] = [];

  constructor(private readonly ddb: DocumentMock) {
    ddb.reset();
    ddb.on(GetCommand).callsFake((input: { Key: Item }) => ({ Item: clone(this.items.get(keyOf(input.Key))) }));
    ddb.on(PutCommand).callsFake((input: Item) => {
      this.guard(() => this.check(input.Item, input), () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      this.put(input.Item, 'Put');
      return {};
    });
    ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
      this.guard(() => this.check(input.Key!, input), () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      this.update(input);
      return {};
    });
    ddb.on(DeleteCommand).callsFake((input: { Key: Item }) => {
      this.items.delete(keyOf(input.Key));
      return {};
    });
    ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: Item[] }) => {
      const reasons = input.TransactItems.map((entry) => {
        const op = entry.Put ?? entry.Update ?? entry.ConditionCheck;
        const key = entry.Put ? entry.Put.Item : op.Key;
        try {
          this.check(key, op);
          return { Code: 'None' };
        } catch (error) {
          if (error instanceof ConditionFailed) return { Code: 'ConditionalCheckFailed' };
          throw error;
        }
      });
      if (reasons.some((r) => r.Code !== 'None')) {
        throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons });
      }
      for (const entry of input.TransactItems) {
        if (entry.Put) this.put(entry.Put.Item, 'Put');
        if (entry.Update) this.update(entry.Update);
      }
      return {};
    });
    ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => this.query(input));
  }

  put(item: Item, command = 'Seed'): void {
    this.items.set(keyOf(item), clone(item)!);
    this.writes.push(`${command} ${keyOf(item)}`);
  }

  get(key: { PK: string; SK: string }): Item | undefined {
    return this.items.get(keyOf(key));
  }

  all(): Item[] {
    return [...this.items.values()];
  }

  private guard(check: () => void, error: () => Error): void {
    try {
      check();
    } catch (failure) {
      if (failure instanceof ConditionFailed) throw error();
      throw failure;
    }
  }

  private check(key: Item, op: Item): void {
    const condition: string | undefined = op.ConditionExpression;
    if (!condition) return;
    const existing = this.items.get(keyOf(key));
    // The idempotency claim: absent, expired or an abandoned lease. Nothing expires within a test.
    if (condition.startsWith('attribute_not_exists(PK) OR')) {
      if (existing) throw new ConditionFailed();
      return;
    }
    const names: Record<string, string> = op.ExpressionAttributeNames ?? {};
    const values: Record<string, unknown> = op.ExpressionAttributeValues ?? {};
    for (const clause of condition.split(' AND ')) {
      if (!clauseHolds(clause.trim(), existing, names, values)) throw new ConditionFailed();
    }
  }

  private update(input: UpdateCommandInput): void {
    const key = keyOf(input.Key!);
    const item = { ...this.items.get(key) };
    const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
    const values: Record<string, unknown> = input.ExpressionAttributeValues ?? {};
    const expression = input.UpdateExpression!;
    if (!expression.startsWith('SET ')) throw new Error(`FakeTable: unsupported update ${expression}`);
    for (const assignment of expression.slice(4).split(',')) {
      const [name, value] = assignment.split('=').map((s) => s.trim()) as [string, string];
      item[names[name] ?? name] = clone(values[value]);
    }
    this.items.set(key, item);
    this.writes.push(`Update ${key}`);
  }

  private query(input: QueryCommandInput) {
    const values: Record<string, any> = input.ExpressionAttributeValues ?? {};
    const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
    const index = input.IndexName;
    const [pkName, skName] = index === 'GSI1' ? ['GSI1PK', 'GSI1SK'] : index === 'GSI2' ? ['GSI2PK', 'GSI2SK'] : ['PK', 'SK'];
    const keyCondition = input.KeyConditionExpression!;
    const partition = values[index ? ':partition' : ':pk'];
    const prefix: string = keyCondition.includes('begins_with') ? values[':prefix'] : '';
    let matches = this.all().filter((item) => item[pkName] === partition && String(item[skName]).startsWith(prefix));
    matches.sort((a, b) => (a[skName] < b[skName] ? -1 : a[skName] > b[skName] ? 1 : 0));
    if (input.ScanIndexForward === false) matches.reverse();
    const start = input.ExclusiveStartKey;
    if (start) {
      const at = matches.findIndex((item) => item.PK === start.PK && item.SK === start.SK);
      matches = matches.slice(at + 1);
    }
    const limit = input.Limit ?? matches.length;
    const evaluated = matches.slice(0, limit);
    const filter = input.FilterExpression;
    const returned = filter
      ? evaluated.filter((item) => filter.split(' AND ').every((clause) => clauseHolds(clause.trim(), item, names, values)))
      : evaluated;
    const last = evaluated.length === limit && evaluated.length > 0 ? evaluated[evaluated.length - 1] : undefined;
    return {
      Items: returned.map((item) => clone(item)),
      ...(last ? { LastEvaluatedKey: Object.fromEntries(['PK', 'SK', ...(index ? [pkName, skName] : [])].map((n) => [n, last[n]])) } : {}),
    };
  }
}

function clauseHolds(clause: string, item: Item | undefined, names: Record<string, string>, values: Record<string, unknown>): boolean {
  if (clause === 'attribute_not_exists(PK)') return item === undefined;
  if (clause === 'attribute_exists(PK)') return item !== undefined;
  const match = /^(\S+) (=|<>) (:\w+)$/.exec(clause);
  if (!match) throw new Error(`FakeTable: unsupported condition ${clause}`);
  const [, name, operator, placeholder] = match as unknown as [string, string, string, string];
  if (item === undefined) return false; // a comparison on a missing item is false, as in DynamoDB
  const actual = item[names[name] ?? name];
  const expected = values[placeholder];
  const equal = actual === expected || (actual !== undefined && String(actual) === String(expected));
  return operator === '=' ? equal : !equal;
}

function keyOf(key: Item): string {
  return `${String(key.PK)}|${String(key.SK)}`;
}

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
