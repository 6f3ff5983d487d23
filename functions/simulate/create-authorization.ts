import { SimulateAuthorizationBody } from '../../shared/domain/transactions.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { simulateAuthorization } from '../../shared/services/authorizations.ts';

export const handler = httpHandler({ body: SimulateAuthorizationBody }, ({ body, auth, idempotency }) =>
  simulateAuthorization(auth.businessId, body, idempotency),
);
