import * as api from '../../shared/contracts/webhook-endpoint.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as endpoint from '../../shared/services/webhook-endpoint.ts';

export const handler = operationHandler(api.rotateWebhookSecret, ({ auth }) => endpoint.rotateWebhookSecret(auth.businessId));
