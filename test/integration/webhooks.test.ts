/**
 * Webhooks end to end, the way a partner experiences them: every committed event reaches a real
 * HTTP receiver, signed per Standard Webhooks (checked here with the `standardwebhooks` package),
 * exactly as API.md specifies; failures are retried and visible in `GET /v1/events`; what never
 * succeeds parks in the DLQ until an operator redrives it; nothing is lost while the dispatcher is
 * down, and the sweeper delivers what no message carries any more; a redelivery, a sweep or a
 * duplicate message never makes a second delivery nobody asked for.
 *
 * This suite runs its own local stack (in this process), so it can stop the dispatcher's and the
 * delivery function's pollers, and so retries come at once (WEBHOOK_RETRY_DELAY_SCALE=0: the
 * schedule itself is unit-tested) and a slow receiver times out after 1 s instead of 10. The
 * sweeper's own timer runs every minute with its 2-minute grace, too late for this suite: its
 * tests run a sweep at a time past the grace period instead.
 */
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { startWebhookReceiver, verifyWith, webhookId, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver.ts';

const WAIT = { timeout: 45_000, interval: 100 };

/** The card_transaction fields of API.md (plus `p_user_id`, an allowed extra), always present; `decision` on every authorization. */
const TRANSACTION_FIELDS = [
  'id', 'decision', 'p_business_id', 'card', 'status', 'type', 'transaction_currency', 'transaction_amount', 'local_currency', 'local_amount',
  'final_local_amount', 'calculated_fee', 'held_amount', 'merchant_id', 'merchant_country', 'merchant_city', 'merchant_name', 'p_user_id', 'p_created_at', 'p_updated_at',
];

let stack: LocalStack;
let receiver: WebhookReceiver;
let sqs: SQSClient;
let services: {
  businesses: typeof import('../../shared/services/businesses.ts');
  deadLetters: typeof import('../../shared/services/dead-letters.ts');
  sweeper: typeof import('../../shared/services/webhook-sweeper.ts');
};

beforeAll(async () => {
  process.env.WEBHOOK_RETRY_DELAY_SCALE = '0';
  process.env.WEBHOOK_TIMEOUT_MS = '1000';
  stack = await startLocalStack({ inMemory: true, port: 0, quiet: true });
  // Every webhook received is checked against this stack's own GET /v1/event-types.
  receiver = await startWebhookReceiver({ eventTypesFrom: { apiBase: stack.apiBase, apiKey: stack.credentials.api_key } });
  sqs = new SQSClient({ region: stack.region, endpoint: stack.endpoints.sqs, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  // Loaded after the stack set this process's environment (they read it once).
  services = {
    businesses: await import('../../shared/services/businesses.ts'),
    deadLetters: await import('../../shared/services/dead-letters.ts'),
    sweeper: await import('../../shared/services/webhook-sweeper.ts'),
  };
});

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
  await receiver?.stop();
  delete process.env.WEBHOOK_RETRY_DELAY_SCALE;
  delete process.env.WEBHOOK_TIMEOUT_MS;
});

// ---------------------------------------------------------------------------------------------
// A partner: a business with its own receiver path, API client and funded card

interface Partner {
  businessId: string;
  secret: string;
  path: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

let partners = 0;
async function partner(options: { webhook?: boolean } = {}): Promise<Partner> {
  const name = `Webhook partner ${++partners}`;
  const created = await services.businesses.createBusiness({ name });
  const path = `/hooks/${created.business_id}`;
  if (options.webhook !== false) await services.businesses.setWebhookUrl(created.business_id, receiver.url(path));
  return {
    businessId: created.business_id,
    secret: created.webhook_secret,
    path,
    async call(method, route, body) {
      const response = await fetch(`${stack.apiBase}${route}`, {
        method,
        headers: { authorization: `Bearer ${created.api_key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
  };
}

async function fundedCard(p: Partner, amount = '1000'): Promise<string> {
  expect((await p.call('POST', '/v1/simulate/topups', { currency: 'USD', amount })).status).toBe(201);
  const card = await p.call('POST', '/v1/cards', { mode: 'B2B', currency: 'USD' });
  expect(card.status).toBe(201);
  return card.body.id;
}

async function authorize(p: Partner, cardId: string, amount: string) {
  const response = await p.call('POST', '/v1/simulate/authorizations', {
    card_id: cardId, amount, currency: 'USD', merchant_name: 'Coffee', merchant_id: 'm-42', merchant_country: 'HK', merchant_city: 'Hong Kong',
  });
  expect(response.status).toBe(201);
  return response.body;
}

async function events(p: Partner): Promise<any[]> {
  const response = await p.call('GET', '/v1/events?limit=100');
  expect(response.status).toBe(200);
  return response.body.data;
}

async function eventWhere(p: Partner, match: (event: any) => boolean): Promise<any> {
  let found: any;
  await vi.waitFor(async () => {
    found = (await events(p)).find(match);
    expect(found).toBeDefined();
  }, WAIT);
  return found;
}

const ofTransaction = (transactionId: string, action: string) => (request: ReceivedWebhook) => {
  const body = JSON.parse(request.body);
  return body.card_transaction?.id === transactionId && body.action === action;
};

// ---------------------------------------------------------------------------------------------

describe('transaction webhooks', () => {
  it('delivers an authorization, a decline, a reversal and a settlement, each signed and exactly as API.md specifies', async () => {
    const p = await partner();
    const cardId = await fundedCard(p, '100');
    const approved = await authorize(p, cardId, '40');
    const declined = await authorize(p, cardId, '500');
    expect(declined.status).toBe('Declined');
    const reversed = await p.call('POST', `/v1/simulate/authorizations/${approved.id}/reverse`, { amount: '10' });
    const settled = await p.call('POST', `/v1/simulate/authorizations/${approved.id}/settle`, {});
    expect([reversed.status, settled.status]).toEqual([200, 200]);

    const expected = [
      { action: 'Authorization', type: 'transaction.authorization', card_transaction: approved },
      { action: 'Authorization', type: 'transaction.authorization', card_transaction: declined },
      { action: 'Reversed', type: 'transaction.reversal', card_transaction: reversed.body },
      { action: 'Settled', type: 'transaction.settlement', card_transaction: settled.body },
    ];
    const deliveries = await Promise.all([
      receiver.waitFor(p.path, ofTransaction(approved.id, 'Authorization')),
      receiver.waitFor(p.path, ofTransaction(declined.id, 'Authorization')),
      receiver.waitFor(p.path, ofTransaction(approved.id, 'Reversed')),
      receiver.waitFor(p.path, ofTransaction(approved.id, 'Settled')),
    ]);
    deliveries.forEach((delivery, i) => {
      // The partner's check: a valid signature with its secret, a fresh timestamp, and the body as sent.
      expect(verifyWith([p.secret], delivery)).toEqual(expected[i]);
      expect(delivery.headers['content-type']).toBe('application/json');
      const body = JSON.parse(delivery.body);
      expect(Object.keys(body)).toEqual(['action', 'type', 'card_transaction']);
      // `hold_expires_at` while something is held.
      const optional = ['mcc', 'decline_reason', 'hold_expires_at'].filter((field) => field in body.card_transaction);
      expect(Object.keys(body.card_transaction).sort()).toEqual([...TRANSACTION_FIELDS, ...optional].sort());
    });
    expect(JSON.parse(deliveries[1]!.body).card_transaction).toMatchObject({ status: 'Declined', decline_reason: 'insufficient_balance' });
    // With no decision endpoint set, the platform decides alone, and says so on every event of the transaction.
    for (const delivery of deliveries) expect(JSON.parse(delivery.body).card_transaction.decision).toMatchObject({ source: 'platform' });

    // webhook-id is the event's id in GET /v1/events, and the payload's type the event's type.
    const listed = await events(p);
    expect(new Set(deliveries.map(webhookId))).toEqual(new Set(listed.map((event) => event.id)));
    for (const delivery of deliveries) {
      expect(listed.find((event) => event.id === webhookId(delivery))!.type).toBe(JSON.parse(delivery.body).type);
    }
  });

  it('lists each event with its type, payload, delivery status and attempts', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '12.50');
    const delivery = await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));

    const event = await eventWhere(p, (e) => e.id === webhookId(delivery) && e.delivery_status === 'delivered');
    expect(event).toMatchObject({
      p_business_id: p.businessId,
      type: 'transaction.authorization',
      payload: { action: 'Authorization', type: 'transaction.authorization', card_transaction: txn },
      attempt_count: 1,
      next_attempt_at: null,
      delivered_at: expect.any(String),
      p_created_at: txn.p_updated_at,
    });
    expect(event.attempts).toEqual([{ attempted_at: expect.any(String), status_code: 200, error: null, duration_ms: expect.any(Number) }]);
  });
});

describe('event types', () => {
  it('lists every event type with its description and the JSON Schema of its payload', async () => {
    const p = await partner();
    const response = await p.call('GET', '/v1/event-types');
    expect(response.status).toBe(200);
    expect(response.body.data.map((entry: any) => entry.type)).toEqual([
      'transaction.authorization', 'transaction.reversal', 'transaction.settlement', 'transaction.refund', 'transaction.expiry',
      'three_ds.otp', 'three_ds.attempts_exhausted', 'deposit.completed', 'transfer.completed', 'webhook.test',
    ]);
    for (const entry of response.body.data) {
      expect(Object.keys(entry).sort(), entry.type).toEqual(['description', 'schema', 'type']);
      expect(entry.description, entry.type).toEqual(expect.any(String));
      expect(entry.schema, entry.type).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { type: { const: entry.type } } });
    }
  });

  it('returns one event as the list shows it; unknown and malformed ids are 404', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '11');
    await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
    const listed = await eventWhere(p, (e) => e.payload.card_transaction.id === txn.id && e.delivery_status === 'delivered');

    const one = await p.call('GET', `/v1/events/${listed.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(listed);

    for (const id of ['0190a3c4-0000-7000-8000-00000000dead', 'not-an-id', 'f'.repeat(65)]) {
      const missing = await p.call('GET', `/v1/events/${id}`);
      expect(missing.status, id).toBe(404);
      expect(missing.body.error.code, id).toBe('event_not_found');
    }
  });

  it("answers another business's event id with 404 event_not_found", async () => {
    const owner = await partner();
    const other = await partner();
    const cardId = await fundedCard(owner);
    await authorize(owner, cardId, '1');
    const event = await eventWhere(owner, () => true);
    const response = await other.call('GET', `/v1/events/${event.id}`);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('event_not_found');
  });

  it('filters the list by type; a type not in the catalogue is a 400', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const first = await authorize(p, cardId, '10');
    const second = await authorize(p, cardId, '20');
    expect((await p.call('POST', `/v1/simulate/authorizations/${first.id}/reverse`, {})).status).toBe(200);
    await vi.waitFor(async () => expect(await events(p)).toHaveLength(3), WAIT);

    const reversals = await p.call('GET', '/v1/events?type=transaction.reversal');
    expect(reversals.status).toBe(200);
    expect(reversals.body.data.map((e: any) => [e.type, e.payload.card_transaction.id])).toEqual([['transaction.reversal', first.id]]);
    const authorizations = await p.call('GET', '/v1/events?type=transaction.authorization&limit=1');
    expect(authorizations.body.data.map((e: any) => e.payload.card_transaction.id)).toEqual([second.id]);
    const next = await p.call('GET', `/v1/events?type=transaction.authorization&limit=1&cursor=${authorizations.body.next_cursor}`);
    expect(next.body.data.map((e: any) => e.payload.card_transaction.id)).toEqual([first.id]);
    expect((await p.call('GET', '/v1/events?type=deposit.completed')).body).toEqual({ data: [], next_cursor: null });

    for (const type of ['transaction.unknown', 'deposit', '']) {
      const refused = await p.call('GET', `/v1/events?type=${type}`);
      expect(refused.status, type).toBe(400);
      expect(refused.body.error.code, type).toBe('validation_error');
    }
  });
});

describe('retries', () => {
  it('retries a receiver that fails (5xx, a redirect it must not follow, a timeout) until it succeeds, recording every attempt under one webhook-id', async () => {
    const p = await partner();
    receiver.script(p.path, (n) => [500, { status: 302, headers: { location: receiver.url('/elsewhere') } }, { status: 200, delayMs: 3_000 }][n - 1] ?? 200);
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '5');

    const event = await eventWhere(p, (e) => e.delivery_status === 'delivered' && e.payload.card_transaction.id === txn.id);
    expect(event.attempt_count).toBe(4);
    expect(event.attempts.map((a: any) => [a.status_code, a.error])).toEqual([
      [500, null],
      [302, null],
      [null, 'timeout'],
      [200, null],
    ]);
    const requests = receiver.received(p.path);
    expect(requests).toHaveLength(4);
    expect(new Set(requests.map(webhookId))).toEqual(new Set([event.id]));
    for (const request of requests) expect(verifyWith([p.secret], request)).toEqual(event.payload);
    expect(receiver.received('/elsewhere')).toEqual([]);
  });

  it('says retrying while retries remain, with when the next is due', async () => {
    const p = await partner();
    let accepting = false;
    receiver.script(p.path, () => (accepting ? 200 : 500));
    const cardId = await fundedCard(p);
    await authorize(p, cardId, '6');
    const retrying = await eventWhere(p, (e) => e.delivery_status === 'retrying' && e.attempt_count >= 1);
    expect(retrying.next_attempt_at).toEqual(expect.any(String));
    expect(retrying.attempts[0].status_code).toBe(500);
    accepting = true;
    await eventWhere(p, (e) => e.id === retrying.id && e.delivery_status === 'delivered');
  });

  it('parks an event whose receiver never succeeds in the DLQ after the last retry (failed), lists it for the operator, and a redrive delivers it', async () => {
    const { maxReceiveCountOf } = await import('../../shared/services/webhook-delivery.ts');
    const p = await partner();
    let accepting = false;
    receiver.script(p.path, () => (accepting ? 204 : 503));
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '7');

    const parked = await eventWhere(p, (e) => e.delivery_status === 'failed');
    expect(parked.payload.card_transaction.id).toBe(txn.id);
    expect(parked.next_attempt_at).toBeNull();
    expect(parked.attempt_count).toBe(maxReceiveCountOf('events'));
    expect(parked.attempts.every((a: any) => a.status_code === 503)).toBe(true);
    await vi.waitFor(async () => expect(await deadLettered('events')).toBe(1), WAIT);

    // The operator sees which event is parked, never what it carries.
    const listing = await services.deadLetters.listDeadLetters('events');
    expect(listing).toMatchObject({ queue: 'events', count: 1, messages: [{ event_id: parked.id, business_id: p.businessId, type: 'transaction.authorization', generation: 1 }] });
    expect(JSON.stringify(listing)).not.toContain(txn.id);

    accepting = true;
    const report = await services.deadLetters.redriveDeadLetters('events');
    expect(report).toEqual({ queue: 'events', moved: 1, requeued: 1, already_delivered: 0, expired: 0, kept: 0 });
    const delivered = await eventWhere(p, (e) => e.id === parked.id && e.delivery_status === 'delivered');
    expect(delivered.attempt_count).toBe(maxReceiveCountOf('events') + 1);
    expect(delivered.attempts.at(-1).status_code).toBe(204);
    expect(new Set(receiver.received(p.path).map(webhookId))).toEqual(new Set([parked.id]));
    expect(await deadLettered('events')).toBe(0);
  });
});

describe('the outbox', () => {
  it('delivers every event committed while the dispatcher was stopped once it is started again', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const dispatcher = stack.pollers.byName['webhooks/dispatch-outbox-events']!;
    await dispatcher.stop();
    let committed: any[];
    try {
      committed = [];
      for (const amount of ['1', '2', '3', '4', '5']) committed.push(await authorize(p, cardId, amount));
      expect((await events(p)).filter((e) => e.type === 'transaction.authorization').map((e) => e.delivery_status)).toEqual(Array(5).fill('pending'));
    } finally {
      dispatcher.start();
    }
    const deliveries = await Promise.all(committed.map((txn) => receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'))));
    for (const delivery of deliveries) verifyWith([p.secret], delivery);
    await vi.waitFor(async () => expect((await events(p)).filter((e) => e.delivery_status === 'delivered')).toHaveLength(5), WAIT);
  });

  it('redelivers an event on request with the same webhook-id and body', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '3');
    const first = await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
    const event = await eventWhere(p, (e) => e.id === webhookId(first) && e.delivery_status === 'delivered');

    const redelivery = await p.call('POST', `/v1/events/${event.id}/redeliver`);
    expect(redelivery.status).toBe(202);
    expect(redelivery.body).toMatchObject({ id: event.id, delivery_status: 'pending' });
    await vi.waitFor(() => expect(receiver.received(p.path)).toHaveLength(2), WAIT);
    const second = receiver.received(p.path)[1]!;
    expect(webhookId(second)).toBe(event.id);
    expect(second.body).toBe(first.body);
    verifyWith([p.secret], second);
    const after = await eventWhere(p, (e) => e.id === event.id && e.attempt_count === 2);
    expect(after.delivery_status).toBe('delivered');
  });

  it("refuses to redeliver another business's event (404)", async () => {
    const owner = await partner();
    const other = await partner();
    const cardId = await fundedCard(owner);
    await authorize(owner, cardId, '1');
    const event = await eventWhere(owner, () => true);
    const response = await other.call('POST', `/v1/events/${event.id}/redeliver`);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('event_not_found');
    expect((await other.call('GET', '/v1/events')).body.data).toEqual([]);
  });

  it('marks events of a business without a webhook URL, and delivers them on redelivery once it has one', async () => {
    const p = await partner({ webhook: false });
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '2');
    const event = await eventWhere(p, (e) => e.delivery_status === 'no_webhook_url');
    expect(event.attempt_count).toBe(0);

    await services.businesses.setWebhookUrl(p.businessId, receiver.url(p.path));
    expect((await p.call('POST', `/v1/events/${event.id}/redeliver`)).status).toBe(202);
    const delivery = await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
    expect(webhookId(delivery)).toBe(event.id);
  });
});

describe('one delivery per request for it', () => {
  it('delivers once when the partner asks for a redelivery while a retry is scheduled: the old message is superseded', async () => {
    const p = await partner();
    const delivery = stack.pollers.byName['webhooks/deliver-transaction-event']!;
    let accepting = false;
    let acceptedPosts = 0;
    receiver.script(p.path, (n) => {
      // Its retry then waits in the queue: nobody takes it while the delivery function is stopped.
      // (On a loaded machine the poller may already hold the retry when it is told to stop: that
      // attempt fails like the first, before the redelivery is asked for.)
      if (n === 1) void delivery.stop();
      if (accepting) acceptedPosts++;
      return accepting ? 200 : 500;
    });
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '4');
    let failing: any;
    try {
      failing = await eventWhere(p, (e) => e.delivery_status === 'retrying' && e.payload.card_transaction.id === txn.id);
      await delivery.stop();
      failing = await eventWhere(p, (e) => e.id === failing.id);
      expect(failing.attempt_count).toBeGreaterThanOrEqual(1);
      accepting = true;
      const asked = await p.call('POST', `/v1/events/${failing.id}/redeliver`);
      expect(asked.status).toBe(202);
      expect(asked.body).toMatchObject({ id: failing.id, delivery_status: 'pending' });
      // The scheduled retry and the redelivery both wait in the queue.
      await vi.waitFor(async () => expect(await queued('events')).toBeGreaterThanOrEqual(2), WAIT);
    } finally {
      delivery.start();
    }
    await eventWhere(p, (e) => e.id === failing.id && e.delivery_status === 'delivered');
    // Both messages, the scheduled retry and the redelivery, have come and gone: one POST between them.
    await vi.waitFor(async () => expect(await queued('events')).toBe(0), WAIT);
    expect(acceptedPosts).toBe(1);
    expect(new Set(receiver.received(p.path).map((request) => webhookId(request)))).toEqual(new Set([failing.id]));
    const after = await eventWhere(p, (e) => e.id === failing.id);
    expect(after.attempts.map((a: any) => a.status_code)).toEqual([...Array<number>(failing.attempt_count).fill(500), 200]);
  });

  it('acks a duplicate message of a delivered event without a POST', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '2');
    await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
    const event = await eventWhere(p, (e) => e.delivery_status === 'delivered');
    // What a dispatcher that crashed after its send and before its checkpoint sends again.
    const { queuedEvent } = await import('../../shared/db/outbox.ts');
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.events!.url, MessageBody: JSON.stringify(queuedEvent({ ...event, eventId: event.id, businessId: p.businessId, queue: 'events', payload: JSON.stringify(event.payload), createdAt: event.p_created_at }, 1)) }));
    await vi.waitFor(async () => expect(await queued('events')).toBe(0), WAIT);
    expect(receiver.received(p.path)).toHaveLength(1);
    expect((await eventWhere(p, (e) => e.id === event.id)).attempt_count).toBe(1);
  });

  it('sweeps an event the stream never queued to its queue once overdue, and the late dispatcher then sends nothing more', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const dispatcher = stack.pollers.byName['webhooks/dispatch-outbox-events']!;
    await dispatcher.stop();
    let txn: any;
    try {
      txn = await authorize(p, cardId, '9');
      const pending = await eventWhere(p, (e) => e.payload.card_transaction.id === txn.id);
      expect(pending.delivery_status).toBe('pending');
      // Not yet overdue: a sweep now leaves it to the stream.
      await services.sweeper.sweepUndeliveredEvents();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.received(p.path)).toEqual([]);
      // Past the grace period, the sweep queues it; delivered with the dispatcher still stopped.
      const report = await services.sweeper.sweepUndeliveredEvents(Date.now() + 3 * 60_000);
      expect(report.requeued).toBeGreaterThanOrEqual(1);
      const delivery = await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
      expect(webhookId(delivery)).toBe(pending.id);
      verifyWith([p.secret], delivery);
    } finally {
      dispatcher.start();
    }
    // The dispatcher now queues the commit's own message, of a generation the sweep superseded.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await vi.waitFor(async () => expect(await queued('events')).toBe(0), WAIT);
    expect(receiver.received(p.path).filter(ofTransaction(txn.id, 'Authorization'))).toHaveLength(1);
    expect((await eventWhere(p, (e) => e.payload.card_transaction.id === txn.id)).delivery_status).toBe('delivered');
  });

  it('never sweeps a delivered event', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, '1');
    await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
    await eventWhere(p, (e) => e.delivery_status === 'delivered');
    await services.sweeper.sweepUndeliveredEvents(Date.now() + 60 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await vi.waitFor(async () => expect(await queued('events')).toBe(0), WAIT);
    expect(receiver.received(p.path)).toHaveLength(1);
  });

  it("redrives the stream DLQ by queueing the undelivered events committed in its record's time window", async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const dispatcher = stack.pollers.byName['webhooks/dispatch-outbox-events']!;
    await dispatcher.stop();
    try {
      const txn = await authorize(p, cardId, '8');
      const event = await eventWhere(p, (e) => e.payload.card_transaction.id === txn.id);
      // What Lambda writes to a stream source's on-failure destination: where the batch was, not what it held.
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const onFailure = {
        requestContext: { requestId: 'r', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dispatch', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: at,
        DDBStreamBatchInfo: {
          shardId: 'shardId-00000001',
          startSequenceNumber: '100',
          endSequenceNumber: '100',
          approximateArrivalOfFirstRecord: at,
          approximateArrivalOfLastRecord: at,
          batchSize: 1,
          streamArn: stack.streamArn,
        },
      };
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.streamDeadLetterQueue.url, MessageBody: JSON.stringify(onFailure) }));
      const listing = await services.deadLetters.listDeadLetters('stream');
      expect(listing).toMatchObject({ queue: 'stream', count: 1, messages: [{ shard_id: 'shardId-00000001', start_sequence_number: '100', batch_size: 1, first_record_at: at }] });

      const report = await services.deadLetters.redriveDeadLetters('stream');
      expect(report).toMatchObject({ queue: 'stream', moved: 1, kept: 0 });
      expect(report.requeued).toBeGreaterThanOrEqual(1);
      const delivery = await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
      expect(webhookId(delivery)).toBe(event.id);
      expect((await services.deadLetters.listDeadLetters('stream')).count).toBe(0);
    } finally {
      dispatcher.start();
    }
  });
});

describe('events committed before delivery records (state on the event item)', () => {
  /**
   * Rewrites a committed event into the shape release 2 wrote: its delivery state, and while it is
   * undelivered its undelivered-index keys, on the event item itself; no delivery record.
   */
  async function asCommittedBeforeRecords(eventId: string): Promise<void> {
    const { db, tableName } = await import('../../shared/db/client.ts');
    const { DeleteCommand, GetCommand, PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const key = (SK: string) => ({ PK: `EVENT#${eventId}`, SK });
    const event = (await db().send(new GetCommand({ TableName: tableName(), Key: key('EVENT'), ConsistentRead: true }))).Item!;
    const record = (await db().send(new GetCommand({ TableName: tableName(), Key: key('DELIVERY'), ConsistentRead: true }))).Item!;
    const { PK: _pk, SK: _sk, entity: _entity, eventId: _id, businessId: _business, createdAt: _created, ...state } = record;
    const { deliveryRecord: _marked, generation: _handed, ...content } = event;
    await db().send(new PutCommand({ TableName: tableName(), Item: { ...content, ...state } }));
    await db().send(new DeleteCommand({ TableName: tableName(), Key: key('DELIVERY') }));
  }

  async function itemsOf(eventId: string): Promise<Record<string, any>[]> {
    const { db, tableName } = await import('../../shared/db/client.ts');
    const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    const result = await db().send(
      new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `EVENT#${eventId}` }, ConsistentRead: true }),
    );
    return result.Items ?? [];
  }

  /** After the move: one delivery record with the state, and an event item with none of it. */
  async function expectMoved(eventId: string) {
    const items = await itemsOf(eventId);
    const event = items.find((item) => item.SK === 'EVENT')!;
    expect(items.filter((item) => item.SK === 'DELIVERY')).toHaveLength(1);
    for (const name of ['deliveryStatus', 'attemptCount', 'attempts', 'claimToken', 'GSI3PK', 'GSI3SK']) expect(event).not.toHaveProperty(name);
    expect([event.deliveryRecord, Number(event.generation)]).toEqual([true, 0]);
    return items.find((item) => item.SK === 'DELIVERY')!;
  }

  it('lists and shows one as it was, sweeps it when overdue, and delivers it once, moving its state to a record of its own', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const dispatcher = stack.pollers.byName['webhooks/dispatch-outbox-events']!;
    await dispatcher.stop();
    let txn: any;
    let pending: any;
    try {
      txn = await authorize(p, cardId, '6');
      pending = await eventWhere(p, (e) => e.payload.card_transaction.id === txn.id);
      await asCommittedBeforeRecords(pending.id);
      expect((await p.call('GET', `/v1/events/${pending.id}`)).body).toEqual(pending);
      expect(await eventWhere(p, (e) => e.id === pending.id)).toEqual(pending);
      // The sweeper finds it in the undelivered index through the event item's own keys.
      const report = await services.sweeper.sweepUndeliveredEvents(Date.now() + 3 * 60_000);
      expect(report.requeued).toBeGreaterThanOrEqual(1);
      const delivery = await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
      expect(webhookId(delivery)).toBe(pending.id);
    } finally {
      dispatcher.start();
    }
    await eventWhere(p, (e) => e.id === pending.id && e.delivery_status === 'delivered');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await vi.waitFor(async () => expect(await queued('events')).toBe(0), WAIT);
    expect(receiver.received(p.path).filter(ofTransaction(txn.id, 'Authorization'))).toHaveLength(1);
    const record = await expectMoved(pending.id);
    expect([record.deliveryStatus, Number(record.attemptCount)]).toEqual(['delivered', 1]);
    expect(record).not.toHaveProperty('GSI3PK');
  });

  /** A partner's delivered authorization event, rewritten as release 2 stored it. */
  async function deliveredBeforeRecords(amount: string) {
    const p = await partner();
    const cardId = await fundedCard(p);
    const txn = await authorize(p, cardId, amount);
    await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
    const event = await eventWhere(p, (e) => e.payload.card_transaction.id === txn.id && e.delivery_status === 'delivered');
    await asCommittedBeforeRecords(event.id);
    return { p, txn, event };
  }

  it('redelivers a delivered one on request, its earlier attempts kept', async () => {
    const { p, txn, event } = await deliveredBeforeRecords('7');

    expect((await p.call('POST', `/v1/events/${event.id}/redeliver`)).status).toBe(202);
    await vi.waitFor(() => expect(receiver.received(p.path).filter(ofTransaction(txn.id, 'Authorization'))).toHaveLength(2), WAIT);
    const after = await eventWhere(p, (e) => e.id === event.id && e.attempt_count === 2);
    expect(after.delivery_status).toBe('delivered');
    expect(after.attempts[0]).toEqual(event.attempts[0]);
    await expectMoved(event.id);
  });

  it("delivers once across both write formats: release 2's events, and records, whichever format the writer has (a deploy's canary)", async () => {
    const { resetConfigForTests } = await import('../../shared/config.ts');
    const before = process.env.WRITE_FORMAT;
    const writing = (format: 'release2' | undefined) => {
      if (format === undefined) delete process.env.WRITE_FORMAT;
      else process.env.WRITE_FORMAT = format;
      resetConfigForTests();
    };
    const p = await partner();
    const cardId = await fundedCard(p);
    // A release-3 event, delivered; then a writer of release 2's format redelivers it: the
    // redelivery follows the event to its record instead of reviving the state on the event item.
    const recorded = await authorize(p, cardId, '3');
    await receiver.waitFor(p.path, ofTransaction(recorded.id, 'Authorization'));
    const withRecord = await eventWhere(p, (e) => e.payload.card_transaction.id === recorded.id && e.delivery_status === 'delivered');
    let inOldFormat: any;
    try {
      writing('release2');
      expect((await p.call('POST', `/v1/events/${withRecord.id}/redeliver`)).status).toBe(202);
      await vi.waitFor(() => expect(receiver.received(p.path).filter(ofTransaction(recorded.id, 'Authorization'))).toHaveLength(2), WAIT);
      await eventWhere(p, (e) => e.id === withRecord.id && e.attempt_count === 2 && e.delivery_status === 'delivered');
      const marked = (await itemsOf(withRecord.id)).find((item) => item.SK === 'EVENT')!;
      expect(marked).not.toHaveProperty('deliveryStatus');
      expect(marked).not.toHaveProperty('GSI3PK');

      // An event committed in release 2's format: one item, delivered through it.
      const txn = await authorize(p, cardId, '4');
      await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
      inOldFormat = await eventWhere(p, (e) => e.payload.card_transaction.id === txn.id && e.delivery_status === 'delivered');
      const items = await itemsOf(inOldFormat.id);
      expect(items.map((item) => item.SK)).toEqual(['EVENT']);
      expect(items[0]).toMatchObject({ deliveryStatus: 'delivered' });
    } finally {
      writing(before as 'release2' | undefined);
    }
    // Back on release 3's format: a redelivery of it moves its state to a record, and delivers once more.
    expect((await p.call('POST', `/v1/events/${inOldFormat.id}/redeliver`)).status).toBe(202);
    await eventWhere(p, (e) => e.id === inOldFormat.id && e.attempt_count === 2 && e.delivery_status === 'delivered');
    await expectMoved(inOldFormat.id);
    expect(receiver.received(p.path).filter((request) => webhookId(request) === inOldFormat.id)).toHaveLength(2);
  });

  it('moves the state once when redeliveries and moves race: one record, and every redelivery asked for is one generation', async () => {
    const { p, event } = await deliveredBeforeRecords('5');
    const { moveDeliveryOffEvent } = await import('../../shared/db/events-repository.ts');

    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => p.call('POST', `/v1/events/${event.id}/redeliver`)),
      ...Array.from({ length: 4 }, () => moveDeliveryOffEvent(event.id).then(() => ({ status: 0 }))),
    ]);
    expect(answers.slice(0, 4).map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    const record = await expectMoved(event.id);
    // The first generation, and one more per redelivery: none lost to the move, none counted twice.
    expect(Number(record.generation)).toBe(5);
    await eventWhere(p, (e) => e.id === event.id && e.delivery_status === 'delivered' && e.attempt_count >= 2);
  });
});

describe('webhook secret rotation', () => {
  it('signs with both the new and the old secret after a rotation, so receivers on either verify', async () => {
    const p = await partner();
    const cardId = await fundedCard(p);
    const rotated = await services.businesses.rotateWebhookSecret(p.businessId);
    expect(rotated.webhook_secret).toMatch(/^whsec_/);
    expect(rotated.webhook_secret).not.toBe(p.secret);
    expect(Date.parse(rotated.previous_secret_valid_until) - Date.now()).toBeGreaterThan(23.9 * 3600 * 1000);

    const txn = await authorize(p, cardId, '1');
    const delivery = await receiver.waitFor(p.path, ofTransaction(txn.id, 'Authorization'));
    expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    verifyWith([rotated.webhook_secret], delivery);
    verifyWith([p.secret], delivery);
  });
});

async function deadLettered(queue: string): Promise<number> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.queues[queue]!.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Messages still in a queue, visible or not. */
async function queued(queue: string): Promise<number> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.queues[queue]!.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}
