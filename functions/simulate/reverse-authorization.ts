import { AdjustAuthorizationBody, TransactionPathParams } from '../../shared/domain/transactions.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { reverseAuthorization } from '../../shared/services/authorizations.ts';

export const handler = httpHandler({ body: AdjustAuthorizationBody, params: TransactionPathParams }, ({ body, params, auth, idempotency }) =>
  reverseAuthorization({ businessId: auth.businessId }, params.id, body, idempotency),
);
