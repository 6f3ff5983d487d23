import { ListCardTransactionsQuery } from '../../shared/domain/transactions.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { listTransactionsOfCard } from '../../shared/services/transactions.ts';

export const handler = httpHandler({ query: ListCardTransactionsQuery, params: pathIds({ id: 'card' }) }, ({ query, params, auth }) =>
  listTransactionsOfCard(auth.businessId, params.id, query),
);
