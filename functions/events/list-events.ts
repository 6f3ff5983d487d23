import { ListEventsQuery } from '../../shared/domain/events.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { listEvents } from '../../shared/services/events.ts';

export const handler = httpHandler({ query: ListEventsQuery }, ({ query, auth }) => listEvents(auth.businessId, query));
