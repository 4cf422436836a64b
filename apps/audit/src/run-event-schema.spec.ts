import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { RunEventSchema, runEventJsonSchema } from '@tengine/contracts';

import { runEvent } from '../test/support/run-events.js';

const DOCUMENT = resolve(process.cwd(), 'docs/run-event.schema.json');

describe('published JSON Schema of Run events', () => {
  it('should match RunEventSchema (regenerate: node apps/audit/scripts/write-run-event-schema.mjs)', () => {
    const published = JSON.parse(readFileSync(DOCUMENT, 'utf8')) as unknown;
    expect(published).toEqual(runEventJsonSchema());
  });

  it('should describe the events the executor publishes', () => {
    const schema = runEventJsonSchema();
    const event = runEvent('succeeded');
    expect(RunEventSchema.parse(event)).toEqual(event);
    expect(schema['required']).toEqual(expect.arrayContaining(Object.keys(event)));
    expect(schema['$id']).toBe('https://tengine.dev/schemas/run-event.v1.json');
  });
});
