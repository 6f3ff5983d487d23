/**
 * `POST /v1/transfers` through its real wrapper, over aws-sdk-client-mock: the rules checked
 * before anything is written, the one transaction that moves the money, and what each
 * cancellation reason of that transaction means.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as createTransfer } from '../../../functions/transfers/create-transfer.ts';
import { handler as getTransfer } from '../../../functions/transfers/get-transfer.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';
import { OTHER_BUSINESS_ID, storedUserItem, validCreateBody } from '../users/support.ts';
import { listShardOf } from '../../../shared/db/keys.ts';

const ddb = mockClient(DynamoDBDocumentClient);

/** [sender check] [receiver check] [debit] [credit] [transfer] [sender entry] [receiver entry] [posting] [event] [its delivery record] */
const TRANSFER_ITEMS = 10;

let sender: Record<string, any>;
let receiver: Record<string, any>;

const senderParty = () => ({ p_user_id: sender.userId, first_name: 'Tai Man', last_name: 'Ng Chan', id_number: 'K98765432' });
const receiverParty = () => ({ p_user_id: receiver.userId, first_name: 'Ka Yan', last_name: 'Lau', id_number: 'R1234567' });
const transferBody = (overrides: Record<string, unknown> = {}) => ({
  sender_party: senderParty(),
  receiver_party: receiverParty(),
  currency: 'USD',
  amount: '25.5',
  ...overrides,
});

const transferEvent = (body: unknown, headers: Record<string, string> = {}) =>
  apiEvent({ method: 'POST', path: '/v1/transfers', resource: '/v1/transfers', body, headers });

/** Answers a Get of each user's key with that user; any other key reads as missing. */
function serveUsers(...users: Record<string, any>[]) {
  ddb.on(GetCommand).resolves({});
  for (const user of users) ddb.on(GetCommand, { Key: { PK: user.PK, SK: user.SK } }).resolves({ Item: user });
}

type Key = { PK: string; SK: string };
/** Which item fails, by its key: the repository must learn it from its tag, wherever it sits. */
type Failing = 'sender' | 'receiver' | 'balance' | 'idempotency';

function keyOf(item: Record<string, any>): Key {
  const body = Object.values(item)[0] as { Key?: Key; Item?: Key };
  return (body.Key ?? body.Item)!;
}

function isFailing(item: Record<string, any>, failing: Failing): boolean {
  const { PK, SK } = keyOf(item);
  switch (failing) {
    case 'sender':
      return PK === `USER#${sender.userId}` && SK === 'PROFILE';
    case 'receiver':
      return PK === `USER#${receiver.userId}` && SK === 'PROFILE';
    case 'balance':
      return PK === `USER#${sender.userId}` && SK.startsWith('BALANCE#');
    case 'idempotency':
      return PK.startsWith('IDEMPOTENCY#');
  }
}

/** Cancels every transaction, failing the condition of the item `failing` names (one reason per item). */
function failConditionOf(failing: Failing) {
  ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: Record<string, any>[] }) => {
    throw new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: input.TransactItems.map((item) => ({ Code: isFailing(item, failing) ? 'ConditionalCheckFailed' : 'None' })),
    });
  });
}

function transactItems(): Record<string, any>[] {
  return ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems as Record<string, any>[];
}

beforeEach(async () => {
  receiver = await storedUserItem(ddb, {
    ekyc: { ...validCreateBody().ekyc, first_name: 'Ka Yan', last_name: 'Lau', id_number: 'R1234567', email: 'kayan@example.com' },
  });
  sender = await storedUserItem(ddb);
  ddb.reset();
  serveUsers(sender, receiver);
  ddb.on(TransactWriteCommand).resolves({});
});

describe('POST /v1/transfers', () => {
  it('debits, credits, records and posts in ONE transaction and answers Completed', async () => {
    const result = await createTransfer(transferEvent(transferBody({ reference: 'dinner' })), lambdaContext);

    expect(result.statusCode).toBe(201);
    const transfer = parseBody(result);
    expect(transfer).toMatchObject({
      p_business_id: TEST_BUSINESS_ID,
      status: 'Completed',
      sender_party: { p_user_id: sender.userId },
      receiver_party: { p_user_id: receiver.userId },
      currency: 'USD',
      amount: '25.5',
      reference: 'dinner',
    });
    const items = transactItems();
    expect(items).toHaveLength(TRANSFER_ITEMS);
    const [senderCheck, receiverCheck, debit, credit, record, senderEntry, receiverEntry, postingPut, event, delivery] = items;
    for (const [check, user] of [[senderCheck, sender], [receiverCheck, receiver]] as const) {
      expect(check!.ConditionCheck).toMatchObject({
        Key: { PK: user.PK, SK: 'PROFILE' },
        ConditionExpression: '#status = :active AND businessId = :businessId',
        ExpressionAttributeValues: { ':active': 'Active', ':businessId': TEST_BUSINESS_ID },
      });
    }
    expect(debit!.Update).toMatchObject({
      Key: { PK: `USER#${sender.userId}`, SK: 'BALANCE#USD' },
      ConditionExpression: 'available >= :minAvailable',
      ExpressionAttributeValues: { ':available': -2550n, ':minAvailable': 2550n },
    });
    expect(credit!.Update).toMatchObject({ Key: { PK: `USER#${receiver.userId}`, SK: 'BALANCE#USD' }, ExpressionAttributeValues: { ':available': 2550n } });
    expect(record!.Put.Item).toMatchObject({ PK: `TRANSFER#${transfer.id}`, GSI1PK: listShardOf(`BUSINESS#${TEST_BUSINESS_ID}#TRANSFERS`, transfer.id), amount: '2550' });
    expect(senderEntry!.Put.Item).toMatchObject({ PK: `USER#${sender.userId}`, SK: `TRANSFER#${transfer.id}`, role: 'sender' });
    expect(receiverEntry!.Put.Item).toMatchObject({ PK: `USER#${receiver.userId}`, SK: `TRANSFER#${transfer.id}`, role: 'receiver' });
    expect(postingPut!.Put.Item).toMatchObject({
      kind: 'transfer',
      reference: transfer.id,
      legs: [
        { account: `user:${sender.userId}:USD:available`, currency: 'USD', amount: '-2550' },
        { account: `user:${receiver.userId}:USD:available`, currency: 'USD', amount: '2550' },
      ],
    });
    expect(JSON.parse(event!.Put.Item.payload)).toEqual({ action: 'Transfer', type: 'transfer.completed', transfer });
    expect(delivery!.Put.Item).toMatchObject({ PK: event!.Put.Item.PK, SK: 'DELIVERY', entity: 'webhook_delivery', deliveryStatus: 'pending', generation: 1 });
  });

  it('matches stated identities after normalizing case and surrounding or repeated spaces', async () => {
    const stated = { ...senderParty(), first_name: '  tai   MAN ', last_name: 'NG  chan', id_number: ' k98765432 ' };
    const result = await createTransfer(transferEvent(transferBody({ sender_party: stated })), lambdaContext);
    expect(result.statusCode).toBe(201);
  });

  it.each([
    ['the sender\'s first name', { sender_party: { first_name: 'Tai Ming' } }, 'sender'],
    ['the sender\'s id number', { sender_party: { id_number: 'K98765433' } }, 'sender'],
    ['the receiver\'s last name', { receiver_party: { last_name: 'Lao' } }, 'receiver'],
  ])('answers 422 ekyc_mismatch when %s differs, writing nothing', async (_name, change, who) => {
    const body = transferBody();
    const result = await createTransfer(
      transferEvent({
        ...body,
        sender_party: { ...body.sender_party, ...(change as any).sender_party },
        receiver_party: { ...body.receiver_party, ...(change as any).receiver_party },
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(422);
    expect(parseBody(result).error.code).toBe('ekyc_mismatch');
    expect(parseBody(result).error.party).toBe(who);
    expect(result.body).not.toContain('K9876543');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it.each([
    ['sender' as const, 409, 'user_not_active', { party: 'sender' }],
    ['receiver' as const, 409, 'user_not_active', { party: 'receiver' }],
    ['balance' as const, 422, 'insufficient_balance', {}],
  ])('maps a failed condition on the %s item to %i %s', async (failing, status, code, detail) => {
    failConditionOf(failing);
    const result = await createTransfer(transferEvent(transferBody()), lambdaContext);
    expect(result.statusCode).toBe(status);
    expect(parseBody(result).error).toMatchObject({ code, ...detail });
  });

  it('maps a failed idempotency completion to 409 idempotency_request_in_progress', async () => {
    ddb.on(PutCommand).resolves({});
    failConditionOf('idempotency');
    const result = await createTransfer(transferEvent(transferBody(), { 'Idempotency-Key': 'transfer-1' }), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('idempotency_request_in_progress');
  });

  it('keeps 422 insufficient_balance as the key\'s answer: the same key and body, once the sender is funded, replays it and moves nothing', async () => {
    ddb.on(PutCommand).resolves({});
    failConditionOf('balance');
    const request = () => transferEvent(transferBody(), { 'Idempotency-Key': 'transfer-refused' });
    const refused = await createTransfer(request(), lambdaContext);
    expect(refused.statusCode).toBe(422);
    expect(parseBody(refused).error.code).toBe('insufficient_balance');
    // The transaction carried a completion item, but it was cancelled: the refusal is recorded on its own.
    const record = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
    expect(record).toMatchObject({ state: 'completed', statusCode: 422 });

    // The sender is funded meanwhile: the transaction would now commit, but the key is answered.
    ddb.reset();
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { PK: record.PK, SK: record.SK } }).resolves({ Item: record });
    ddb.on(TransactWriteCommand).resolves({});
    const replay = await createTransfer(request(), lambdaContext);
    expect(replay.statusCode).toBe(422);
    expect(replay.body).toBe(refused.body);
    expect(replay.headers!['idempotent-replayed']).toBe('true');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('retries a transaction conflict and transfers once', async () => {
    ddb.on(TransactWriteCommand)
      .rejectsOnce(new TransactionCanceledException({ message: 'conflict', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }] }))
      .resolves({});
    const result = await createTransfer(transferEvent(transferBody()), lambdaContext);
    expect(result.statusCode).toBe(201);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('answers 409 user_not_active for a party read as suspended, before any write', async () => {
    serveUsers(sender, { ...receiver, status: 'Suspended' });
    const result = await createTransfer(transferEvent(transferBody()), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error).toMatchObject({ code: 'user_not_active', party: 'receiver' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 404 user_not_found for a party of another business', async () => {
    serveUsers(sender, { ...receiver, businessId: OTHER_BUSINESS_ID });
    const result = await createTransfer(transferEvent(transferBody()), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error).toMatchObject({ code: 'user_not_found', party: 'receiver' });
  });

  it('answers 422 same_user without reading anything', async () => {
    const result = await createTransfer(transferEvent(transferBody({ receiver_party: senderParty() })), lambdaContext);
    expect(result.statusCode).toBe(422);
    expect(parseBody(result).error.code).toBe('same_user');
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it.each([
    [{ amount: '1.005' }, 'amount'],
    [{ amount: '10.5', currency: 'JPY' }, 'amount'],
    [{ amount: 10 }, 'amount'],
    [{ currency: 'XAU' }, 'currency'],
    [{ reference: 'x'.repeat(141) }, 'reference'],
    [{ sender_party: { p_user_id: 'u' } }, 'sender_party.first_name'],
  ])('answers 400 validation_error for %j', async (change, field) => {
    const result = await createTransfer(transferEvent(transferBody(change)), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.fields.map((f: { path: string }) => f.path)).toContain(field);
  });

  it('transfers crypto balances in their own precision', async () => {
    const result = await createTransfer(transferEvent(transferBody({ currency: 'ETH', amount: '0.000000000000000001' })), lambdaContext);
    expect(result.statusCode).toBe(201);
    expect(transactItems()[2]!.Update.ExpressionAttributeValues[':minAvailable']).toBe(1n);
  });
});

describe('GET /v1/transfers/{id}', () => {
  it('answers 404 transfer_not_found for another business\'s transfer', async () => {
    const id = '0190a3c4-0000-7000-8000-0000000000c1';
    ddb.on(GetCommand).resolves({
      Item: { PK: `TRANSFER#${id}`, SK: 'TRANSFER', transferId: id, businessId: OTHER_BUSINESS_ID, currency: 'USD', amount: '1', senderUserId: 'a', receiverUserId: 'b', createdAt: 't' },
    });
    const result = await getTransfer(apiEvent({ path: `/v1/transfers/${id}`, resource: '/v1/transfers/{id}', pathParameters: { id } }), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error.code).toBe('transfer_not_found');
  });
});
