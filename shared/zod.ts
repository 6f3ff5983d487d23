/**
 * zod for every schema of the product: its mini API (functions and checks, as in
 * `z.optional(z.string().check(z.maxLength(255), z.meta({ description })))`), with the English
 * error messages that the classic API (`import * as z from 'zod'`) would load by itself.
 *
 * Why mini: the classic API puts every method on every schema, so none of it can be left out of a
 * bundle, and building each schema costs more at import: ~50 KiB and ~15-20 ms in every function's
 * cold start (docs/cold-start.md). Same library, same core, same parse results and issues; only
 * the API description (zod-openapi) still brings the classic API, into its own bundle.
 *
 * One difference to keep in mind: metadata (`z.meta`, `z.describe`) is a check here, so an object
 * that carries it cannot be `z.pick`ed or `z.omit`ted, nor `z.extend`ed over one of its keys, and
 * a copy made from it (`z.catchall`, another `.check`) registers the same `id` again. Derive
 * first, then name the result.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
