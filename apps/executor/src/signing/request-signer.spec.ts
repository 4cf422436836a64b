import { createHmac } from 'node:crypto';

import { Webhook, WebhookVerificationError } from 'standardwebhooks';

import {
  canonicalQuery,
  canonicalRequestString,
  MemoryReplayStore,
  RequestVerificationError,
  verifyRequest,
  type CanonicalRequestParts,
} from '@tengine/sdk';

import {
  authHeaders,
  CANONICAL_SIGNATURE_HEADER,
  prepareAuth,
  SecretUnusableError,
  secretsOf,
} from './request-signer.js';

const SECRET = `whsec_${Buffer.from('tengine-test-secret-0123456789ab').toString('base64')}`;
/** HMAC-SHA256 of the documented canonical string with SECRET's key (README test vector). */
const HMAC_OF_VECTOR = 'P43eDHAOzW7xWMdwejDOah8u444VT7ZNkuYH+9k/OPc=';
const OLD_SECRET = `whsec_${Buffer.from('tengine-old-secret-0123456789abc').toString('base64')}`;

function parts(overrides: Partial<CanonicalRequestParts> = {}): CanonicalRequestParts {
  return {
    id: 'msg_01JD0000000000000000000000_1',
    timestamp: String(Math.floor(Date.now() / 1000)),
    method: 'POST',
    target: '/users/a%2Fb/orders?z=1&a=2&a=1',
    body: '{"amount":5}',
    projectId: '00000000-0000-4000-8000-000000000001',
    integrationId: '00000000-0000-4000-8000-000000000002',
    memberId: '00000000-0000-4000-8000-000000000003',
    memberExternalId: 'user%40example.com',
    idempotencyKey: 'tng_key',
    ...overrides,
  };
}

/** Headers as a receiving server sees them, plus the identity headers tengine sends. */
function received(
  signed: Array<[string, string]>,
  of: CanonicalRequestParts,
): Record<string, string> {
  return {
    ...Object.fromEntries(signed.map(([name, value]) => [name.toLowerCase(), value])),
    'x-tengine-project-id': of.projectId,
    'x-tengine-integration-id': of.integrationId,
    'x-tengine-member-id': of.memberId,
    'x-tengine-member-external-id': of.memberExternalId,
    'idempotency-key': of.idempotencyKey,
  };
}

describe('canonical request string', () => {
  it('should match the documented test vector', () => {
    const vector = canonicalRequestString(parts({ timestamp: '1700000000' }));
    expect(vector).toBe(
      [
        'tengine-request-v1',
        'msg_01JD0000000000000000000000_1',
        '1700000000',
        'POST',
        '/users/a%2Fb/orders',
        'a=1&a=2&z=1',
        // sha256 of the body {"amount":5}
        '7e84cbf0f7a7c92c037058665d66152f8eb8580ab2534e52c877bccceb9cc7bf',
        '00000000-0000-4000-8000-000000000001',
        '00000000-0000-4000-8000-000000000002',
        '00000000-0000-4000-8000-000000000003',
        'user%40example.com',
        'tng_key',
      ].join('\n'),
    );
    const key = Buffer.from('tengine-test-secret-0123456789ab');
    expect(createHmac('sha256', key).update(vector).digest('base64')).toBe(HMAC_OF_VECTOR);
  });

  it('should sort and normalise the query', () => {
    expect(canonicalQuery('b=2&a=%7e&a=1&c')).toBe('a=1&a=~&b=2&c=');
    expect(canonicalQuery('')).toBe('');
  });
});

describe(authHeaders.name, () => {
  it('should send a bearer token and nothing else', () => {
    const auth = prepareAuth('bearer', 'token-123');
    expect(authHeaders(auth, parts(), new Date())).toEqual([['Authorization', 'Bearer token-123']]);
    expect(authHeaders(prepareAuth('none', null), parts(), new Date())).toEqual([]);
  });

  it('should produce Standard Webhooks headers that the standardwebhooks verifier accepts', () => {
    const request = parts();
    const headers = received(
      authHeaders(prepareAuth('hmac_signature', SECRET), request, new Date()),
      request,
    );
    expect(headers['webhook-id']).toBe(request.id);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(SECRET).verify(request.body as string, headers)).toEqual({ amount: 5 });
    expect(() => new Webhook(SECRET).verify('{"amount":6}', headers)).toThrow(
      WebhookVerificationError,
    );
  });

  it('should sign with every secret during a rotation, newest first', () => {
    const request = parts();
    const headers = received(
      authHeaders(prepareAuth('hmac_signature', `${SECRET} ${OLD_SECRET}`), request, new Date()),
      request,
    );
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(headers[CANONICAL_SIGNATURE_HEADER.toLowerCase()]?.split(' ')).toHaveLength(2);
    expect(() => new Webhook(SECRET).verify(request.body as string, headers)).not.toThrow();
    expect(() => new Webhook(OLD_SECRET).verify(request.body as string, headers)).not.toThrow();
  });

  it('should use a raw secret as its bytes, verifiable with format raw', () => {
    const request = parts();
    const headers = received(
      authHeaders(prepareAuth('hmac_signature', 'plain-secret-value'), request, new Date()),
      request,
    );
    expect(() =>
      new Webhook('plain-secret-value', { format: 'raw' }).verify(request.body as string, headers),
    ).not.toThrow();
  });

  it('should refuse unusable secrets and list secrets for scrubbing', () => {
    expect(() => prepareAuth('bearer', null)).toThrow(SecretUnusableError);
    expect(() => prepareAuth('bearer', 'a\r\nb')).toThrow(SecretUnusableError);
    expect(() => prepareAuth('hmac_signature', 'whsec_not*base64')).toThrow(SecretUnusableError);
    expect(() => prepareAuth('hmac_signature', '  ')).toThrow(SecretUnusableError);
    expect(secretsOf(prepareAuth('hmac_signature', SECRET))).toEqual([SECRET, SECRET.slice(6)]);
  });
});

describe('verifyRequest (customer SDK) against tengine signatures', () => {
  async function verify(
    request: CanonicalRequestParts,
    options: {
      secret?: string | string[];
      signedWith?: string;
      signedAt?: Date;
      tamper?: (headers: Record<string, string>) => void;
      method?: string;
      url?: string;
      body?: string;
      store?: MemoryReplayStore;
    } = {},
  ) {
    const headers = received(
      authHeaders(
        prepareAuth('hmac_signature', options.signedWith ?? SECRET),
        request,
        options.signedAt ?? new Date(Number(request.timestamp) * 1000),
      ),
      request,
    );
    options.tamper?.(headers);
    return verifyRequest({
      secret: options.secret ?? SECRET,
      method: options.method ?? request.method,
      url: options.url ?? request.target,
      headers,
      body: options.body ?? request.body,
      replayStore: options.store ?? new MemoryReplayStore(),
    });
  }

  async function failure(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof RequestVerificationError) return error.code;
      throw error;
    }
    return 'ACCEPTED';
  }

  it('should accept a genuine request and return the identity', async () => {
    const request = parts();
    await expect(verify(request)).resolves.toMatchObject({
      id: request.id,
      projectId: request.projectId,
      memberId: request.memberId,
      memberExternalId: 'user@example.com',
      idempotencyKey: 'tng_key',
    });
  });

  it('should detect a changed method, path, query, body or identity', async () => {
    const request = parts();
    expect(await failure(verify(request, { method: 'DELETE' }))).toBe(
      'INVALID_CANONICAL_SIGNATURE',
    );
    expect(await failure(verify(request, { url: '/users/admin/orders?z=1&a=2&a=1' }))).toBe(
      'INVALID_CANONICAL_SIGNATURE',
    );
    expect(await failure(verify(request, { url: '/users/a%2Fb/orders?z=1&a=2' }))).toBe(
      'INVALID_CANONICAL_SIGNATURE',
    );
    expect(
      await failure(
        verify(request, { tamper: (headers) => (headers['x-tengine-member-id'] = 'someone-else') }),
      ),
    ).toBe('INVALID_CANONICAL_SIGNATURE');
    expect(
      await failure(
        verify(request, { tamper: (headers) => (headers['x-tengine-project-id'] = 'other') }),
      ),
    ).toBe('INVALID_CANONICAL_SIGNATURE');
    expect(await failure(verify(request, { body: '{"amount":500}' }))).toBe('INVALID_SIGNATURE');
    expect(await failure(verify(request, { secret: OLD_SECRET }))).toBe('INVALID_SIGNATURE');
  });

  it('should accept a re-encoded but equal query (proxies reorder and re-escape)', async () => {
    const request = parts();
    await expect(
      verify(request, { url: '/users/a%2fb/orders?a=1&a=2&z=%31' }),
    ).resolves.toBeDefined();
  });

  it('should refuse replays and stale timestamps', async () => {
    const request = parts();
    const store = new MemoryReplayStore();
    await verify(request, { store });
    expect(await failure(verify(request, { store }))).toBe('REPLAYED');
    const stale = parts({ timestamp: String(Math.floor(Date.now() / 1000) - 400) });
    expect(await failure(verify(stale))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    const future = parts({ timestamp: String(Math.floor(Date.now() / 1000) + 400) });
    expect(await failure(verify(future))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(
      await failure(verify(request, { tamper: (headers) => delete headers['webhook-id'] })),
    ).toBe('MISSING_HEADERS');
  });

  it('should accept either secret during a rotation', async () => {
    const signedWith = `${SECRET} ${OLD_SECRET}`;
    await expect(verify(parts(), { signedWith, secret: OLD_SECRET })).resolves.toBeDefined();
    await expect(verify(parts(), { signedWith, secret: [SECRET] })).resolves.toBeDefined();
  });
});
