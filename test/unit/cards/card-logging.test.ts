import { DynamoDBDocumentClient, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { handler as createCard } from '../../../functions/cards/create-card.ts';
import { handler as getCard } from '../../../functions/cards/get-card.ts';
import { handler as revealCard } from '../../../functions/cards/get-card-full-details.ts';
import { handler as listCards } from '../../../functions/cards/list-cards.ts';
import { handler as lockCard } from '../../../functions/cards/lock-card.ts';
import { handler as updateLimits } from '../../../functions/cards/update-card-limits.ts';
import { lambdaContext, parseBody } from '../../support/events.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { cardEvent, createCardEvent, issuedCard, listCardsEvent, serveCard } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

/** Everything written to stdout and stderr (where the Powertools logger writes) while it runs, at DEBUG. */
const captured = captureLogs();

/** Card secrets as they could appear in a log line: whole, as the middle digits, or as an expiry. */
function secretForms(full: { card_number: string; cvv: string; expiry_month: string; expiry_year: string }) {
  return [
    full.card_number,
    full.card_number.slice(6, 12),
    `"${full.cvv}"`,
    `:${full.cvv}`,
    `${full.expiry_month}/${full.expiry_year}`,
    `${full.expiry_month}/${full.expiry_year.slice(2)}`,
    `"${full.expiry_year}"`,
  ];
}

/** A card issued through the create route, its item served to the reads of the next requests. */
async function servedCard() {
  const { card, item } = await issuedCard(ddb);
  serveCard(ddb, item);
  ddb.on(QueryCommand).resolves({ Items: [item] });
  ddb.on(TransactWriteCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  return { card, item };
}

/** Proves the capture works: one structured line per request, with its status. */
function requireLogged(logs: string) {
  expect(logs).toMatch(/"message":"request"/);
  expect(logs).toMatch(/"statusCode":200/);
}

describe('logs of the cards routes', () => {
  it('hold the requests (so this test can see them) but never a card number, CVV or expiry', async () => {
    const { card } = await servedCard();
    const full = parseBody(await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext));
    const answers = [
      await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext),
      await getCard(cardEvent('GET', card.id), lambdaContext),
      await listCards(listCardsEvent(), lambdaContext),
      await lockCard(cardEvent('POST', card.id, '/lock'), lambdaContext),
      await updateLimits(cardEvent('PUT', card.id, '/limits', { body: { transaction: '1', daily: '2', monthly: '3', lifetime: '4' } }), lambdaContext),
      await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext),
    ];
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 200, 200, 200, 200, 200]);

    const logs = captured.join('');
    requireLogged(logs);
    for (const secret of secretForms(full)) expect(logs, secret).not.toContain(secret);
    expect(logs).not.toMatch(/\d{13,19}/);
  });

  it('hold no card secret when a request fails after the secrets were generated or decrypted', async () => {
    const { card } = await servedCard();
    const full = parseBody(await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext));
    captured.length = 0;

    ddb.on(TransactWriteCommand).rejects(new Error('Internal server error'));
    const failedCreate = await createCard(createCardEvent({ mode: 'B2B' }), lambdaContext);
    expect(failedCreate.statusCode).toBe(500);
    ddb.on(PutCommand).rejects(new Error('Internal server error'));
    const failedReveal = await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext);
    expect(failedReveal.statusCode).toBe(500);

    const logs = captured.join('');
    expect(logs).toContain('unhandled error');
    // The failed create's own number was never returned; no digit run the length of a card number appears at all.
    expect(logs).not.toMatch(/\d{13,19}/);
    for (const secret of secretForms(full)) expect(logs, secret).not.toContain(secret);
  });
});
