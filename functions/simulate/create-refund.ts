import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { simulateRefund } from '../../shared/services/network-postings.ts';

export const handler = operationHandler(api.simulateRefund, ({ body, auth, idempotency }) => simulateRefund(auth.businessId, body, idempotency));
