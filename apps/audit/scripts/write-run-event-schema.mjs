// Writes docs/run-event.schema.json: the JSON Schema of Run events, generated from RunEventSchema in
// libs/contracts (build first: npm run build). A unit spec fails when the file is out of date.
//   node apps/audit/scripts/write-run-event-schema.mjs
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import prettier from 'prettier';

import { runEventJsonSchema } from '@tengine/contracts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const target = resolve(root, 'docs/run-event.schema.json');
const options = (await prettier.resolveConfig(target)) ?? {};
const text = await prettier.format(JSON.stringify(runEventJsonSchema()), {
  ...options,
  filepath: target,
});
await writeFile(target, text);
process.stdout.write(`wrote ${target}\n`);
