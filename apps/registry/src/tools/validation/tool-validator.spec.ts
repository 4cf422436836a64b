import { DomainError, TOOL_ERROR_DETAILS } from '@tengine/contracts';

import { validateToolDraft, type ToolDraft, type ToolValidationContext } from './tool-validator.js';

function draft(overrides: Partial<ToolDraft> = {}): ToolDraft {
  return {
    name: 'create_ticket',
    description: 'Open a support ticket',
    method: 'POST',
    base_url: 'https://helpdesk.example.com',
    endpoint_path: '/tickets',
    query_template: null,
    header_template: null,
    body_template: { subject: '{{subject}}', requester: '{{member_id}}' },
    input_schema: { type: 'object', properties: { subject: { type: 'string' } } },
    auth_strategy: 'none',
    require_member: true,
    is_enabled: true,
    timeout_ms: 10_000,
    required_scope: null,
    annotations: {},
    ...overrides,
  };
}

const context: ToolValidationContext = {
  allowHttpHosts: new Set(),
  hasSecret: false,
  newSecretGiven: false,
};

function failure(
  value: ToolDraft,
  given = context,
): { code: string; message: string; details: unknown } {
  try {
    validateToolDraft(value, given);
  } catch (error) {
    if (error instanceof DomainError) {
      return { code: error.code, message: error.message, details: error.details };
    }
    throw error;
  }
  throw new Error('the draft was accepted');
}

describe(validateToolDraft.name, () => {
  it('should accept a valid draft and normalize its base_url', () => {
    expect(
      validateToolDraft(draft({ base_url: 'https://HELPDESK.example.com/' }), context),
    ).toEqual(draft());
  });

  it('should name the template that uses {{member_id}} without require_member, with the reference detail', () => {
    expect(failure(draft({ require_member: false }))).toEqual({
      code: 'REGISTRY_TOOL_INVALID',
      message: TOOL_ERROR_DETAILS.memberIdWithoutMember,
      details: { field: 'body_template.requester' },
    });
  });

  it('should require a secret for bearer and hmac_signature, whoever holds it', () => {
    expect(failure(draft({ auth_strategy: 'bearer' })).message).toBe(
      TOOL_ERROR_DETAILS.bearerSecretRequired,
    );
    expect(failure(draft({ auth_strategy: 'hmac_signature' })).message).toBe(
      TOOL_ERROR_DETAILS.hmacSecretRequired,
    );
    expect(() =>
      validateToolDraft(draft({ auth_strategy: 'hmac_signature' }), {
        ...context,
        hasSecret: true,
      }),
    ).not.toThrow();
  });

  it('should check the JSON Schema (422) before the registration rules (400)', () => {
    const result = failure(
      draft({ base_url: 'http://x.example.com', input_schema: { type: 'object', required: 1 } }),
    );
    expect(result.code).toBe('VALIDATION_FAILED');
  });

  it('should report every undeclared template variable with its field', () => {
    const result = failure(
      draft({
        endpoint_path: '/queues/{{queue}}/tickets',
        header_template: { 'X-Priority': '{{priority}}' },
      }),
    );
    expect(result.code).toBe('VALIDATION_FAILED');
    expect(result.details).toEqual({
      issues: [
        {
          path: 'endpoint_path',
          message: 'uses {{queue}}, which is not a property of input_schema',
        },
        {
          path: 'header_template.X-Priority',
          message: 'uses {{priority}}, which is not a property of input_schema',
        },
      ],
    });
  });

  it.each([
    ['//evil.example.com/x', 'endpoint_path must not start with //'],
    [
      '/tickets?x=1',
      'endpoint_path must not contain "?" or "#": put query parameters in query_template',
    ],
  ])('should refuse the endpoint_path %s', (endpointPath, message) => {
    expect(failure(draft({ endpoint_path: endpointPath })).message).toBe(message);
  });

  it('should refuse headers tengine sets and values that could split a header', () => {
    const result = failure(
      draft({
        header_template: { Host: 'x', 'X-Tengine-Signature': 'y', 'X-Ok': 'a\r\nInjected: 1' },
      }),
    );
    expect(
      (result.details as { issues: Array<{ path: string }> }).issues.map((found) => found.path),
    ).toEqual([
      'header_template.Host',
      'header_template.X-Tengine-Signature',
      'header_template.X-Ok',
    ]);
  });
});
