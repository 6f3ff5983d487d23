import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { redeliverEvent } from '../../shared/services/events.ts';

export const handler = operationHandler(api.redeliverEvent, ({ params, auth }) => redeliverEvent(auth.businessId, params.id));
