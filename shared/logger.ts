/**
 * The structured JSON logger (Powertools). Never pass it a card number, CVV, expiry, OTP, API key,
 * webhook secret or eKYC field: log ids and masked values only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'card-platform' });

/**
 * The middy middleware both wrappers (shared/http/handler.ts, shared/queues/handlers.ts) put first:
 * each line of an invocation carries the function's name, version, cold start and `awsRequestId`.
 * `logEvent` is pinned off, whatever `POWERTOOLS_LOGGER_LOG_EVENT` says: an event carries card
 * numbers, OTPs and eKYC fields (a request body, a queue message, a stream image), so it is never
 * logged. Temporary keys are reset after each invocation so none outlives it.
 */
export function lambdaContextLogging() {
  return injectLambdaContext(logger, { logEvent: false, resetKeys: true });
}
