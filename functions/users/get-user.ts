import { UserPathParams } from '../../shared/domain/users.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { getUser } from '../../shared/services/users.ts';

export const handler = httpHandler({ params: UserPathParams }, ({ params, auth }) => getUser(auth.businessId, params.p_user_id));
