/** Cards: issue, read, reveal, lock, unlock, terminate, limits, controls, spend; the business's own balances. */
import { CreateCardBody, ListCardAuditEventsQuery, ListCardsQuery, UpdateCardLimitsBody, UpdateControlsBody } from '../domain/cards.ts';
import { pathIds } from '../http/path-ids.ts';
import { operation } from './operation.ts';
import { BalanceList, Card, CardAuditEvent, CardFullDetails, CardSpend, listPage } from './resources.ts';

const card = pathIds({ id: 'card' });

export const createCard = operation({
  id: 'createCard',
  method: 'POST',
  path: '/v1/cards',
  credential: 'business',
  tag: 'Cards',
  summary: 'Issue a card',
  description: 'B2B cards spend the business balance; B2C cards (with `p_user_id`) spend their Active user\'s.',
  body: CreateCardBody,
  status: 201,
  response: Card,
  errors: ['user_not_found', 'user_not_active'],
});

export const listCards = operation({
  id: 'listCards',
  method: 'GET',
  path: '/v1/cards',
  credential: 'business',
  tag: 'Cards',
  summary: 'List cards',
  query: ListCardsQuery,
  status: 200,
  response: listPage(Card, 'CardList'),
  errors: ['user_not_found'],
});

export const getCard = operation({
  id: 'getCard',
  method: 'GET',
  path: '/v1/cards/{id}',
  credential: 'business',
  tag: 'Cards',
  summary: 'Get a card',
  params: card,
  status: 200,
  response: Card,
  errors: [],
});

export const getCardFullDetails = operation({
  id: 'getCardFullDetails',
  method: 'GET',
  path: '/v1/cards/{id}/full',
  credential: 'business',
  tag: 'Cards',
  summary: 'Reveal the card number, expiry and CVV',
  description: 'Audited (`/audit-events`), answered with `Cache-Control: no-store`.',
  params: card,
  status: 200,
  response: CardFullDetails,
  errors: ['card_terminated'],
});

export const listCardAuditEvents = operation({
  id: 'listCardAuditEvents',
  method: 'GET',
  path: '/v1/cards/{id}/audit-events',
  credential: 'business',
  tag: 'Cards',
  summary: 'List who revealed or changed a card',
  params: card,
  query: ListCardAuditEventsQuery,
  status: 200,
  response: listPage(CardAuditEvent, 'CardAuditEventList'),
  errors: [],
});

export const lockCard = operation({
  id: 'lockCard',
  method: 'POST',
  path: '/v1/cards/{id}/lock',
  credential: 'business',
  tag: 'Cards',
  summary: 'Lock a card (authorizations decline until unlocked)',
  params: card,
  status: 200,
  response: Card,
  errors: ['card_terminated', 'card_already_locked'],
});

export const unlockCard = operation({
  id: 'unlockCard',
  method: 'POST',
  path: '/v1/cards/{id}/unlock',
  credential: 'business',
  tag: 'Cards',
  summary: 'Unlock a locked card',
  params: card,
  status: 200,
  response: Card,
  errors: ['card_terminated', 'card_not_locked'],
});

export const terminateCard = operation({
  id: 'terminateCard',
  method: 'POST',
  path: '/v1/cards/{id}/terminate',
  credential: 'business',
  tag: 'Cards',
  summary: 'Terminate a card (permanent)',
  params: card,
  status: 200,
  response: Card,
  errors: ['card_terminated'],
});

export const updateCardLimits = operation({
  id: 'updateCardLimits',
  method: 'PUT',
  path: '/v1/cards/{id}/limits',
  credential: 'business',
  tag: 'Cards',
  summary: "Set a card's limits",
  params: card,
  body: UpdateCardLimitsBody,
  status: 200,
  response: Card,
  errors: ['card_terminated'],
});

export const updateCardControls = operation({
  id: 'updateCardControls',
  method: 'PUT',
  path: '/v1/cards/{id}/controls',
  credential: 'business',
  tag: 'Cards',
  summary: "Set a card's spending controls",
  description:
    'Replaces the whole set (a missing field is cleared). The business\'s defaults (`/v1/controls`) apply on top: both must pass. ' +
    'Applies from the next authorization; audited (`/audit-events`, action `controls_update`).',
  params: card,
  body: UpdateControlsBody,
  status: 200,
  response: Card,
  errors: ['card_terminated'],
});

export const getCardSpend = operation({
  id: 'getCardSpend',
  method: 'GET',
  path: '/v1/cards/{id}/spend',
  credential: 'business',
  tag: 'Cards',
  summary: 'What a card spent in its current windows and may still spend',
  description: 'Days and months are calendar periods in the business timezone; `remaining` is null where the rule is off.',
  params: card,
  status: 200,
  response: CardSpend,
  errors: [],
});

export const listBusinessBalances = operation({
  id: 'listBusinessBalances',
  method: 'GET',
  path: '/v1/balances',
  credential: 'business',
  tag: 'Balances',
  summary: "List the business's own (B2B) balances",
  status: 200,
  response: BalanceList,
  errors: [],
});
