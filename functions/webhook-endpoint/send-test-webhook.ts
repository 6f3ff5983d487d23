// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/webhook-endpoint.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as endpoint from '../../shared/services/webhook-endpoint.ts';

export const handler = operationHandler(api.sendTestWebhook, ({ auth, idempotency }) => endpoint.sendTestWebhook(auth.businessId, idempotency));
