import { scheduledHandler } from '../../shared/queues/handlers.ts';
import { sweepUndeliveredEvents } from '../../shared/services/webhook-sweeper.ts';

export const handler = scheduledHandler('sweep-undelivered-events', () => sweepUndeliveredEvents());
