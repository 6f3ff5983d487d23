import { scheduledHandler } from '../../shared/queues/handlers.ts';
import { expireDueHolds } from '../../shared/services/hold-expiry.ts';

export const handler = scheduledHandler('expire-holds', () => expireDueHolds());
