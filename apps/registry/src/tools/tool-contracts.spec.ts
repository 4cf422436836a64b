import { randomUUID } from 'node:crypto';

import {
  DomainError,
  OPENAPI_DOCUMENT_MAX_BYTES,
  parseRpcRequest,
  Subjects,
  TOOL_LIMITS,
} from '@tengine/contracts';

const projectId = randomUUID();

function issuePaths(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof DomainError && error.code === 'VALIDATION_FAILED') {
      return (error.details?.['issues'] as Array<{ path: string }>).map((issue) => issue.path);
    }
    throw error;
  }
  return [];
}

describe('registry tool contracts', () => {
  it('should fill the documented defaults of a create request', () => {
    expect(
      parseRpcRequest(Subjects.registry.toolCreate, {
        projectId,
        name: 'ping',
        method: 'GET',
        base_url: 'https://api.example.com',
        endpoint_path: '/ping',
      }),
    ).toEqual({
      projectId,
      name: 'ping',
      description: '',
      method: 'GET',
      base_url: 'https://api.example.com',
      endpoint_path: '/ping',
      query_template: null,
      header_template: null,
      body_template: null,
      input_schema: { type: 'object', properties: {} },
      auth_strategy: 'none',
      require_member: false,
      is_enabled: true,
      timeout_ms: TOOL_LIMITS.timeoutDefaultMs,
      required_scope: null,
      annotations: {},
    });
  });

  it('should leave absent PATCH fields out, so they keep their stored values', () => {
    const patch = parseRpcRequest(Subjects.registry.toolPatch, {
      projectId,
      toolId: randomUUID(),
      description: 'new',
      encrypted_auth_secret: null,
    });
    expect(Object.keys(patch).sort()).toEqual([
      'description',
      'encrypted_auth_secret',
      'projectId',
      'toolId',
    ]);
  });

  it('should take a tool by id or by name, never both or neither', () => {
    expect(issuePaths(() => parseRpcRequest(Subjects.registry.toolGet, { projectId }))).toEqual([
      '(root)',
    ]);
    expect(
      issuePaths(() =>
        parseRpcRequest(Subjects.registry.toolGet, { projectId, toolId: randomUUID(), name: 'x' }),
      ),
    ).toEqual(['(root)']);
    expect(
      issuePaths(() => parseRpcRequest(Subjects.registry.toolGet, { projectId, name: 'x' })),
    ).toEqual([]);
  });

  it('should bound the import document by its encoded size', () => {
    const request = (document: string) => () =>
      parseRpcRequest(Subjects.registry.toolImport, {
        projectId,
        document,
        base_url: 'https://api.example.com',
      });
    expect(issuePaths(request('a'.repeat(OPENAPI_DOCUMENT_MAX_BYTES - 2)))).toEqual([]);
    // Newlines take two bytes once JSON-encoded.
    expect(issuePaths(request('\n'.repeat(OPENAPI_DOCUMENT_MAX_BYTES / 2)))).toEqual(['document']);
  });

  it('should refuse a client-supplied project in the wrong place and unknown fields', () => {
    expect(
      issuePaths(() =>
        parseRpcRequest(Subjects.registry.toolList, {
          projectId,
          scopes: ['mcp:connect'],
          isMember: false,
          project_id: randomUUID(),
        }),
      ),
    ).toEqual(['(root)']);
  });
});
