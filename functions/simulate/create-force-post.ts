import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { simulateForcePost } from '../../shared/services/network-postings.ts';

export const handler = operationHandler(api.simulateForcePost, ({ body, auth, idempotency }) => simulateForcePost(auth.businessId, body, idempotency));
