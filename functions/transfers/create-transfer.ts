import { CreateTransferBody } from '../../shared/domain/transfers.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { createTransfer } from '../../shared/services/transfers.ts';

export const handler = httpHandler({ body: CreateTransferBody, status: 201 }, ({ body, auth, idempotency }) =>
  createTransfer(auth.businessId, auth.keyId, body, idempotency),
);
