import { ListDepositsQuery } from '../../shared/domain/wallets.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { listDeposits } from '../../shared/services/deposits.ts';

export const handler = httpHandler({ params: pathIds({ p_user_id: 'user' }), query: ListDepositsQuery }, ({ params, query, auth }) =>
  listDeposits(auth.businessId, params.p_user_id, query),
);
