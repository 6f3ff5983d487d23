import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { redeliverEvent } from '../../shared/services/events.ts';

export const handler = httpHandler({ params: pathIds({ id: 'event' }) }, ({ params, auth }) => redeliverEvent(auth.businessId, params.id));
