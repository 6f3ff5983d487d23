import { CardPathParams, ListCardAuditEventsQuery } from '../../shared/domain/cards.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = httpHandler({ params: CardPathParams, query: ListCardAuditEventsQuery }, ({ params, query, auth }) =>
  cards.listCardAuditEvents(auth, params.id, query),
);
