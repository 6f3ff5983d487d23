import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { getCardTransaction } from '../../shared/services/transactions.ts';

export const handler = operationHandler(api.getTransaction, ({ params, auth }) => getCardTransaction(auth.businessId, params.id));
