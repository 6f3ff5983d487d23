import * as api from '../../shared/contracts/users.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { createUser } from '../../shared/services/users.ts';

export const handler = operationHandler(api.createUser, ({ body, auth, idempotency }) =>
  createUser(auth.businessId, body, idempotency),
);
