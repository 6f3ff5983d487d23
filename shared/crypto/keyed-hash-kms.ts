/**
 * Keyed hashes with KMS HMAC keys (shared/crypto/keyed-hash.ts): importing this module installs the
 * KMS client there. Only the handlers whose route-table row lists a MAC purpose (`access.macs`)
 * import it.
 */
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { installKmsMac } from './keyed-hash.ts';

let kms: KMSClient | undefined;

installKmsMac(async (keyId, message) => {
  kms ??= new KMSClient({});
  const result = await kms.send(new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: 'HMAC_SHA_256', Message: message }));
  if (!result.Mac) throw new Error('KMS GenerateMac returned no MAC');
  return result.Mac;
});
