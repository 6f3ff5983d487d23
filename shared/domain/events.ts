/** Request schemas of the events API (`GET /v1/events`, `GET /v1/events/{id}`, `POST /v1/events/{id}/redeliver`). */
import * as z from '../zod.ts';
import { EVENT_TYPES } from './event-types.ts';

export const ListEventsQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
  /** Only events of this type; a type not in the catalogue is a `400 validation_error`. */
  type: z.optional(z.enum(EVENT_TYPES)),
});
export type ListEventsQuery = z.output<typeof ListEventsQuery>;
