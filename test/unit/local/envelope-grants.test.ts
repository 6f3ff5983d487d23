import { describe, expect, it, onTestFinished } from 'vitest';
import { HandlerLoader } from '../../../infra/local/handler-loader.ts';
import { openSecret, sealSecret } from '../../../shared/crypto/envelope.ts';
import { lambdaContext } from '../../support/events.ts';

/** The local stack runs each function inside its row's envelope grant, as KMS enforces in AWS. */
describe('key grants on the local stack', () => {
  const loader = new HandlerLoader('/nonexistent');
  const context = { business_id: 'b-1', card_id: 'c-1', purpose: 'card' };

  it('lets a function seal and open the purposes its row lists', async () => {
    const handler = await loader.load(async () => openSecret(await sealSecret({ cvv: '123' }, context), context), {
      table: 'read',
      encrypt: ['card'],
      decrypt: ['card'],
    });
    await expect(handler({}, lambdaContext)).resolves.toEqual({ cvv: '123' });
  });

  it('refuses a purpose outside the row, as KMS would', async () => {
    const sealed = await sealSecret({ cvv: '123' }, context);
    const readsEkyc = await loader.load(() => openSecret(sealed, context), { table: 'read', decrypt: ['ekyc'] });
    await expect(readsEkyc({}, lambdaContext)).rejects.toThrow(/AccessDenied.*decrypt.*"card"/);
    const sealsNothing = await loader.load(() => sealSecret('x', context), { table: 'read' });
    await expect(sealsNothing({}, lambdaContext)).rejects.toThrow(/AccessDenied.*encrypt/);
  });
});

describe('keyed-hash grants on the local stack', () => {
  const loader = new HandlerLoader('/nonexistent');

  it('lets a function hash with the MAC purposes its row lists, and no other, as KMS would', async () => {
    const { keyedHash } = await import('../../../shared/crypto/keyed-hash.ts');
    const indexesCards = await loader.load(() => keyedHash('pan', '3567720000008213'), { table: 'read', macs: ['pan'] });
    await expect(indexesCards({}, lambdaContext)).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
    const pagesLists = await loader.load(() => keyedHash('pan', '3567720000008213'), { table: 'read', macs: ['cursor'] });
    await expect(pagesLists({}, lambdaContext)).rejects.toThrow(/AccessDenied.*mac.*"pan"/);
    const none = await loader.load(() => keyedHash('otp', 'x'), { table: 'read' });
    await expect(none({}, lambdaContext)).rejects.toThrow(/AccessDenied/);
  });

  it('refuses a remembered card-number token to a row without the key, as a cold container would be refused', async () => {
    // The local stack's functions share one process, and so the token memo: a row that may not
    // tokenize must not get a token another row left there (a reversal echoing the number did).
    const { cardNumberToken } = await import('../../../shared/crypto/card-number-token.ts');
    const indexesCards = await loader.load(() => cardNumberToken('3567720000004321'), { table: 'read', macs: ['pan'] });
    await expect(indexesCards({}, lambdaContext)).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
    const reverses = await loader.load(() => cardNumberToken('3567720000004321'), { table: 'readWrite', macs: ['idempotency'] });
    await expect(reverses({}, lambdaContext)).rejects.toThrow(/AccessDenied.*mac.*"pan"/);
  });

  it('keys each purpose separately: the same input hashes differently under each', async () => {
    const { keyedHash, MAC_PURPOSES } = await import('../../../shared/crypto/keyed-hash.ts');
    const hashes = await Promise.all(MAC_PURPOSES.map((purpose) => keyedHash(purpose, '3567720000008213')));
    expect(new Set(hashes).size).toBe(MAC_PURPOSES.length);
  });
});

describe('operator-setting and queue grants on the local stack', () => {
  const loader = new HandlerLoader('/nonexistent');

  it('lets a function read only the operator settings its row lists, as its IAM policy and environment would', async () => {
    const { depositFeeBps, fxSettings } = await import('../../../shared/services/operator-settings.ts');
    const converts = await loader.load(() => fxSettings(), { table: 'readWrite', settings: ['fx'] });
    await expect(converts({}, lambdaContext)).resolves.toMatchObject({ feeBps: expect.any(BigInt) });
    const credits = await loader.load(() => fxSettings(), { table: 'readWrite', settings: ['deposit-fee'] });
    await expect(credits({}, lambdaContext)).rejects.toThrow('AccessDenied: this function may not read the operator setting "fx"');
    const plain = await loader.load(() => depositFeeBps(), { table: 'readWrite' });
    await expect(plain({}, lambdaContext)).rejects.toThrow('AccessDenied: this function may not read the operator setting "deposit-fee"');
  });

  it('gives a queue URL only to a function whose row sends to that queue', async () => {
    const { webhookQueueUrl } = await import('../../../shared/queues/sqs.ts');
    const { resetConfigForTests } = await import('../../../shared/config.ts');
    process.env.EVENTS_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/events';
    resetConfigForTests();
    onTestFinished(() => {
      delete process.env.EVENTS_QUEUE_URL;
      resetConfigForTests();
    });
    const dispatches = await loader.load(async () => webhookQueueUrl('events'), { table: 'read', sendTo: ['otp', 'events'] });
    await expect(dispatches({}, lambdaContext)).resolves.toBe('https://sqs.us-east-1.amazonaws.com/123456789012/events');
    const sendsOtp = await loader.load(async () => webhookQueueUrl('events'), { table: 'read', sendTo: ['otp'] });
    await expect(sendsOtp({}, lambdaContext)).rejects.toThrow('AccessDenied: this function may not send to the queue "events"');
  });
});

describe('what a warm container remembers is refused to a row without the grant', () => {
  const loader = new HandlerLoader('/nonexistent');

  it('keeps a value per slot, forgets a failed use, and hands either out only under the grant', async () => {
    const { GrantedMemo } = await import('../../../shared/crypto/granted-memo.ts');
    const memo = new GrantedMemo<string>('decrypt', 'webhook-secret', 2);
    let uses = 0;
    const opens = await loader.load((slot: string) => memo.get(slot, async () => `secret-${++uses}`), { table: 'read', decrypt: ['webhook-secret'] });
    await expect(opens('a', lambdaContext)).resolves.toBe('secret-1');
    await expect(opens('a', lambdaContext)).resolves.toBe('secret-1');
    const delivers = await loader.load((slot: string) => memo.get(slot, async () => 'never'), { table: 'read', decrypt: ['otp'] });
    await expect(delivers('a', lambdaContext)).rejects.toThrow('AccessDenied: this function may not decrypt with purpose "webhook-secret"');
    const failing = await loader.load(() => memo.get('b', async () => Promise.reject(new Error('KMS throttled'))), { table: 'read', decrypt: ['webhook-secret'] });
    await expect(failing({}, lambdaContext)).rejects.toThrow('KMS throttled');
    await expect(opens('b', lambdaContext)).resolves.toBe('secret-2');
  });

  it('refuses a cached decision endpoint, whose secrets were opened for another row, to a row that may not open them', async () => {
    const { rememberEndpointOf, decisionEndpointOf } = await import('../../../shared/services/authorization-endpoint.ts');
    const businessId = 'biz-endpoint-cache';
    const secretSealed = await sealSecret('whsec_decide', { business_id: businessId, purpose: 'decision-secret' });
    const business = { businessId, decisionEndpoint: { url: 'https://decide.example', timeoutMs: 500, standIn: 'decline' as const, secretSealed, updatedAt: '2026-01-01T00:00:00.000000Z' } };
    const authorizes = await loader.load(() => rememberEndpointOf(businessId, business as never), { table: 'readWrite', decrypt: ['decision-secret'] });
    await expect(authorizes({}, lambdaContext)).resolves.toMatchObject({ secrets: ['whsec_decide'] });
    const posts = await loader.load(() => decisionEndpointOf(businessId), { table: 'readWrite' });
    await expect(posts({}, lambdaContext)).rejects.toThrow('AccessDenied: this function may not decrypt with purpose "decision-secret"');
    const increments = await loader.load(() => decisionEndpointOf(businessId), { table: 'readWrite', decrypt: ['decision-secret'] });
    await expect(increments({}, lambdaContext)).resolves.toMatchObject({ secrets: ['whsec_decide'] });
  });
});
