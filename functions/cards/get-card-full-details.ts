// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
import * as api from '../../shared/contracts/cards.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { respond } from '../../shared/http/responses.ts';
import * as cards from '../../shared/services/cards.ts';

/** The full number, expiry and CVV: never cached by any browser or proxy on the way. */
export const handler = operationHandler(api.getCardFullDetails, async ({ params, auth }) =>
  respond(200, await cards.revealFullDetails(auth, params.id), { 'cache-control': 'no-store' }),
);
