import { createHmac } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import { canonicalRequestString } from './canonical-request.js';
import {
  MemoryReplayStore,
  RequestVerificationError,
  verifyRequest,
  type VerifyRequestOptions,
} from './verify-request.js';

const KEY = Buffer.from('tengine-test-secret-0123456789ab');
const SECRET = `whsec_${KEY.toString('base64')}`;

/** Signs a request the way tengine's executor does (Standard Webhooks + canonical signature). */
function signedRequest(
  overrides: { timestamp?: number; url?: string; method?: string; body?: string } = {},
): VerifyRequestOptions {
  const timestamp = overrides.timestamp ?? Math.floor(Date.now() / 1000);
  const url = overrides.url ?? '/orders/42?b=2&a=1';
  const method = overrides.method ?? 'POST';
  const body = overrides.body ?? '{"qty":1}';
  const id = `msg_${Math.random().toString(36).slice(2)}_1`;
  const identity = {
    projectId: '00000000-0000-4000-8000-000000000001',
    integrationId: '00000000-0000-4000-8000-000000000002',
    memberId: '',
    memberExternalId: '',
    idempotencyKey: 'tng_abc',
  };
  const canonical = canonicalRequestString({
    id,
    timestamp: String(timestamp),
    method,
    target: url,
    body,
    ...identity,
  });
  return {
    secret: SECRET,
    method,
    url,
    body,
    replayStore: new MemoryReplayStore(),
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': new Webhook(SECRET).sign(id, new Date(timestamp * 1000), body),
      'X-Tengine-Signature': `v1,${createHmac('sha256', KEY).update(canonical).digest('base64')}`,
      'X-Tengine-Project-Id': identity.projectId,
      'X-Tengine-Integration-Id': identity.integrationId,
      'Idempotency-Key': identity.idempotencyKey,
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ACCEPTED';
  } catch (error) {
    if (error instanceof RequestVerificationError) return error.code;
    throw error;
  }
}

describe(verifyRequest.name, () => {
  it('should accept a signed request and return its identity', async () => {
    const request = signedRequest();
    await expect(verifyRequest(request)).resolves.toMatchObject({
      projectId: '00000000-0000-4000-8000-000000000001',
      memberId: null,
      memberExternalId: null,
      idempotencyKey: 'tng_abc',
    });
  });

  it('should read headers from a Fetch Headers object too', async () => {
    const request = signedRequest();
    const headers = new Headers(request.headers as Record<string, string>);
    await expect(verifyRequest({ ...request, headers })).resolves.toBeDefined();
  });

  it('should detect tampering with the path, method or body', async () => {
    const request = signedRequest();
    expect(await codeOf(verifyRequest({ ...request, url: '/orders/43?b=2&a=1' }))).toBe(
      'INVALID_CANONICAL_SIGNATURE',
    );
    expect(await codeOf(verifyRequest({ ...request, method: 'PUT' }))).toBe(
      'INVALID_CANONICAL_SIGNATURE',
    );
    expect(await codeOf(verifyRequest({ ...request, body: '{"qty":9}' }))).toBe(
      'INVALID_SIGNATURE',
    );
  });

  it('should never accept more than five minutes of clock difference', async () => {
    const old = signedRequest({ timestamp: Math.floor(Date.now() / 1000) - 400 });
    expect(await codeOf(verifyRequest({ ...old, toleranceSeconds: 3600 }))).toBe(
      'TIMESTAMP_OUT_OF_TOLERANCE',
    );
    const slightlyOld = signedRequest({ timestamp: Math.floor(Date.now() / 1000) - 30 });
    expect(await codeOf(verifyRequest({ ...slightlyOld, toleranceSeconds: 10 }))).toBe(
      'TIMESTAMP_OUT_OF_TOLERANCE',
    );
  });

  it('should accept an id once', async () => {
    const request = signedRequest();
    await verifyRequest(request);
    expect(await codeOf(verifyRequest(request))).toBe('REPLAYED');
  });

  it('should refuse a request without the headers', async () => {
    expect(
      await codeOf(verifyRequest({ ...signedRequest(), headers: { 'webhook-id': 'x' } })),
    ).toBe('MISSING_HEADERS');
  });
});

describe(canonicalRequestString.name, () => {
  it('should follow the documented layout', () => {
    expect(
      canonicalRequestString({
        id: 'msg_1',
        timestamp: '1700000000',
        method: 'get',
        target: '/a%7eb/c%2Fd?z=1&a=%20',
        body: '',
        projectId: 'p',
        integrationId: 'i',
        memberId: 'm',
        memberExternalId: 'e',
        idempotencyKey: 'k',
      }),
    ).toBe(
      [
        'tengine-request-v1',
        'msg_1',
        '1700000000',
        'GET',
        '/a~b/c%2Fd',
        'a=%20&z=1',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'p',
        'i',
        'm',
        'e',
        'k',
      ].join('\n'),
    );
  });
});
