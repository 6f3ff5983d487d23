// Its row seals or opens: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
import { queueHandler } from '../../shared/queues/handlers.ts';
import { deliverQueuedEvents } from '../../shared/services/webhook-delivery.ts';

export const handler = queueHandler('deliver-transaction-event', (records) => deliverQueuedEvents('events', records));
