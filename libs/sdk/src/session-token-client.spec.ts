import { generateKeyPairSync } from 'node:crypto';

import { decodeJwt, decodeProtectedHeader } from 'jose';

import { createMemberAssertion } from './member-assertion.js';
import { SessionTokenClient, TengineApiError } from './session-token-client.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const signing = { privateKey: pem, kid: 'k1', alg: 'ES256' as const, projectId: 'p1' };

describe(createMemberAssertion.name, () => {
  it('should produce the claims tengine requires, with a fresh jti each time', async () => {
    const first = await createMemberAssertion({ ...signing, memberExternalId: 'user-1' });
    const second = await createMemberAssertion({ ...signing, memberExternalId: 'user-1' });
    expect(decodeProtectedHeader(first)).toMatchObject({ alg: 'ES256', kid: 'k1' });
    const claims = decodeJwt(first);
    expect(claims).toMatchObject({ aud: 'tengine:project:p1', sub: 'user-1' });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(60);
    expect(claims.jti).not.toBe(decodeJwt(second).jti);
  });

  it('should refuse lifetimes tengine would refuse', async () => {
    await expect(
      createMemberAssertion({ ...signing, memberExternalId: 'u', ttlSeconds: 61 }),
    ).rejects.toThrow(RangeError);
    await expect(createMemberAssertion({ ...signing, memberExternalId: '' })).rejects.toThrow(
      TypeError,
    );
  });
});

describe(SessionTokenClient.name, () => {
  function fakeTengine(expiresInMs: number) {
    const requests: Array<{
      url: string;
      body: { member_assertion: string };
      authorization: string;
    }> = [];
    const fetchImpl = (async (url: URL, init: RequestInit) => {
      const body = JSON.parse(init.body as string) as { member_assertion: string };
      requests.push({
        url: url.toString(),
        body,
        authorization: (init.headers as Record<string, string>)['authorization'] ?? '',
      });
      const sub = String(decodeJwt(body.member_assertion).sub);
      if (sub === 'blocked') {
        return new Response(
          JSON.stringify({
            detail: 'Invalid member assertion: KEY_NOT_FOUND',
            code: 'IDENTITY_INVALID_ASSERTION',
          }),
          { status: 401 },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      return new Response(
        JSON.stringify({
          session_token: `tng_mst_${sub}_${requests.length}`,
          expires_at: new Date(Date.now() + expiresInMs).toISOString(),
          member_id: `m-${sub}`,
        }),
        { status: 200 },
      );
    }) as unknown as typeof fetch;
    return { requests, fetchImpl };
  }

  it('should mint once per member, share concurrent mints, and reuse the cached token', async () => {
    const tengine = fakeTengine(15 * 60_000);
    const client = new SessionTokenClient({
      baseUrl: 'https://t.example',
      apiKey: 'tengine_k',
      signing,
      fetch: tengine.fetchImpl,
    });
    const [first, second] = await Promise.all([client.getToken('a'), client.getToken('a')]);
    expect(first.token).toBe(second.token);
    expect((await client.getToken('a')).token).toBe(first.token);
    await client.getToken('b');
    expect(tengine.requests).toHaveLength(2);
    expect(tengine.requests[0]?.url).toBe('https://t.example/api/v1/mcp/session-token');
    expect(tengine.requests[0]?.authorization).toBe('Bearer tengine_k');
  });

  it('should refresh a token inside the refresh margin', async () => {
    const tengine = fakeTengine(30_000);
    const client = new SessionTokenClient({
      baseUrl: 'https://t.example',
      apiKey: 'k',
      signing,
      refreshMarginSeconds: 60,
      fetch: tengine.fetchImpl,
    });
    const first = await client.getToken('a');
    const second = await client.getToken('a');
    expect(second.token).not.toBe(first.token);
    expect(tengine.requests).toHaveLength(2);
  });

  it('should surface tengine errors with status, detail and code', async () => {
    const tengine = fakeTengine(60_000);
    const client = new SessionTokenClient({
      baseUrl: 'https://t.example',
      apiKey: 'k',
      signing,
      fetch: tengine.fetchImpl,
    });
    const error = await client.getToken('blocked').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TengineApiError);
    expect(error).toMatchObject({
      status: 401,
      detail: 'Invalid member assertion: KEY_NOT_FOUND',
      code: 'IDENTITY_INVALID_ASSERTION',
    });
  });
});
