import { UpdateCardLimitsBody } from '../../shared/domain/cards.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = httpHandler({ params: pathIds({ id: 'card' }), body: UpdateCardLimitsBody }, ({ params, body, auth, idempotency }) =>
  cards.updateCardLimits(auth, params.id, body, idempotency),
);
