/**
 * Which rows may tokenize card numbers (the `pan` key): a route whose body takes a card number
 * fingerprints its requests with the number's token, so its row must hold the key; every other
 * route puts a marker where a stray number was (shared/http/request-hash.ts), so a card network
 * that echoes the number on, say, a reversal is not refused by KMS for it.
 */
import { describe, expect, it } from 'vitest';
import { takesCardNumber } from '../../../shared/contracts/operation.ts';
import { routes } from '../../../shared/routes.ts';

describe('card-number grants', () => {
  const taking = routes.filter((row) => takesCardNumber(row.operation));

  it('finds the routes addressed by card number', () => {
    expect(taking.map((row) => row.handler).sort()).toEqual([
      'network/create-3ds-challenge',
      'network/create-authorization',
      'network/create-force-post',
      'network/create-refund',
    ]);
  });

  it.each(taking.map((row) => [row.handler, row] as const))('%s holds the card-number key', (_, row) => {
    expect(row.access.macs).toContain('pan');
  });
});
