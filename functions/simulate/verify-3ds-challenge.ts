// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { simulateVerify } from '../../shared/services/three-ds.ts';

export const handler = operationHandler(api.simulateThreeDsVerification, ({ body, params, auth }) =>
  simulateVerify(auth.businessId, params.verification_id, body.otp_code),
);
