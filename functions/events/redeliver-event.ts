import { EventPathParams } from '../../shared/domain/events.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { redeliverEvent } from '../../shared/services/events.ts';

export const handler = httpHandler({ params: EventPathParams }, ({ params, auth }) => redeliverEvent(auth.businessId, params.id));
