import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { simulateDeposit } from '../../shared/services/deposits.ts';

export const handler = operationHandler(api.simulateDeposit, ({ body, auth, idempotency }) => simulateDeposit(auth.businessId, auth.keyId, body, idempotency));
