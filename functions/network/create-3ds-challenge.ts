import { NetworkThreeDsBody } from '../../shared/domain/three-ds.ts';
import { networkHandler } from '../../shared/http/handler.ts';
import { networkChallenge } from '../../shared/services/three-ds.ts';

export const handler = networkHandler({ body: NetworkThreeDsBody }, ({ body, idempotency }) => networkChallenge(body, idempotency));
