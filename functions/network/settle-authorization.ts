import { AdjustAuthorizationBody, TransactionPathParams } from '../../shared/domain/transactions.ts';
import { networkHandler } from '../../shared/http/handler.ts';
import { settleAuthorization } from '../../shared/services/authorizations.ts';

export const handler = networkHandler({ body: AdjustAuthorizationBody, params: TransactionPathParams }, ({ body, params, idempotency }) =>
  settleAuthorization({ network: true }, params.id, body, idempotency),
);
