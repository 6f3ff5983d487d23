import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listTransactionsOfCard } from '../../shared/services/transactions.ts';

export const handler = operationHandler(api.listCardTransactions, ({ query, params, auth }) =>
  listTransactionsOfCard(auth.businessId, params.id, query),
);
