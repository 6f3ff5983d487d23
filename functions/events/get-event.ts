import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { getEventView } from '../../shared/services/events.ts';

export const handler = operationHandler(api.getEvent, ({ params, auth }) => getEventView(auth.businessId, params.id));
