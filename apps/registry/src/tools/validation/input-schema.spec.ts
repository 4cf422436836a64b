import { DomainError, TOOL_LIMITS } from '@tengine/contracts';

import { checkInputSchema, reservedInputs } from './input-schema.js';

const anyText: unknown = expect.any(String);

function issuesOf(schema: Record<string, unknown>): Array<{ path: string; message: string }> {
  try {
    checkInputSchema(schema);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'VALIDATION_FAILED') {
      return error.details?.['issues'] as Array<{ path: string; message: string }>;
    }
    throw error;
  }
  return [];
}

describe(checkInputSchema.name, () => {
  it('should accept object schemas of both supported dialects, formats included', () => {
    expect(
      issuesOf({
        type: 'object',
        properties: {
          email: { type: 'string', format: 'email' },
          count: { type: 'integer', format: 'int64', minimum: 0 },
          tags: { type: 'array', prefixItems: [{ type: 'string' }] },
        },
        $defs: { id: { type: 'string', pattern: '^[a-z0-9-]{1,36}$' } },
      }),
    ).toEqual([]);
    expect(
      issuesOf({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: { a: { type: 'string' } },
        definitions: { b: { type: 'number' } },
      }),
    ).toEqual([]);
  });

  it('should name the failing field of a schema its meta-schema rejects', () => {
    expect(issuesOf({ type: 'object', properties: { a: { type: 'strin' } } })).toEqual([
      { path: 'input_schema.properties.a.type', message: anyText },
    ]);
    expect(issuesOf({ type: 'object', required: 'a' })[0]?.path).toBe('input_schema.required');
  });

  it('should refuse a root that is not an object schema', () => {
    expect(issuesOf({ type: 'string' })[0]?.path).toBe('input_schema.type');
    expect(issuesOf({ properties: {} })[0]?.path).toBe('input_schema.type');
  });

  it('should refuse unsupported dialects and unresolvable references', () => {
    expect(
      issuesOf({ $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object' })[0]
        ?.path,
    ).toBe('input_schema.$schema');
    expect(
      issuesOf({ type: 'object', properties: { a: { $ref: 'https://example.com/s.json' } } })[0]
        ?.path,
    ).toBe('input_schema');
  });

  it.each([
    ['^(a+)+$', 'input_schema.properties.a.pattern'],
    ['(x*)*y', 'input_schema.properties.a.pattern'],
    ['[', 'input_schema.properties.a.pattern'],
    ['a'.repeat(TOOL_LIMITS.patternMaxLength + 1), 'input_schema.properties.a.pattern'],
  ])('should refuse the dangerous or broken pattern %s', (pattern, path) => {
    expect(issuesOf({ type: 'object', properties: { a: { type: 'string', pattern } } })).toEqual([
      { path, message: anyText },
    ]);
  });

  it('should check patterns wherever they sit: nested, in $defs, and as patternProperties keys', () => {
    const paths = issuesOf({
      type: 'object',
      properties: { list: { type: 'array', items: { type: 'string', pattern: '(a|a)*(b+)+' } } },
      patternProperties: { '^(x+)+$': { type: 'string' } },
      $defs: { d: { anyOf: [{ pattern: '((ab)*)*' }] } },
    }).map((found) => found.path);
    expect(paths.sort()).toEqual([
      'input_schema.$defs.d.anyOf.0.pattern',
      'input_schema.patternProperties.^(x+)+$',
      'input_schema.properties.list.items.pattern',
    ]);
  });

  it('should bound size and depth before compiling anything', () => {
    const big = {
      type: 'object',
      properties: {
        a: { type: 'string', description: 'x'.repeat(TOOL_LIMITS.inputSchemaMaxBytes) },
      },
    };
    expect(issuesOf(big)[0]?.message).toMatch(/at most/);
    let deep: Record<string, unknown> = { type: 'string' };
    for (let depth = 0; depth < 100; depth += 1) deep = { type: 'object', properties: { a: deep } };
    expect(issuesOf(deep)[0]?.message).toMatch(/deeper/);
  });

  it('should not keep client schemas (or their $id) between checks', () => {
    const schema = { $id: 'https://example.com/tool', type: 'object', properties: {} };
    expect(issuesOf(schema)).toEqual([]);
    expect(issuesOf({ ...schema, properties: { other: { type: 'string' } } })).toEqual([]);
  });
});

describe(reservedInputs.name, () => {
  it('should find reserved variables among the top-level properties only', () => {
    expect(
      reservedInputs({
        type: 'object',
        properties: { member_id: {}, note: { type: 'object', properties: { project_id: {} } } },
      }),
    ).toEqual(['member_id']);
    expect(reservedInputs({ type: 'object' })).toEqual([]);
  });
});
