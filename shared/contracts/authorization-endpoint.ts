/** The business's real-time authorization endpoint: where the platform asks before approving. */
import * as z from '../zod.ts';
import { AuthorizationEndpointBody, DECISION_TIMEOUT_MS, STAND_IN_ACTIONS } from '../domain/authorization-decisions.ts';
import { operation } from './operation.ts';

const AuthorizationEndpoint = z
  .object({
    url: z.string(),
    timeout_ms: z.int().check(z.gte(DECISION_TIMEOUT_MS.min), z.lte(DECISION_TIMEOUT_MS.max)),
    stand_in: z.enum(STAND_IN_ACTIONS),
    secret: z.optional(z.string()).check(z.meta({ description: 'The signing secret (`whsec_...`): only on the first set and on a rotation.' })),
  })
  .check(z.meta({ id: 'AuthorizationEndpoint', description: 'Where each authorization that passed the platform\'s checks is sent for a decision, signed like webhooks.' }));

const TAG = 'Authorization endpoint';

export const setAuthorizationEndpoint = operation({
  id: 'setAuthorizationEndpoint',
  method: 'PUT',
  path: '/v1/authorization-endpoint',
  credential: 'business',
  tag: TAG,
  summary: 'Set the real-time authorization endpoint',
  description:
    'Every authorization that passes the platform\'s own checks is POSTed to `url` first; the answer must arrive within `timeout_ms` (counted from the request\'s arrival), or `stand_in` applies. The secret is shown on the first set only.',
  body: AuthorizationEndpointBody,
  status: 200,
  response: AuthorizationEndpoint,
  errors: ['invalid_webhook_url', 'authorization_endpoint_changed'],
});

export const getAuthorizationEndpoint = operation({
  id: 'getAuthorizationEndpoint',
  method: 'GET',
  path: '/v1/authorization-endpoint',
  credential: 'business',
  tag: TAG,
  summary: 'Get the authorization endpoint (never its secret)',
  status: 200,
  response: AuthorizationEndpoint,
  errors: ['authorization_endpoint_not_set'],
});

export const deleteAuthorizationEndpoint = operation({
  id: 'deleteAuthorizationEndpoint',
  method: 'DELETE',
  path: '/v1/authorization-endpoint',
  credential: 'business',
  tag: TAG,
  summary: 'Remove the authorization endpoint (the platform decides alone again)',
  status: 200,
  response: AuthorizationEndpoint,
  errors: ['authorization_endpoint_not_set'],
});

export const rotateAuthorizationEndpointSecret = operation({
  id: 'rotateAuthorizationEndpointSecret',
  method: 'POST',
  path: '/v1/authorization-endpoint/rotate-secret',
  credential: 'business',
  tag: TAG,
  summary: 'Rotate the endpoint\'s signing secret (the old one signs for 24 h more)',
  description:
    'The new secret is shown once and kept only sealed for the functions that ask the endpoint, never in a replay record, so `Idempotency-Key` is not kept: a repeat rotates again.',
  idempotent: false,
  status: 200,
  response: AuthorizationEndpoint,
  errors: ['authorization_endpoint_not_set', 'authorization_endpoint_changed'],
});
