import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { listUserBalances } from '../../shared/services/balances.ts';

export const handler = httpHandler({ params: pathIds({ p_user_id: 'user' }) }, ({ params, auth }) => listUserBalances(auth.businessId, params.p_user_id));
