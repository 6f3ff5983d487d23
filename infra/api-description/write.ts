/**
 * `npm run openapi`: writes the sandbox stage's OpenAPI description (generated from the route
 * table's contracts, the same as `GET /v1/openapi.json` serves) to `openapi.json`, and what is
 * generated from it: the typed client's types (`client/schema.d.ts`, by openapi-typescript) and
 * the reference in `docs/api-reference.md`. A test fails when any of them is out of date.
 */
import { writeFile } from 'node:fs/promises';
import { generatedFiles } from './generated-files.ts';

for (const file of await generatedFiles()) {
  await writeFile(file.path, file.content);
  console.error(`wrote ${file.path}`);
}
