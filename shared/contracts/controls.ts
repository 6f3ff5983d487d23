/** The business's default spending controls, applied to every card on top of the card's own. */
import { UpdateControlsBody } from '../domain/cards.ts';
import { operation } from './operation.ts';
import { BusinessControls } from './resources.ts';

export const getControls = operation({
  id: 'getControls',
  method: 'GET',
  path: '/v1/controls',
  credential: 'business',
  tag: 'Spending controls',
  summary: "Get the business's default spending controls",
  status: 200,
  response: BusinessControls,
  errors: [],
});

export const updateControls = operation({
  id: 'updateControls',
  method: 'PUT',
  path: '/v1/controls',
  credential: 'business',
  tag: 'Spending controls',
  summary: "Set the business's default spending controls",
  description:
    "Replaces the whole set (a missing field is cleared). Every card's authorizations must pass both these and the card's own. " +
    'A change reaches every authorization within 30 seconds (the authorization path caches them).',
  body: UpdateControlsBody,
  status: 200,
  response: BusinessControls,
  errors: [],
});
