import { UpdateUserStatusBody, UserPathParams } from '../../shared/domain/users.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { updateUserStatus } from '../../shared/services/users.ts';

export const handler = httpHandler({ params: UserPathParams, body: UpdateUserStatusBody }, ({ params, body, auth }) =>
  updateUserStatus(auth.businessId, params.p_user_id, body.status, auth.keyId),
);
