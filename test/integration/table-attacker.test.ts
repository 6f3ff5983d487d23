/**
 * The attacker's view of card secrecy (PCI DSS 3.5, invariant 8): someone holds a full copy of the
 * table (a backup, an export), every record of its stream, and one function's role. Can they get a
 * card number, CVV, expiry, a one-time code or an eKYC id number?
 *
 * For every row of the route table, every authorizer and every consumer, the attack runs inside
 * that row's key grant exactly as the local stack enforces it (the same grant IAM gives it in AWS):
 * it opens every envelope it can, unseals every stored idempotency answer it can, and searches
 * everything for the secrets this test planted. A secret may come out only through a grant meant
 * for it (card bundle: the audited reveal routes; OTP: its delivery; eKYC: the rows that show it).
 * A card reveal link's token is recoverable by no role at all: it is stored only as a keyed hash.
 * Offline, with no key at all, nothing comes out: no card number in any form, no unkeyed digest of
 * one, and the release-1 attack (brute-forcing the idempotency fingerprint of a network request
 * over the ~10^5 numbers a masked card number leaves) finds nothing.
 *
 * What no table scan can stop: a row granted a MAC key can ask KMS to hash guesses (online, one
 * `GenerateMac` call per guess, throttled and logged by CloudTrail). The last spec pins which rows
 * hold each such oracle, and the README states the residual risk.
 */
import { createDecipheriv, createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizers, consumers, routes, type Access } from '../../shared/routes.ts';
import { api, createBusiness, localStack, useStackEnvironment, type ApiClient } from '../support/stack.ts';
import { cardNumberShapedRuns, exfiltrate, luhnValid, withoutRandomTokens } from '../support/table-exfiltration.ts';
import { startWebhookReceiver, verifyWith, type WebhookReceiver } from '../support/webhook-receiver.ts';

interface PlantedCard {
  id: string;
  card_num: string;
  card_number: string;
  cvv: string;
  expiry_month: string;
  expiry_year: string;
}

interface Planted {
  cards: PlantedCard[];
  otpCodes: string[];
  idNumbers: string[];
  /** Bodies of network requests sent with an Idempotency-Key (they carry a card number). */
  networkRequests: { path: string; body: Record<string, unknown> }[];
  /** Tokens of card reveal links: one loaded (consumed), one still live. */
  revealTokens: string[];
}

interface Attacker {
  name: string;
  access: Access;
}

const attackers: Attacker[] = [
  ...routes.map((row) => ({ name: `${row.method} ${row.path}`, access: row.access })),
  ...Object.entries(authorizers).map(([kind, row]) => ({ name: `${kind} authorizer`, access: row.access })),
  ...consumers.map((row) => ({ name: row.handler, access: row.access })),
];

const SEAL_PURPOSES = ['card', 'card-shipping', 'ekyc', 'webhook-secret', 'otp'];
const DIGESTS = ['md5', 'sha1', 'sha256', 'sha512'];
const ENCODINGS = ['hex', 'base64', 'base64url'] as const;

let receiver: WebhookReceiver;
let partner: ApiClient;
let network: ApiClient;
let business: { business_id: string; api_key: string; webhook_secret: string };
const planted: Planted = { cards: [], otpCodes: [], idNumbers: [], networkRequests: [], revealTokens: [] };
/** Every string of every item of the table, and of every stream record's image. */
let exfiltrated: string[] = [];
let rawItems: Record<string, unknown>[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  business = await createBusiness(`attacker-target-${randomUUID()}`);
  useStackEnvironment();
  const { setWebhookUrl } = await import('../../shared/services/businesses.ts');
  await setWebhookUrl(business.business_id, receiver.url('/hooks'));
  partner = api(business.api_key);
  network = api(localStack().networkKey);

  const idNumber = `E${Math.floor(10_000_000 + Math.random() * 89_999_999)}`;
  planted.idNumbers.push(idNumber);
  const user = await partner.post('/v1/users', { ekyc: ekyc(idNumber) }, { 'Idempotency-Key': randomUUID() });
  expect(user.status).toBe(201);
  await partner.post('/v1/simulate/topups', { currency: 'USD', amount: '1000' });

  for (const body of [{ mode: 'B2B' }, { mode: 'B2C', p_user_id: user.body.p_user_id }]) {
    const card = await partner.post('/v1/cards', body, { 'Idempotency-Key': randomUUID() });
    expect(card.status).toBe(201);
    const full = await partner.get(`/v1/cards/${card.body.id}/full`);
    expect(full.status).toBe(200);
    planted.cards.push({ ...full.body, card_num: card.body.card_num });
  }
  const [b2b] = planted.cards as [PlantedCard];

  const authorization = {
    card_number: b2b.card_number,
    network_authorization_id: `net-${randomUUID()}`,
    amount: '12.34',
    currency: 'USD',
    merchant_name: 'Harbour Cafe',
    merchant_id: 'mid-1',
    merchant_country: 'HK',
    merchant_city: 'Hong Kong',
    mcc: '5812',
  };
  const approved = await network.post('/network/authorizations', authorization, { 'Idempotency-Key': randomUUID() });
  expect(approved.status).toBe(201);
  expect(approved.body.status).toBe('Authorized');
  planted.networkRequests.push({ path: '/network/authorizations', body: authorization });

  const { network_authorization_id: _, ...challengeBody } = authorization;
  const challenge = await network.post('/network/3ds/challenges', challengeBody, { 'Idempotency-Key': randomUUID() });
  expect(challenge.status).toBe(201);
  planted.networkRequests.push({ path: '/network/3ds/challenges', body: challengeBody });
  const delivery = await receiver.waitFor('/hooks', (request) => JSON.parse(request.body).verification_id === challenge.body.verification_id);
  planted.otpCodes.push(verifyWith([business.webhook_secret], delivery).otp_code);
  const verified = await network.post(`/network/3ds/challenges/${challenge.body.verification_id}/verify`, { otp_code: planted.otpCodes[0] });
  expect(verified.body.status).toBe('Verified');

  // Reveal links, asked for with an Idempotency-Key as a careless partner would: one loaded, one live.
  for (const load of [true, false]) {
    const session = await partner.post(`/v1/cards/${b2b.id}/reveal-sessions`, { origin: 'https://app.example.com' }, { 'Idempotency-Key': randomUUID() });
    expect(session.status).toBe(201);
    const token = new URL(session.body.url).searchParams.get('token')!;
    planted.revealTokens.push(token);
    if (load) expect((await fetch(session.body.url)).status).toBe(200);
  }

  const copy = await exfiltrate(process.env.TABLE_NAME!);
  expect(copy.streamImages.length).toBeGreaterThan(copy.items.length / 2);
  rawItems = copy.items;
  exfiltrated = copy.strings;
});

afterAll(async () => {
  await receiver?.stop();
});

describe('an attacker with the table, its stream and one function role', () => {
  it('plants the secrets where an attacker would look: cards, a network authorization and 3DS challenge by number, an eKYC', () => {
    const everything = exfiltrated.join('\n');
    for (const card of planted.cards) expect(everything).toContain(card.card_num);
    expect(rawItems.filter((item) => String(item.PK).startsWith('IDEMPOTENCY#network:')).length).toBeGreaterThanOrEqual(2);
    expect(rawItems.some((item) => String(item.PK).startsWith('PAN#'))).toBe(true);
    expect(planted.otpCodes[0]).toMatch(/^\d{6}$/);
  });

  it.each(attackers)('recovers with $name only the secrets its grant is meant for', async ({ access }) => {
    const { withKeyGrant } = await import('../../shared/crypto/local-key-policy.ts');
    const grant = { encrypt: access.encrypt ?? [], decrypt: access.decrypt ?? [], mac: access.macs ?? [] };
    const opened = await withKeyGrant(grant, () => openEverything(exfiltrated, rawItems));
    const loot = [...exfiltrated, ...opened].join('\n');
    const may = (purpose: string) => (access.decrypt ?? []).includes(purpose as never);

    for (const card of planted.cards) {
      expect(loot.includes(card.card_number), 'card number').toBe(may('card'));
      expect(loot.includes(`"cvv":"${card.cvv}"`), 'CVV').toBe(may('card'));
      expect(loot.includes(`"expiry_year":"${card.expiry_year}"`) || loot.includes(`"expiryYear":"${card.expiry_year}"`), 'expiry').toBe(may('card'));
    }
    for (const code of planted.otpCodes) expect(opened.some((text) => text.includes(`"${code}"`)), 'OTP').toBe(may('otp'));
    for (const idNumber of planted.idNumbers) expect(loot.includes(idNumber), 'eKYC id number').toBe(may('ekyc'));
    for (const token of planted.revealTokens) {
      expect(loot.includes(token.slice(4)), 'reveal link token').toBe(false);
      expect(loot.includes(token.slice(4, 24)), 'part of a reveal link token').toBe(false);
    }
  });

  it('leaves the card bundle to the audited reveal routes alone', () => {
    const openers = attackers.filter(({ access }) => access.decrypt?.includes('card')).map(({ name }) => name);
    expect(openers).toEqual(['GET /v1/cards/{id}/full', 'GET /v1/card-reveal']);
  });

  it('finds each reveal link only as its keyed hash, with the origin and no card data', () => {
    const sessions = rawItems.filter((item) => String(item.PK).startsWith('REVEAL#'));
    expect(sessions.length).toBeGreaterThanOrEqual(planted.revealTokens.length);
    for (const session of sessions) {
      expect(Object.keys(session).sort()).toEqual(
        expect.arrayContaining(['PK', 'SK', 'businessId', 'cardId', 'createdAt', 'expiresAt', 'keyId', 'origin', 'revealUntil']),
      );
      expect(JSON.stringify(session)).not.toMatch(/rvl_|\d{13,19}/);
    }
    // Its 201 was never kept for the Idempotency-Key it came with.
    const answers = rawItems.filter((item) => String(item.PK).startsWith('IDEMPOTENCY#')).map((item) => JSON.stringify(item));
    for (const token of planted.revealTokens) expect(answers.join('\n')).not.toContain(token.slice(4));
  });
});

describe('an attacker with the table and its stream, and no key at all', () => {
  it('finds no card number, nor any 13-19 digit Luhn-valid run, in any attribute', () => {
    const everything = exfiltrated.join('\n');
    const masked = withoutRandomTokens(everything);
    for (const card of planted.cards) {
      expect(everything).not.toContain(card.card_number);
      expect(masked).not.toContain(card.card_number.slice(6, 12));
    }
    expect(cardNumberShapedRuns(exfiltrated)).toEqual([]);
  });

  it('finds no unkeyed digest of a card number, an OTP, an id number, or a network request body', () => {
    const everything = exfiltrated.join('\n');
    const secrets = [
      ...planted.cards.flatMap((card) => [card.card_number, card.cvv, `${card.expiry_month}${card.expiry_year}`]),
      ...planted.otpCodes,
      ...planted.idNumbers,
      ...planted.networkRequests.map(({ path, body }) => `POST ${path}\n${canonicalJson(body)}`),
      // An unkeyed hash of a reveal token would let anyone holding a link find (and so target) its session.
      ...planted.revealTokens,
    ];
    for (const secret of secrets) {
      for (const algorithm of DIGESTS) {
        for (const encoding of ENCODINGS) expect(everything).not.toContain(createHash(algorithm).update(secret).digest(encoding));
      }
    }
  });

  it("cannot brute-force a network request's idempotency fingerprint over the numbers its masked card leaves", () => {
    const fingerprints = new Set(rawItems.filter((item) => String(item.PK).startsWith('IDEMPOTENCY#')).map((item) => String(item.requestHash)));
    expect(fingerprints.size).toBeGreaterThan(0);
    const [{ path, body }] = planted.networkRequests as [Planted['networkRequests'][number]];
    const card = planted.cards.find((c) => c.card_number === body.card_number)!;
    let candidates = 0;
    const found: string[] = [];
    // first 6 + 6 unknown digits + last 4: 10^6 numbers, a tenth of them Luhn-valid.
    for (let middle = 0; middle < 1_000_000; middle++) {
      const candidate = `${card.card_num.slice(0, 6)}${String(middle).padStart(6, '0')}${card.card_num.slice(-4)}`;
      if (!luhnValid(candidate)) continue;
      candidates++;
      const text = `POST ${path}\n${canonicalJson({ ...body, card_number: candidate })}`;
      for (const algorithm of ['sha256', 'sha1']) {
        for (const encoding of ENCODINGS) if (fingerprints.has(createHash(algorithm).update(text).digest(encoding))) found.push(candidate);
      }
    }
    expect(candidates).toBe(100_000);
    expect(found).toEqual([]);
  });
});

describe('online guessing through KMS (outside what a table scan can stop)', () => {
  it('gives each low-entropy secret\'s MAC oracle only to the rows whose job needs it', () => {
    const holders = (purpose: string) => attackers.filter(({ access }) => access.macs?.includes(purpose as never)).map(({ name }) => name).sort();
    expect(holders('pan')).toEqual(['POST /network/3ds/challenges', 'POST /network/authorizations', 'POST /network/refunds', 'POST /network/settlements', 'POST /v1/cards']);
    expect(holders('otp')).toEqual([
      'POST /network/3ds/challenges',
      'POST /network/3ds/challenges/{verification_id}/verify',
      'POST /v1/simulate/3ds',
      'POST /v1/simulate/3ds/{verification_id}/verify',
    ]);
    expect(holders('ekyc')).toEqual(['POST /v1/transfers', 'POST /v1/users']);
  });
});

/** Everything this grant opens: envelope plaintexts (any purpose it is allowed) and stored idempotent answers. */
async function openEverything(strings: string[], items: Record<string, unknown>[]): Promise<string[]> {
  const { openSecret } = await import('../../shared/crypto/envelope.ts');
  const { macBytes } = await import('../../shared/crypto/keyed-hash.ts');
  const opened: string[] = [];
  for (const value of new Set(strings)) {
    if (!looksLikeEnvelope(value)) continue;
    for (const purpose of SEAL_PURPOSES) {
      try {
        opened.push(JSON.stringify(await openSecret(value, { purpose })));
      } catch {
        // not this purpose, or not granted
      }
    }
  }
  for (const item of items) {
    const pk = String(item.PK);
    if (!pk.startsWith('IDEMPOTENCY#') || typeof item.responseBody !== 'string') continue;
    const [, owner, ...rest] = pk.split('#');
    const key = rest.join('#');
    try {
      const sealingKey = await macBytes('idempotency', `response\0${owner}\0${key}`);
      const bytes = Buffer.from(item.responseBody, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', sealingKey, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${owner}\n${key}`, 'utf8'));
      decipher.setAuthTag(bytes.subarray(12, 28));
      opened.push(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8'));
    } catch {
      // no idempotency key grant
    }
  }
  return opened;
}

/** An AWS Encryption SDK message (format version 1 or 2), base64. */
function looksLikeEnvelope(value: string): boolean {
  if (value.length < 100 || !/^[A-Za-z0-9+/]+=*$/.test(value)) return false;
  const first = Buffer.from(value.slice(0, 4), 'base64')[0];
  return first === 0x01 || first === 0x02;
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function ekyc(idNumber: string) {
  return {
    first_name: 'Wing Sze',
    last_name: 'Ho',
    date_of_birth: '1988-02-29',
    nationality: 'HK',
    id_type: 'passport',
    id_number: idNumber,
    email: `wingsze.${randomUUID()}@example.com`,
    phone: '+85291112222',
    address: { line1: '8 Finance Street', city: 'Hong Kong', country: 'HK' },
  };
}
