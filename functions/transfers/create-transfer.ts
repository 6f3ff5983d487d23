import * as api from '../../shared/contracts/transfers.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { createTransfer } from '../../shared/services/transfers.ts';

export const handler = operationHandler(api.createTransfer, ({ body, auth, idempotency }) =>
  createTransfer(auth.businessId, auth.keyId, body, idempotency),
);
