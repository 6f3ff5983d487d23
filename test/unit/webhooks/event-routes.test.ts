/**
 * `GET /v1/event-types`, `GET /v1/events/{id}` and `GET /v1/events?type=` through their real
 * wrappers, over aws-sdk-client-mock.
 */
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as getEvent } from '../../../functions/events/get-event.ts';
import { handler as listEventTypes } from '../../../functions/events/list-event-types.ts';
import { handler as listEvents } from '../../../functions/events/list-events.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const EVENT_ID = '0190a3c4-0000-7000-8000-00000000e001';
const OTHER_BUSINESS_ID = '0190a3c4-0000-7000-8000-0000000000f2';
const AT = '2025-03-04T03:32:11.051702Z';

function eventItem(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    PK: `EVENT#${EVENT_ID}`,
    SK: 'EVENT',
    entity: 'event',
    eventId: EVENT_ID,
    businessId: TEST_BUSINESS_ID,
    type: 'transfer.completed',
    queue: 'events',
    payload: JSON.stringify({ action: 'Transfer', type: 'transfer.completed', transfer: { id: 't' } }),
    createdAt: AT,
    ...overrides,
  };
}

const DELIVERED = {
  deliveryStatus: 'delivered',
  attemptCount: 1,
  attempts: [{ attemptedAt: AT, statusCode: 200, durationMs: 12 }],
  deliveredAt: AT,
  generation: 1,
};

/** The event's delivery record: its status and attempts. */
function deliveryItem(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { PK: `EVENT#${EVENT_ID}`, SK: 'DELIVERY', entity: 'webhook_delivery', eventId: EVENT_ID, businessId: TEST_BUSINESS_ID, createdAt: AT, ...DELIVERED, ...overrides };
}

/** The event's partition, as the query by id reads it: the record sorts before the event. */
function servePartition(items: Record<string, unknown>[]) {
  ddb.on(QueryCommand).resolves({ Items: items });
}

/** The event as GET /v1/events and GET /v1/events/{id} show it. */
const view = {
    id: EVENT_ID,
    p_business_id: TEST_BUSINESS_ID,
    type: 'transfer.completed',
    payload: { action: 'Transfer', type: 'transfer.completed', transfer: { id: 't' } },
    delivery_status: 'delivered',
    attempt_count: 1,
    attempts: [{ attempted_at: AT, status_code: 200, error: null, duration_ms: 12 }],
    next_attempt_at: null,
    delivered_at: AT,
    p_created_at: AT,
};

const getEventRequest = (id: string) => apiEvent({ path: `/v1/events/${id}`, resource: '/v1/events/{id}', pathParameters: { id } });
const listEventsRequest = (query: Record<string, string>) => apiEvent({ path: '/v1/events', resource: '/v1/events', query });

beforeEach(() => {
  ddb.reset();
});

describe('GET /v1/event-types', () => {
  it('lists every type with its description and payload schema, reading nothing', async () => {
    const result = await listEventTypes(apiEvent({ path: '/v1/event-types', resource: '/v1/event-types' }), lambdaContext);
    expect(result.statusCode).toBe(200);
    const { data } = parseBody(result);
    expect(data).toHaveLength(10);
    expect(data.map((entry: { type: string }) => entry.type)).toContain('webhook.test');
    expect(data[0]).toEqual({ type: 'transaction.authorization', description: expect.any(String), schema: expect.objectContaining({ type: 'object' }) });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('takes no query parameters', async () => {
    const result = await listEventTypes(apiEvent({ path: '/v1/event-types', resource: '/v1/event-types', query: { type: 'three_ds.otp' } }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.code).toBe('validation_error');
  });
});

describe('GET /v1/events/{id}', () => {

  it('returns the event with its delivery record, as the list shows it, from one consistent query of its partition', async () => {
    servePartition([deliveryItem(), eventItem()]);
    const result = await getEvent(getEventRequest(EVENT_ID), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual(view);
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :delivery AND :event',
      ExpressionAttributeValues: { ':pk': `EVENT#${EVENT_ID}`, ':delivery': 'DELIVERY', ':event': 'EVENT' },
      ConsistentRead: true,
    });
  });

  it('reads an event committed before delivery records from the state on its own item', async () => {
    servePartition([eventItem(DELIVERED)]);
    expect(parseBody(await getEvent(getEventRequest(EVENT_ID), lambdaContext))).toEqual(view);
  });

  it('shows an event stored before types existed under its catalogue type, its payload with the type', async () => {
    servePartition([deliveryItem(), eventItem({ type: 'transfer', payload: JSON.stringify({ action: 'Transfer', transfer: { id: 't' } }) })]);
    const body = parseBody(await getEvent(getEventRequest(EVENT_ID), lambdaContext));
    expect(body.type).toBe('transfer.completed');
    expect(body.payload).toEqual({ action: 'Transfer', type: 'transfer.completed', transfer: { id: 't' } });
  });

  it.each([
    ['another business', [deliveryItem({ businessId: OTHER_BUSINESS_ID }), eventItem({ businessId: OTHER_BUSINESS_ID })]],
    ['no business', []],
    ['no business (a delivery record alone)', [deliveryItem()]],
  ])("is a 404 for %s's event", async (_, items) => {
    servePartition(items);
    const result = await getEvent(getEventRequest(EVENT_ID), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error.code).toBe('event_not_found');
  });

  it('is a 404 for an id that is not an event id, without reading the table', async () => {
    const result = await getEvent(getEventRequest('x'.repeat(65)), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error.code).toBe('event_not_found');
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('GET /v1/events?type=', () => {
  it('filters by type, finding events stored under its former name too', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': `BUSINESS#${TEST_BUSINESS_ID}#EVENTS` } }).resolves({ Items: [eventItem()] });
    ddb.on(BatchGetCommand).resolves({ Responses: { [process.env.TABLE_NAME!]: [deliveryItem()] } });
    const result = await listEvents(listEventsRequest({ type: 'transfer.completed' }), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result).data.map((event: any) => [event.type, event.delivery_status, event.attempt_count])).toEqual([['transfer.completed', 'delivered', 1]]);
    expect(ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems![process.env.TABLE_NAME!]).toEqual({
      Keys: [{ PK: `EVENT#${EVENT_ID}`, SK: 'DELIVERY' }],
      ConsistentRead: true,
    });
    const input = ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      IndexName: 'GSI1',
      FilterExpression: '#type IN (:type0, :type1)',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type0': 'transfer.completed', ':type1': 'transfer' },
    });
  });

  it('reads the whole list without a type', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect((await listEvents(listEventsRequest({}), lambdaContext)).statusCode).toBe(200);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input.FilterExpression).toBeUndefined();
  });

  it('refuses a type that is not in the catalogue (400), reading nothing', async () => {
    const result = await listEvents(listEventsRequest({ type: 'transaction.unknown' }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.code).toBe('validation_error');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('shows each listed event committed before delivery records with the state on its own item', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': `BUSINESS#${TEST_BUSINESS_ID}#EVENTS` } }).resolves({ Items: [eventItem(DELIVERED)] });
    ddb.on(BatchGetCommand).resolves({ Responses: { [process.env.TABLE_NAME!]: [] } });
    const body = parseBody(await listEvents(listEventsRequest({}), lambdaContext));
    expect(body.data).toEqual([view]);
  });

  it("does not take one type's cursor for another type's list", async () => {
    ddb.on(QueryCommand).resolves({ Items: [eventItem(), eventItem()], LastEvaluatedKey: { PK: 'x', SK: 'y', GSI1PK: 'p', GSI1SK: 's' } });
    ddb.on(BatchGetCommand).resolves({ Responses: {} });
    const first = parseBody(await listEvents(listEventsRequest({ type: 'transfer.completed', limit: '1' }), lambdaContext));
    expect(first.next_cursor).toEqual(expect.any(String));
    const other = await listEvents(listEventsRequest({ type: 'deposit.completed', cursor: first.next_cursor }), lambdaContext);
    expect(other.statusCode).toBe(400);
    expect(parseBody(other).error.code).toBe('invalid_cursor');
  });
});
