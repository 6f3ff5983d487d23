/**
 * The structured JSON logger (Powertools). Never pass it a card number, CVV, expiry, OTP, API key,
 * webhook secret or eKYC field: log ids and masked values only.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'card-platform' });
