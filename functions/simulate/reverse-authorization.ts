import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { reverseAuthorization } from '../../shared/services/authorizations.ts';

export const handler = operationHandler(api.simulateReversal, ({ body, params, auth, idempotency }) =>
  reverseAuthorization({ businessId: auth.businessId }, params.id, body, idempotency),
);
