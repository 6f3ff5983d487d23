import { z } from 'zod';
import { ListCardTransactionsQuery } from '../../shared/domain/transactions.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { listTransactionsOfCard } from '../../shared/services/transactions.ts';

export const handler = httpHandler({ query: ListCardTransactionsQuery, params: z.object({ id: z.string() }) }, ({ query, params, auth }) =>
  listTransactionsOfCard(auth.businessId, params.id, query),
);
