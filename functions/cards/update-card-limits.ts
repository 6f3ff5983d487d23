import * as api from '../../shared/contracts/cards.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = operationHandler(api.updateCardLimits, ({ params, body, auth, idempotency }) =>
  cards.updateCardLimits(auth, params.id, body, idempotency),
);
