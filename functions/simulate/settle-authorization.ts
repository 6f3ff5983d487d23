import { AdjustAuthorizationBody } from '../../shared/domain/transactions.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { settleAuthorization } from '../../shared/services/authorizations.ts';

export const handler = httpHandler({ body: AdjustAuthorizationBody, params: pathIds({ id: 'transaction' }) }, ({ body, params, auth, idempotency }) =>
  settleAuthorization({ businessId: auth.businessId }, params.id, body, idempotency),
);
