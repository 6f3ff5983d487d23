import { httpHandler } from '../../shared/http/handler.ts';
import { TopupBody, topUpBusiness } from '../../shared/services/topups.ts';

export const handler = httpHandler({ body: TopupBody, status: 201 }, ({ body, auth, idempotency }) =>
  topUpBusiness(auth.businessId, body, `simulate:${auth.keyId}`, idempotency),
);
