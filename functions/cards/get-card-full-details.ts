import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { respond } from '../../shared/http/responses.ts';
import * as cards from '../../shared/services/cards.ts';

/** The full number, expiry and CVV: never cached by any browser or proxy on the way. */
export const handler = httpHandler({ params: pathIds({ id: 'card' }) }, async ({ params, auth }) =>
  respond(200, await cards.revealFullDetails(auth, params.id), { 'cache-control': 'no-store' }),
);
