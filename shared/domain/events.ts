/** Request schemas of the events API (`GET /v1/events`, `GET /v1/events/{id}`, `POST /v1/events/{id}/redeliver`). */
import * as z from 'zod';
import { EVENT_TYPES } from './event-types.ts';

export const ListEventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
  /** Only events of this type; a type not in the catalogue is a `400 validation_error`. */
  type: z.enum(EVENT_TYPES).optional(),
});
export type ListEventsQuery = z.output<typeof ListEventsQuery>;
