import { AdjustAuthorizationBody } from '../../shared/domain/transactions.ts';
import { networkHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { settleAuthorization } from '../../shared/services/authorizations.ts';

export const handler = networkHandler({ body: AdjustAuthorizationBody, params: pathIds({ id: 'transaction' }) }, ({ body, params, idempotency }) =>
  settleAuthorization({ network: true }, params.id, body, idempotency),
);
