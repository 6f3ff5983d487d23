/**
 * Card reveal links: the partner's backend asks for a one-time link, and the cardholder's browser
 * loads it inside an iframe of the partner's page, so card data never passes through the partner.
 */
import * as z from '../zod.ts';
import { CreateRevealSessionBody } from '../domain/card-reveal.ts';
import { pathIds } from '../http/path-ids.ts';
import { operation } from './operation.ts';

const RevealSession = z
  .object({
    url: z.string().check(z.meta({ description: 'The one-time link to the reveal page: put it in an iframe\'s `src` on the session\'s origin. Shown once; never stored by the platform.' })),
    expires_at: z.iso.datetime().check(z.meta({ description: 'When the link stops working, if it was not loaded before.' })),
  })
  .check(z.meta({ id: 'RevealSession', description: 'A one-time link to a page showing the card number, expiry and CVV.' }));

export const createRevealSession = operation({
  id: 'createRevealSession',
  method: 'POST',
  path: '/v1/cards/{id}/reveal-sessions',
  credential: 'business',
  tag: 'Cards',
  summary: 'Create a one-time link that shows the card to the cardholder',
  description:
    'The link serves, once and only inside an iframe of `origin`, a page with the card number, expiry and CVV; a second load, or one after `expires_at`, is `410`. ' +
    'Each reveal is audited (`/audit-events`, with the origin). The link is shown once and stored only as a keyed hash, so `Idempotency-Key` is not kept: a repeat makes another link.',
  params: pathIds({ id: 'card' }),
  body: CreateRevealSessionBody,
  idempotent: false,
  status: 201,
  response: RevealSession,
  errors: ['invalid_reveal_origin', 'card_terminated'],
});

export const RevealPageQuery = z.object({
  token: z.string().check(z.maxLength(128), z.meta({ description: 'The link\'s token, as `url` carries it.' })),
});

export const getRevealPage = operation({
  id: 'getRevealPage',
  method: 'GET',
  path: '/v1/card-reveal',
  credential: 'public',
  tag: 'Cards',
  summary: 'The card reveal page (HTML; the link of a reveal session)',
  description:
    'Needs no API key: the token is the credential, good for one load. Answered with `Cache-Control: no-store`, `Referrer-Policy: no-referrer` and a ' +
    '`Content-Security-Policy` whose `frame-ancestors` is the session\'s origin only; the page runs no script.',
  query: RevealPageQuery,
  secretInUrl: true,
  status: 200,
  otherStatuses: { 410: 'The link was already used, expired, or never existed (or its card was terminated): a page with no card data.' },
  contentType: 'text/html; charset=utf-8',
  response: z.string(),
  errors: [],
});
