import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { getCardTransaction } from '../../shared/services/transactions.ts';

export const handler = httpHandler({ params: pathIds({ id: 'transaction' }) }, ({ params, auth }) => getCardTransaction(auth.businessId, params.id));
