/** Request schemas of the events API (`GET /v1/events`, `POST /v1/events/{id}/redeliver`). */
import { z } from 'zod';

export const ListEventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});
export type ListEventsQuery = z.output<typeof ListEventsQuery>;
