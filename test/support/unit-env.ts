/**
 * Environment for unit tests: a fake table name and throwaway local keys, so handlers run fully
 * wrapped (validation, errors, idempotency) against aws-sdk-client-mock.
 */
// Unit tests call services that seal and open directly: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
// Like every handler that hashes: keyed hashes with KMS (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import { fileURLToPath } from 'node:url';

process.env.STAGE = 'sandbox';
process.env.TABLE_NAME = 'unit-test-table';
process.env.KEY_SOURCE = 'local';
process.env.LOCAL_KEY_FILE = fileURLToPath(new URL('./unit-test-keys.json', import.meta.url));
// Like the local stack: unit tests deliver webhooks to a receiver on 127.0.0.1.
process.env.WEBHOOK_PRIVATE_ADDRESSES = 'allow';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
// No EMF lines on stdout (the EMF specs turn them back on for their own file).
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
