// Its row lists MAC purposes: keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import { credentialAuthorizer } from '../../shared/http/authorizer.ts';

/** Guards the routes that take the card network's keys (`/network/authorizations...`, `/network/3ds/...`). */
export const handler = credentialAuthorizer('network');
