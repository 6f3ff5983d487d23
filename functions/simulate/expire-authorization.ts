import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { expireAuthorization } from '../../shared/services/authorizations.ts';

export const handler = operationHandler(api.simulateExpiry, ({ params, auth, idempotency }) =>
  expireAuthorization({ businessId: auth.businessId }, params.id, idempotency),
);
