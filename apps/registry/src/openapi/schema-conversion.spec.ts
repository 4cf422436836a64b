import { MAX_SCHEMA_NODES, SchemaTooLargeError, toJsonSchema } from './schema-conversion.js';

/** Matchers typed as `unknown`, so they sit in expected objects without `any`. */
const recursive: unknown = expect.stringContaining('Recursive');
const externalRef: unknown = expect.stringContaining('https://example.com/x.json');

describe(toJsonSchema.name, () => {
  it('should cut a self-referencing schema where it repeats', () => {
    const node: Record<string, unknown> = { type: 'object', properties: {} };
    (node['properties'] as Record<string, unknown>)['next'] = node;
    (node['properties'] as Record<string, unknown>)['children'] = { type: 'array', items: node };
    const converted = toJsonSchema(node, false);
    expect(converted).toEqual({
      type: 'object',
      properties: {
        next: { description: recursive },
        children: { type: 'array', items: { description: recursive } },
      },
    });
    expect(() => JSON.stringify(converted)).not.toThrow();
  });

  it('should expand a schema shared by siblings, which is not a cycle', () => {
    const shared = { type: 'string' };
    expect(toJsonSchema({ type: 'object', properties: { a: shared, b: shared } }, false)).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' } },
    });
  });

  it('should translate OpenAPI 3.0 keywords to JSON Schema 2020-12', () => {
    expect(
      toJsonSchema(
        {
          type: 'integer',
          nullable: true,
          minimum: 0,
          exclusiveMinimum: true,
          maximum: 9,
          exclusiveMaximum: false,
          example: 3,
          xml: { name: 'n' },
          discriminator: { propertyName: 'kind' },
        },
        true,
      ),
    ).toEqual({ type: ['integer', 'null'], exclusiveMinimum: 0, maximum: 9, examples: [3] });
    expect(toJsonSchema({ type: 'string', enum: ['a'], nullable: true }, true)).toEqual({
      type: ['string', 'null'],
      enum: ['a', null],
    });
  });

  it('should leave 3.1 schemas as they are, but never keep an external reference', () => {
    expect(
      toJsonSchema(
        { type: ['string', 'null'], properties: { x: { $ref: 'https://example.com/x.json' } } },
        false,
      ),
    ).toEqual({
      type: ['string', 'null'],
      properties: { x: { description: externalRef } },
    });
  });

  it('should stop a schema that expands past the node budget', () => {
    // One schema shared six times at each of seven levels: 6^7 nodes if expanded.
    let level: Record<string, unknown> = { type: 'string' };
    for (let depth = 0; depth < 7; depth += 1) {
      const properties = Object.fromEntries(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((key) => [key, level]),
      );
      level = { type: 'object', properties };
    }
    expect(() => toJsonSchema(level, false)).toThrow(SchemaTooLargeError);
    expect(MAX_SCHEMA_NODES).toBeLessThan(6 ** 7);
  });
});
