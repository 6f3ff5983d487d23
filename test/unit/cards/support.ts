/**
 * Helpers for the cards handler tests: events for each route, and card items exactly as a create
 * writes them, to answer the reads of the other routes with plain aws-sdk-client-mock responses.
 * Nothing here stores anything between requests or evaluates an expression: what only DynamoDB's
 * own semantics decide (a list's pages, a condition that actually fails, a key replayed across
 * requests) is in test/integration/cards.test.ts.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { handler as createCard } from '../../../functions/cards/create-card.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';

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

/** The items of every transaction sent so far, in order. */
export function transactions(ddb: DocumentMock): Item[][] {
  return ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems as Item[]);
}

/** Every item Put by the transactions sent so far: what those requests asked DynamoDB to store. */
export function putItems(ddb: DocumentMock): Item[] {
  return transactions(ddb).flatMap((items) => items.filter((entry) => entry.Put).map((entry) => entry.Put.Item as Item));
}

/**
 * Issues a card through the real create handler (its transaction answered as committed) and
 * returns the view it answered and the card item it wrote: a real sealed bundle, real keys. The
 * mock is reset afterwards, so the test scripts the next request's answers from scratch.
 */
export async function issuedCard(
  ddb: DocumentMock,
  body: Record<string, unknown> = { mode: 'B2B' },
  authorizer?: Record<string, string>,
): Promise<{ card: Item; item: Item }> {
  ddb.reset();
  ddb.on(GetCommand).resolves({ Item: userItem('Active', authorizer?.businessId ?? TEST_BUSINESS_ID) });
  ddb.on(TransactWriteCommand).resolves({});
  const result = await createCard(createCardEvent(body, authorizer ? { authorizer } : {}), lambdaContext);
  if (result.statusCode !== 201) throw new Error(`create failed: ${result.body}`);
  const card = parseBody(result);
  const item = putItems(ddb).find((stored) => stored.entity === 'card')!;
  ddb.reset();
  return { card, item };
}

/** Answers the read of the card `item` (by its key) with `item`; any other key reads as missing. */
export function serveCard(ddb: DocumentMock, item: Item): void {
  ddb.on(GetCommand).resolves({});
  ddb.on(GetCommand, { Key: { PK: item.PK, SK: item.SK } }).resolves({ Item: item });
}

/** A cancelled transaction: one reason code per item, in item order. */
export function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
}
