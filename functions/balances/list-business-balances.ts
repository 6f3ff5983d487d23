import * as api from '../../shared/contracts/cards.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listBusinessBalances } from '../../shared/services/balances.ts';

export const handler = operationHandler(api.listBusinessBalances, ({ auth }) => listBusinessBalances(auth.businessId));
