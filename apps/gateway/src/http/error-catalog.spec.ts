import { ERROR_CODES } from '@tengine/contracts';

import { httpErrorFor } from './error-catalog.js';
import { requestIdFrom } from './http-tracing.js';

describe(httpErrorFor.name, () => {
  it('should give every error code a status, a title and a fix', () => {
    for (const code of ERROR_CODES) {
      const spec = httpErrorFor(code);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.title.length).toBeGreaterThan(0);
      expect(spec.fix.length).toBeGreaterThan(10);
    }
  });

  it('should map transport failures to 503/504 and bad replies to 502', () => {
    expect(httpErrorFor('RPC_NO_RESPONDERS').status).toBe(503);
    expect(httpErrorFor('RPC_TRANSPORT_CLOSED').status).toBe(503);
    expect(httpErrorFor('RPC_TIMEOUT').status).toBe(504);
    expect(httpErrorFor('RPC_BAD_REPLY').status).toBe(502);
    expect(httpErrorFor('VALIDATION_FAILED').status).toBe(422);
    expect(httpErrorFor('INTERNAL').status).toBe(500);
  });
});

describe(requestIdFrom.name, () => {
  it('should keep a sane client request id and replace anything else', () => {
    expect(requestIdFrom('abc-123', () => 'new')).toBe('abc-123');
    expect(requestIdFrom('has space', () => 'new')).toBe('new');
    expect(requestIdFrom('x'.repeat(129), () => 'new')).toBe('new');
    expect(requestIdFrom(['a', 'b'], () => 'new')).toBe('new');
    expect(requestIdFrom(undefined, () => 'new')).toBe('new');
    expect(requestIdFrom('a\r\nSet-Cookie: x', () => 'new')).toBe('new');
  });
});
