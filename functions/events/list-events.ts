import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listEvents } from '../../shared/services/events.ts';

export const handler = operationHandler(api.listEvents, ({ query, auth }) => listEvents(auth.businessId, query));
