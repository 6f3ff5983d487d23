import { AdjustAuthorizationBody, TransactionPathParams } from '../../shared/domain/transactions.ts';
import { networkHandler } from '../../shared/http/handler.ts';
import { reverseAuthorization } from '../../shared/services/authorizations.ts';

export const handler = networkHandler({ body: AdjustAuthorizationBody, params: TransactionPathParams }, ({ body, params, idempotency }) =>
  reverseAuthorization({ network: true }, params.id, body, idempotency),
);
