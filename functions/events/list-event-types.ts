import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listEventTypes } from '../../shared/services/events.ts';

export const handler = operationHandler(api.listEventTypes, () => listEventTypes());
