// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
import * as api from '../../shared/contracts/authorization-endpoint.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import * as endpoints from '../../shared/services/authorization-endpoint.ts';

export const handler = operationHandler(api.setAuthorizationEndpoint, ({ body, auth }) => endpoints.setAuthorizationEndpoint(auth.businessId, body));
