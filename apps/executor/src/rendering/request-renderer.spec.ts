import {
  encodeRfc3986,
  isReservedHeader,
  renderRequest,
  RenderError,
  type RenderContext,
  type ToolTemplate,
} from './request-renderer.js';

const PROJECT = '00000000-0000-4000-8000-000000000001';
const INTEGRATION = '00000000-0000-4000-8000-000000000002';
const MEMBER = '00000000-0000-4000-8000-000000000003';

function tool(overrides: Partial<ToolTemplate> = {}): ToolTemplate {
  return {
    method: 'GET',
    base_url: 'https://api.example.com',
    endpoint_path: '/users/{{id}}',
    query_template: null,
    header_template: null,
    body_template: null,
    ...overrides,
  };
}

function context(args: RenderContext['arguments'] = {}, member = true): RenderContext {
  return {
    arguments: args,
    reserved: {
      project_id: PROJECT,
      integration_id: INTEGRATION,
      ...(member ? { member_id: MEMBER } : {}),
    },
  };
}

function renderError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof RenderError) return error.reason;
    throw error;
  }
  throw new Error('expected a RenderError');
}

describe(renderRequest.name, () => {
  describe('path', () => {
    it.each([
      ['42', '/users/42'],
      ['../admin', '/users/..%2Fadmin'],
      ['a/b', '/users/a%2Fb'],
      ['a?x=1', '/users/a%3Fx%3D1'],
      ['%2e%2e', '/users/%252e%252e'],
      ['..%2f..%2fadmin', '/users/..%252f..%252fadmin'],
      ['a#frag', '/users/a%23frag'],
      ['a b', '/users/a%20b'],
      ['\\..\\admin', '/users/%5C..%5Cadmin'],
      ["it's (x)*", '/users/it%27s%20%28x%29%2A'],
      ['é/ü', '/users/%C3%A9%2F%C3%BC'],
      ['...', '/users/...'],
    ])('should keep %j inside one segment', (id, path) => {
      const rendered = renderRequest(tool(), context({ id }));
      expect(rendered.path).toBe(path);
      expect(rendered.path.split('/')).toHaveLength(3);
      expect(rendered.origin).toBe('https://api.example.com');
      expect(rendered.query).toBe('');
    });

    it.each([['..'], ['.'], ['']])('should refuse a segment that renders as %j', (id) => {
      expect(renderError(() => renderRequest(tool(), context({ id })))).toMatch(/segment/);
    });

    it('should allow dots that do not make a whole segment, and numbers and booleans', () => {
      expect(
        renderRequest(tool({ endpoint_path: '/files/{{name}}.txt' }), context({ name: '..' })).path,
      ).toBe('/files/...txt');
      expect(
        renderRequest(
          tool({ endpoint_path: '/v/{{n}}/{{flag}}' }),
          context({ n: 3.5, flag: false }),
        ).path,
      ).toBe('/v/3.5/false');
    });

    it('should refuse a path variable without a value', () => {
      expect(renderError(() => renderRequest(tool(), context({})))).toBe(
        'path variable "id" has no value',
      );
    });

    it('should never let a variable choose the host', () => {
      const rendered = renderRequest(
        tool({ endpoint_path: '/{{target}}' }),
        context({ target: '//evil.example.com/x' }),
      );
      expect(rendered.origin).toBe('https://api.example.com');
      expect(rendered.path).toBe('/%2F%2Fevil.example.com%2Fx');
      expect(new URL(rendered.path, rendered.origin).host).toBe('api.example.com');
    });

    it('should fill reserved variables from the principal only', () => {
      const rendered = renderRequest(
        tool({ endpoint_path: '/p/{{project_id}}/i/{{integration_id}}/m/{{member_id}}' }),
        context({ project_id: 'forged', member_id: 'forged' }),
      );
      expect(rendered.path).toBe(`/p/${PROJECT}/i/${INTEGRATION}/m/${MEMBER}`);
      expect(
        renderError(() =>
          renderRequest(tool({ endpoint_path: '/m/{{member_id}}' }), context({}, false)),
        ),
      ).toBe('path variable "member_id" has no value');
    });

    it('should accept spaces inside placeholders and encode illegal literal characters', () => {
      expect(
        renderRequest(tool({ endpoint_path: '/a b/{{ id }}' }), context({ id: 'x' })).path,
      ).toBe('/a%20b/x');
    });
  });

  describe('query', () => {
    it('should encode values so they cannot add parameters', () => {
      const rendered = renderRequest(
        tool({
          endpoint_path: '/search',
          query_template: { q: '{{q}}', limit: '10', tag: 'x-{{tag}}' },
        }),
        context({ q: 'a&admin=true#x', tag: 'y z' }),
      );
      expect(rendered.query).toBe('q=a%26admin%3Dtrue%23x&limit=10&tag=x-y%20z');
      expect([...new URLSearchParams(rendered.query).keys()]).toEqual(['q', 'limit', 'tag']);
    });

    it('should leave out an absent optional value and repeat arrays', () => {
      const rendered = renderRequest(
        tool({ endpoint_path: '/s', query_template: { q: '{{q}}', tag: '{{tags}}' } }),
        context({ tags: ['a', 'b&c'] }),
      );
      expect(rendered.query).toBe('tag=a&tag=b%26c');
    });

    it('should render query entries written inline in the path', () => {
      const rendered = renderRequest(
        tool({ endpoint_path: '/s?q={{q}}&fixed=1', query_template: { page: '2' } }),
        context({ q: 'x y' }),
      );
      expect(rendered.path).toBe('/s');
      expect(rendered.query).toBe('q=x%20y&fixed=1&page=2');
    });
  });

  describe('headers', () => {
    it('should render values and refuse CR/LF and control characters', () => {
      const template = tool({ endpoint_path: '/', header_template: { 'X-Account': 'acct-{{a}}' } });
      expect(renderRequest(template, context({ a: '7' })).headers).toEqual([
        ['X-Account', 'acct-7'],
      ]);
      for (const value of ['7\r\nX-Admin: 1', '7\nSet-Cookie: a', '7\r', 'a\u0000b', 'a\u0007b']) {
        expect(renderError(() => renderRequest(template, context({ a: value })))).toMatch(
          /header "X-Account"/,
        );
      }
      expect(renderError(() => renderRequest(template, context({ a: '✓' })))).toMatch(
        /not allowed/,
      );
      expect(renderRequest(template, context({ a: 'tab\there' })).headers).toEqual([
        ['X-Account', 'acct-tab\there'],
      ]);
    });

    it('should leave out absent optional values and ignore reserved header names', () => {
      const rendered = renderRequest(
        tool({
          endpoint_path: '/',
          header_template: {
            'X-Opt': '{{missing}}',
            Host: 'evil.example.com',
            'Content-Length': '0',
            'X-Tengine-Member-Id': 'forged',
            'Idempotency-Key': 'forged',
            'webhook-signature': 'v1,forged',
            Authorization: 'Basic {{token}}',
          },
        }),
        context({ token: 'dXNlcjpwYXNz' }),
      );
      // Credentials never come from a template (the registry refuses it too): use an auth strategy.
      expect(rendered.headers).toEqual([]);
      expect(isReservedHeader('x-tengine-run-id')).toBe(true);
      expect(
        renderError(() =>
          renderRequest(
            tool({ endpoint_path: '/', header_template: { 'Bad Name': 'x' } }),
            context(),
          ),
        ),
      ).toMatch(/not valid/);
    });
  });

  describe('body', () => {
    it('should substitute JSON values, never text into JSON', () => {
      const rendered = renderRequest(
        tool({
          method: 'POST',
          endpoint_path: '/tickets',
          body_template: {
            title: '{{title}}',
            count: '{{count}}',
            tags: '{{tags}}',
            meta: { note: 'by {{member_id}}: {{title}}', project: '{{project_id}}' },
            list: ['{{count}}', '{{missing}}', 'fixed', 3, true, null],
            optional: '{{missing}}',
          },
        }),
        context({ title: 'a", "admin": true, "x": "', count: 3, tags: ['x', { y: 1 }] }),
      );
      const body = JSON.parse(rendered.body ?? 'null') as Record<string, unknown>;
      expect(body).toEqual({
        title: 'a", "admin": true, "x": "',
        count: 3,
        tags: ['x', { y: 1 }],
        meta: { note: `by ${MEMBER}: a", "admin": true, "x": "`, project: PROJECT },
        list: [3, null, 'fixed', 3, true, null],
      });
      expect(body).not.toHaveProperty('admin');
      expect(body).not.toHaveProperty('optional');
    });

    it('should send a whole-argument body as its JSON value and nothing for an absent one', () => {
      const template = tool({ method: 'PUT', endpoint_path: '/x', body_template: '{{body}}' });
      expect(renderRequest(template, context({ body: { a: [1, 2] } })).body).toBe('{"a":[1,2]}');
      expect(renderRequest(template, context({})).body).toBeNull();
      expect(
        renderRequest(tool({ method: 'GET', body_template: { a: 1 } }), context({ id: '1' })).body,
      ).toBeNull();
    });
  });
});

describe(encodeRfc3986.name, () => {
  it('should leave only unreserved characters unencoded', () => {
    expect(encodeRfc3986("AZaz09-._~!*'() /?#[]@$&+,;=%")).toBe(
      'AZaz09-._~%21%2A%27%28%29%20%2F%3F%23%5B%5D%40%24%26%2B%2C%3B%3D%25',
    );
  });

  it('should refuse lone surrogates', () => {
    expect(() => encodeRfc3986('\ud800')).toThrow(RenderError);
  });
});
