import { UserPathParams } from '../../shared/domain/users.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { listUserBalances } from '../../shared/services/balances.ts';

export const handler = httpHandler({ params: UserPathParams }, ({ params, auth }) => listUserBalances(auth.businessId, params.p_user_id));
