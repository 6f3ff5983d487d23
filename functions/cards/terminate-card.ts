import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = httpHandler({ params: pathIds({ id: 'card' }) }, ({ params, auth, idempotency }) =>
  cards.terminateCard(auth, params.id, idempotency),
);
