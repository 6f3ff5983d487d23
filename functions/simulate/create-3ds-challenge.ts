import { SimulateThreeDsBody } from '../../shared/domain/three-ds.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { simulateChallenge } from '../../shared/services/three-ds.ts';

export const handler = httpHandler({ body: SimulateThreeDsBody }, ({ body, auth, idempotency }) => simulateChallenge(auth.businessId, body, idempotency));
