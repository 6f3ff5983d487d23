import { httpHandler } from '../../shared/http/handler.ts';
import { listBusinessBalances } from '../../shared/services/balances.ts';

export const handler = httpHandler({}, ({ auth }) => listBusinessBalances(auth.businessId));
