import { CreateUserBody } from '../../shared/domain/users.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { createUser } from '../../shared/services/users.ts';

export const handler = httpHandler({ body: CreateUserBody, status: 201 }, ({ body, auth, idempotency }) =>
  createUser(auth.businessId, body, idempotency),
);
