import { AdjustAuthorizationBody, TransactionPathParams } from '../../shared/domain/transactions.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { settleAuthorization } from '../../shared/services/authorizations.ts';

export const handler = httpHandler({ body: AdjustAuthorizationBody, params: TransactionPathParams }, ({ body, params, auth, idempotency }) =>
  settleAuthorization({ businessId: auth.businessId }, params.id, body, idempotency),
);
