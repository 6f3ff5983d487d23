import { ListCardAuditEventsQuery } from '../../shared/domain/cards.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import * as cards from '../../shared/services/cards.ts';

export const handler = httpHandler({ params: pathIds({ id: 'card' }), query: ListCardAuditEventsQuery }, ({ params, query, auth }) =>
  cards.listCardAuditEvents(auth, params.id, query),
);
