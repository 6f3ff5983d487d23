import { UserPathParams } from '../../shared/domain/users.ts';
import { ListDepositsQuery } from '../../shared/domain/wallets.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { listDeposits } from '../../shared/services/deposits.ts';

export const handler = httpHandler({ params: UserPathParams, query: ListDepositsQuery }, ({ params, query, auth }) =>
  listDeposits(auth.businessId, params.p_user_id, query),
);
