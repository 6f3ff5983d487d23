import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { getUser } from '../../shared/services/users.ts';

export const handler = httpHandler({ params: pathIds({ p_user_id: 'user' }) }, ({ params, auth }) => getUser(auth.businessId, params.p_user_id));
