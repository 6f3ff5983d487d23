import { TransactionPathParams } from '../../shared/domain/transactions.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { getCardTransaction } from '../../shared/services/transactions.ts';

export const handler = httpHandler({ params: TransactionPathParams }, ({ params, auth }) => getCardTransaction(auth.businessId, params.id));
