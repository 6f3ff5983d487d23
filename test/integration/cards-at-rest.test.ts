/**
 * PCI DSS req. 3: card numbers, CVVs and expiry dates are never stored in the clear. This reads
 * every item of the local stack's table after issuing and using cards, and looks for each card's
 * values in every attribute.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createBusiness, localStack, scanAllItems } from '../support/stack.ts';
import { stringsIn, withoutRandomTokens } from '../support/table-exfiltration.ts';

type Client = ReturnType<typeof api>;

interface Revealed {
  id: string;
  card_number: string;
  expiry_month: string;
  expiry_year: string;
  cvv: string;
}


/** A string attribute of an item, unmarshalled or raw (`{ S: '...' }`). */
function attribute(item: Record<string, unknown>, name: string): string | undefined {
  const value = item[name];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { S?: unknown }).S === 'string') return (value as { S: string }).S;
  return undefined;
}

describe('card data at rest', () => {
  let client: Client;
  const revealed: Revealed[] = [];
  const shippingLine = `${randomUUID().slice(0, 8)} Harbour Road`;

  beforeAll(async () => {
    localStack();
    client = api((await createBusiness(`cards-at-rest-${randomUUID()}`)).api_key);
    const user = await client.post('/v1/users', {
      ekyc: {
        first_name: 'Ka Yan',
        last_name: 'Lee',
        date_of_birth: '1992-07-01',
        nationality: 'HK',
        id_type: 'passport',
        id_number: `H${Math.floor(10_000_000 + Math.random() * 89_999_999)}`,
        email: `kayan.${randomUUID()}@example.com`,
        phone: '+85298765432',
        address: { line1: '3 Des Voeux Road', city: 'Hong Kong', country: 'HK' },
      },
    });
    const bodies = [
      { mode: 'B2B' },
      { mode: 'B2B', currency: 'JPY', limits: { daily: '30000' } },
      { mode: 'B2C', p_user_id: user.body.p_user_id, form: 'physical', shipping: { line1: shippingLine, city: 'Hong Kong', country: 'HK' } },
    ];
    for (const body of bodies) {
      const card = await client.post('/v1/cards', body, { 'Idempotency-Key': randomUUID() });
      expect(card.status).toBe(201);
      await client.post(`/v1/cards/${card.body.id}/lock`);
      await client.put(`/v1/cards/${card.body.id}/limits`, { transaction: '10', daily: '20', monthly: '30', lifetime: '40' });
      const full = await client.get(`/v1/cards/${card.body.id}/full`);
      expect(full.status).toBe(200);
      revealed.push(full.body);
    }
  });

  it('holds no card number, not even its hidden middle digits, in any attribute of any item', async () => {
    const items = await scanAllItems();
    expect(items.length).toBeGreaterThan(revealed.length);
    const everything = items.map((item) => stringsIn(item).join('\u0000')).join('\n');
    // The scan saw the cards (their masked numbers), so the search below is searching the right data.
    for (const card of revealed) expect(everything).toContain(`${card.card_number.slice(0, 6)}******${card.card_number.slice(-4)}`);
    for (const card of revealed) {
      expect(everything).not.toContain(card.card_number);
      expect(withoutRandomTokens(everything)).not.toContain(card.card_number.slice(6, 12));
    }
  });

  it('holds no CVV or expiry in any attribute of a card\'s items, and no expiry date anywhere', async () => {
    const items = await scanAllItems();
    // Every text value of the table. Numbers are left out here: the compact forms (MMYY, YYMM) are
    // four digits, which any amount, count or duration in the table may be (an attempt of 1,231 ms
    // against a card expiring 12/31); a card's own items are searched with their numbers below.
    const texts = new Set(items.flatMap((item) => stringsIn(item, [], { numbers: false })));
    for (const card of revealed) {
      const { expiry_month: mm, expiry_year: yyyy, cvv } = card;
      const forms = [`${mm}/${yyyy}`, `${mm}/${yyyy.slice(2)}`, `${yyyy}-${mm}`, `${mm}${yyyy.slice(2)}`, `${yyyy.slice(2)}${mm}`];
      for (const form of forms) expect(texts.has(form), form).toBe(false);
      // The card's own items: the card, its audit events (PK=CARD_AUDIT#<id>) and its number index.
      const cardItems = items.filter((item) => attribute(item, 'PK') === `CARD#${card.id}` || attribute(item, 'cardId') === card.id);
      expect(cardItems.length).toBeGreaterThanOrEqual(4); // card, number index, lock and reveal events
      for (const item of cardItems) {
        const values = stringsIn(item);
        expect(values, `CVV in ${JSON.stringify(values.slice(0, 2))}`).not.toContain(cvv);
        expect(values).not.toContain(yyyy);
        for (const form of forms) expect(values, form).not.toContain(form);
      }
    }
  });

  it('holds a physical card\'s shipping address only encrypted', async () => {
    const everything = (await scanAllItems()).map((item) => stringsIn(item).join('\u0000')).join('\n');
    expect(everything).not.toContain(shippingLine);
  });
});
