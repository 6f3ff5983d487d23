// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
import * as api from '../../shared/contracts/users.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { updateUserStatus } from '../../shared/services/users.ts';

export const handler = operationHandler(api.updateUserStatus, ({ params, body, auth }) =>
  updateUserStatus(auth.businessId, params.p_user_id, body.status, auth.keyId),
);
