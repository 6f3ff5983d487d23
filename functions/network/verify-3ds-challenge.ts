// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { networkVerify } from '../../shared/services/three-ds.ts';

export const handler = operationHandler(api.networkThreeDsVerification, ({ body, params }) =>
  networkVerify(params.verification_id, body.otp_code),
);
