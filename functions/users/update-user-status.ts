import { UpdateUserStatusBody } from '../../shared/domain/users.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { pathIds } from '../../shared/http/path-ids.ts';
import { updateUserStatus } from '../../shared/services/users.ts';

export const handler = httpHandler({ params: pathIds({ p_user_id: 'user' }), body: UpdateUserStatusBody }, ({ params, body, auth }) =>
  updateUserStatus(auth.businessId, params.p_user_id, body.status, auth.keyId),
);
