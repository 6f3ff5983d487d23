import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { reverseAuthorization } from '../../shared/services/authorizations.ts';

export const handler = operationHandler(api.networkReversal, ({ body, params, idempotency }) =>
  reverseAuthorization({ network: true }, params.id, body, idempotency),
);
