import { streamHandler } from '../../shared/queues/handlers.ts';
import { dispatchOutboxRecords } from '../../shared/services/webhook-dispatch.ts';

export const handler = streamHandler('dispatch-outbox-events', dispatchOutboxRecords);
