import * as api from '../../shared/contracts/webhook-endpoint.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as endpoint from '../../shared/services/webhook-endpoint.ts';

export const handler = operationHandler(api.sendTestWebhook, ({ auth, idempotency }) => endpoint.sendTestWebhook(auth.businessId, idempotency));
