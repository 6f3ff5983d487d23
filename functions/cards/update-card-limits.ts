import { CardPathParams, UpdateCardLimitsBody } from '../../shared/domain/cards.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = httpHandler({ params: CardPathParams, body: UpdateCardLimitsBody }, ({ params, body, auth, idempotency }) =>
  cards.updateCardLimits(auth, params.id, body, idempotency),
);
