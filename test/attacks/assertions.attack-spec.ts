import { createHmac, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';

import { assertionClaims, b64, handSignedJwt } from '../../apps/platform/test/support/jwt.js';
import { AttackGuard } from './support/guard.js';
import {
  createTenant,
  startAttackPlatform,
  type Answer,
  type AttackPlatform,
  type Tenant,
} from './support/platform.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/upstream.js';

/** A key pair as PEM (SPKI public, PKCS#8 private) plus the private KeyObject. */
function keyPair(type: 'ec-256' | 'ec-384' | 'ed25519' | 'rsa'): {
  publicKey: string;
  privateKey: KeyObject;
} {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: type === 'ec-256' ? 'P-256' : 'P-384' });
  return {
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: pair.privateKey,
  };
}

const keys = {
  ES256: keyPair('ec-256'),
  ES384: keyPair('ec-384'),
  Ed25519: keyPair('ed25519'),
  RS256: keyPair('rsa'),
  retired: keyPair('ec-256'),
  bob: keyPair('ec-256'),
};
const stranger = keyPair('ec-256');

/** One assertion attack: who presents it, and the reference's refusal it must get. */
interface AssertionAttack {
  readonly assertion: string;
  /** Whose API key presents it (default Alice). */
  readonly via?: 'alice' | 'bob';
  readonly status?: number;
  readonly detail: string;
}

const refused = (reason: string): string => `Invalid member assertion: ${reason}`;

describe('member-assertion attacks on session minting', () => {
  let platform: AttackPlatform;
  let upstream: RecordingUpstream;
  let guard: AttackGuard;
  let alice: Tenant;
  let bob: Tenant;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    platform = await startAttackPlatform();
    guard = new AttackGuard(platform, [upstream]);
    alice = await createTenant(platform, { environment: 'production' });
    bob = await createTenant(platform, { environment: 'production' });
    platform.secrets.add(alice.apiKey).add(bob.apiKey);
    for (const pair of Object.values(keys)) {
      platform.secrets.add(
        pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().split('\n')[1]!,
      );
    }
    const register = async (
      tenant: Tenant,
      kid: string,
      algorithm: string,
      publicKey: string,
    ): Promise<string> => {
      const answer = await platform.call('POST', '/api/v1/assertion-keys', {
        token: tenant.apiKey,
        body: { kid, algorithm, public_key: publicKey },
      });
      if (answer.status !== 201) throw new Error(`assertion key ${kid}: ${answer.text}`);
      return String(answer.body['id']);
    };
    for (const algorithm of ['ES256', 'ES384', 'Ed25519', 'RS256'] as const) {
      await register(alice, `kid-${algorithm}`, algorithm, keys[algorithm].publicKey);
    }
    const retired = await register(alice, 'kid-retired', 'ES256', keys.retired.publicKey);
    const deactivated = await platform.call(
      'POST',
      `/api/v1/assertion-keys/${retired}/deactivate`,
      { token: alice.apiKey },
    );
    if (deactivated.status !== 200) throw new Error(`deactivate: ${deactivated.text}`);
    await register(bob, 'kid-bob', 'ES256', keys.bob.publicKey);
    // Bob registered the very same public key under the same kid as Alice.
    await register(bob, 'kid-ES256', 'ES256', keys.ES256.publicKey);

    // Control: a well-formed assertion mints a session for Alice.
    const control = await mint(es256());
    if (control.status !== 200) throw new Error(`control mint failed: ${control.text}`);
    platform.secrets.add(String(control.body['session_token']));
  });

  afterAll(async () => {
    guard?.sweep();
    await platform?.close();
    await upstream?.close();
  });

  beforeEach(() => guard.begin());

  const mint = (assertion: string, via: 'alice' | 'bob' = 'alice'): Promise<Answer> =>
    platform.call('POST', '/api/v1/mcp/session-token', {
      token: via === 'alice' ? alice.apiKey : bob.apiKey,
      body: { member_assertion: assertion },
    });

  /** Rows that a successful mint would add: members and sessions. */
  const footprint = async (): Promise<Record<string, unknown>> => {
    const [row] = await platform.query(
      `SELECT (SELECT count(*) FROM identity.members)::int AS members,
              (SELECT count(*) FROM identity.sessions)::int AS sessions,
              (SELECT count(*) FROM identity.used_assertions)::int AS used`,
    );
    return row!;
  };

  const claims = (overrides: Record<string, unknown> = {}, project = alice.projectId) =>
    assertionClaims(project, { sub: `user-${randomUUID()}`, ...overrides });
  const now = (): number => Math.floor(Date.now() / 1000);

  /** An assertion signed by Alice's ES256 key, with header and claim overrides. */
  function es256(
    claimOverrides: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
  ): string {
    return handSignedJwt(
      { alg: 'ES256', kid: 'kid-ES256', typ: 'JWT', ...header },
      claims(claimOverrides),
      keys.ES256.privateKey,
    );
  }

  /** HMAC-SHA-2 "signed" with a public key as the secret (the algorithm-confusion attack). */
  function hmacWith(alg: 'HS256' | 'HS384' | 'HS512', kid: string, secret: string | Buffer) {
    const input = `${b64({ alg, kid, typ: 'JWT' })}.${b64(claims())}`;
    const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
    return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
  }

  const unsigned = (alg: string, signature = ''): string =>
    `${b64({ alg, kid: 'kid-ES256', typ: 'JWT' })}.${b64(claims())}.${signature}`;

  const attacks: Array<[string, () => AssertionAttack]> = [
    // Algorithm confusion: a symmetric MAC keyed with the registered public key.
    [
      'HS256 keyed with the RS256 public key PEM',
      () => ({
        assertion: hmacWith('HS256', 'kid-RS256', keys.RS256.publicKey),
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    [
      'HS256 keyed with the ES256 public key PEM',
      () => ({
        assertion: hmacWith('HS256', 'kid-ES256', keys.ES256.publicKey),
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    [
      'HS384 keyed with the ES384 public key PEM',
      () => ({
        assertion: hmacWith('HS384', 'kid-ES384', keys.ES384.publicKey),
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    [
      'HS512 keyed with the Ed25519 public key bytes',
      () => ({
        assertion: hmacWith('HS512', 'kid-Ed25519', Buffer.from(keys.Ed25519.publicKey)),
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    [
      'RS256 claimed for the ES256 key',
      () => ({
        assertion: handSignedJwt(
          { alg: 'RS256', kid: 'kid-ES256' },
          claims(),
          keys.RS256.privateKey,
        ),
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    [
      'PS256 claimed for the RS256 key',
      () => ({
        assertion: handSignedJwt(
          { alg: 'PS256', kid: 'kid-RS256' },
          claims(),
          keys.RS256.privateKey,
          'RS256',
        ),
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    [
      'ES384 claimed for the ES256 key',
      () => ({
        assertion: handSignedJwt(
          { alg: 'ES384', kid: 'kid-ES256' },
          claims(),
          keys.ES384.privateKey,
        ),
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    [
      'EdDSA claimed for the ES256 key',
      () => ({
        assertion: handSignedJwt(
          { alg: 'EdDSA', kid: 'kid-ES256' },
          claims(),
          keys.Ed25519.privateKey,
        ),
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    [
      'an ES256 header over a P-384 signature',
      () => ({
        assertion: handSignedJwt(
          { alg: 'ES256', kid: 'kid-ES256' },
          claims(),
          keys.ES384.privateKey,
          'ES384',
        ),
        detail: refused('INVALID_SIGNATURE'),
      }),
    ],
    [
      'an all-zero ECDSA signature (psychic signature)',
      () => ({
        assertion: `${b64({ alg: 'ES256', kid: 'kid-ES256' })}.${b64(claims())}.${b64(Buffer.alloc(64))}`,
        detail: refused('INVALID_SIGNATURE'),
      }),
    ],
    [
      'a header without alg',
      () => ({
        assertion: `${b64({ kid: 'kid-ES256' })}.${b64(claims())}.c2ln`,
        detail: refused('ALG_NOT_ALLOWED'),
      }),
    ],
    // alg none in every spelling, with and without a signature part.
    [
      'alg none without a signature',
      () => ({ assertion: unsigned('none'), detail: refused('MALFORMED') }),
    ],
    [
      'alg None without a signature',
      () => ({ assertion: unsigned('None'), detail: refused('MALFORMED') }),
    ],
    [
      'alg NONE without a signature',
      () => ({ assertion: unsigned('NONE'), detail: refused('MALFORMED') }),
    ],
    [
      'alg nOnE without a signature',
      () => ({ assertion: unsigned('nOnE'), detail: refused('MALFORMED') }),
    ],
    [
      'alg none with a junk signature',
      () => ({ assertion: unsigned('none', 'c2ln'), detail: refused('ALG_NOT_ALLOWED') }),
    ],
    [
      'alg NONE with a junk signature',
      () => ({ assertion: unsigned('NONE', 'c2ln'), detail: refused('ALG_NOT_ALLOWED') }),
    ],
    [
      'alg "none " with a trailing space',
      () => ({ assertion: unsigned('none ', 'c2ln'), detail: refused('ALG_NOT_ALLOWED') }),
    ],
    [
      'alg none carrying a genuine ES256 signature',
      () => {
        const genuine = es256().split('.');
        return {
          assertion: `${b64({ alg: 'none', kid: 'kid-ES256' })}.${genuine[1]}.${genuine[2]}`,
          detail: refused('ALG_NOT_ALLOWED'),
        };
      },
    ],
    // Key selection: only a registered, active kid of this project.
    [
      'no kid',
      () => ({ assertion: es256({}, { kid: undefined }), detail: refused('MISSING_KID') }),
    ],
    ['an empty kid', () => ({ assertion: es256({}, { kid: '' }), detail: refused('MISSING_KID') })],
    ['a numeric kid', () => ({ assertion: es256({}, { kid: 1 }), detail: refused('MISSING_KID') })],
    [
      'an unknown kid',
      () => ({ assertion: es256({}, { kid: 'nope' }), detail: refused('KEY_NOT_FOUND') }),
    ],
    [
      "Bob's kid, signed with Bob's key (a foreign kid)",
      () => ({
        assertion: handSignedJwt({ alg: 'ES256', kid: 'kid-bob' }, claims(), keys.bob.privateKey),
        detail: refused('KEY_NOT_FOUND'),
      }),
    ],
    [
      'a deactivated kid, signed with its key',
      () => ({
        assertion: handSignedJwt(
          { alg: 'ES256', kid: 'kid-retired' },
          claims(),
          keys.retired.privateKey,
        ),
        detail: refused('KEY_NOT_FOUND'),
      }),
    ],
    [
      'an SQL-injection kid',
      () => ({ assertion: es256({}, { kid: "' OR '1'='1" }), detail: refused('KEY_NOT_FOUND') }),
    ],
    [
      'an SQL-comment kid',
      () => ({ assertion: es256({}, { kid: "kid-ES256' --" }), detail: refused('KEY_NOT_FOUND') }),
    ],
    [
      'a path-traversal kid',
      () => ({
        assertion: es256({}, { kid: '../../../../etc/passwd' }),
        detail: refused('KEY_NOT_FOUND'),
      }),
    ],
    [
      'a kid pointing at /dev/null',
      () => ({ assertion: es256({}, { kid: '/dev/null' }), detail: refused('KEY_NOT_FOUND') }),
    ],
    [
      'a LIKE-wildcard kid',
      () => ({ assertion: es256({}, { kid: 'kid-%' }), detail: refused('KEY_NOT_FOUND') }),
    ],
    [
      'a kid with a NUL byte',
      () => ({
        assertion: es256({}, { kid: 'kid-ES256\u0000' }),
        detail: refused('KEY_NOT_FOUND'),
      }),
    ],
    [
      'a kid with a line break',
      () => ({ assertion: es256({}, { kid: 'kid-ES256\n' }), detail: refused('KEY_NOT_FOUND') }),
    ],
    [
      'a 500-character kid',
      () => ({ assertion: es256({}, { kid: 'k'.repeat(500) }), detail: refused('KEY_NOT_FOUND') }),
    ],
    [
      'a kid differing only in case',
      () => ({ assertion: es256({}, { kid: 'KID-ES256' }), detail: refused('KEY_NOT_FOUND') }),
    ],
    // Key material smuggled in the header is never used.
    [
      "an embedded jwk of the attacker's key",
      () => ({
        assertion: handSignedJwt(
          { alg: 'ES256', kid: 'kid-ES256', jwk: stranger.privateKey.export({ format: 'jwk' }) },
          claims(),
          stranger.privateKey,
        ),
        detail: refused('INVALID_SIGNATURE'),
      }),
    ],
    [
      "a jku pointing at the attacker's JWKS",
      () => ({
        assertion: handSignedJwt(
          { alg: 'ES256', kid: 'kid-ES256', jku: 'https://attacker.example/jwks.json' },
          claims(),
          stranger.privateKey,
        ),
        detail: refused('INVALID_SIGNATURE'),
      }),
    ],
    [
      "an x5u pointing at the attacker's certificate",
      () => ({
        assertion: handSignedJwt(
          { alg: 'ES256', kid: 'kid-ES256', x5u: 'https://attacker.example/cert.pem' },
          claims(),
          stranger.privateKey,
        ),
        detail: refused('INVALID_SIGNATURE'),
      }),
    ],
    [
      'an embedded jwk and no kid',
      () => ({
        assertion: handSignedJwt(
          { alg: 'ES256', jwk: stranger.privateKey.export({ format: 'jwk' }) },
          claims(),
          stranger.privateKey,
        ),
        detail: refused('MISSING_KID'),
      }),
    ],
    [
      'a signature by an unregistered key',
      () => ({
        assertion: handSignedJwt({ alg: 'ES256', kid: 'kid-ES256' }, claims(), stranger.privateKey),
        detail: refused('INVALID_SIGNATURE'),
      }),
    ],
    [
      'a genuine assertion with its sub rewritten',
      () => {
        const [header, , signature] = es256().split('.');
        return {
          assertion: `${header}.${b64(claims({ sub: 'admin' }))}.${signature}`,
          detail: refused('INVALID_SIGNATURE'),
        };
      },
    ],
    // Lifetime.
    [
      'exp 61 s after iat',
      () => ({
        assertion: es256({ iat: now(), exp: now() + 61 }),
        detail: refused('LIFETIME_TOO_LONG'),
      }),
    ],
    [
      'exp a day away',
      () => ({
        assertion: es256({ iat: now(), exp: now() + 86_400 }),
        detail: refused('LIFETIME_TOO_LONG'),
      }),
    ],
    [
      'an old iat with a fresh exp',
      () => ({
        assertion: es256({ iat: now() - 3600, exp: now() + 30 }),
        detail: refused('LIFETIME_TOO_LONG'),
      }),
    ],
    [
      'an assertion expired an hour ago',
      () => ({
        assertion: es256({ iat: now() - 3660, exp: now() - 3600 }),
        detail: refused('EXPIRED'),
      }),
    ],
    [
      'an assertion expired just beyond the 30 s tolerance',
      () => ({
        assertion: es256({ iat: now() - 95, exp: now() - 35 }),
        detail: refused('EXPIRED'),
      }),
    ],
    [
      'nbf two minutes ahead',
      () => ({ assertion: es256({ nbf: now() + 120 }), detail: refused('NOT_YET_VALID') }),
    ],
    [
      'iat ten minutes ahead',
      () => ({
        assertion: es256({ iat: now() + 600, exp: now() + 650 }),
        detail: refused('NOT_YET_VALID'),
      }),
    ],
    ['no iat', () => ({ assertion: es256({ iat: undefined }), detail: refused('MISSING_CLAIM') })],
    ['no exp', () => ({ assertion: es256({ exp: undefined }), detail: refused('EXPIRED') })],
    // Claims.
    [
      "Bob's project as aud",
      () => ({
        assertion: es256({ aud: `tengine:project:${bob.projectId}` }),
        detail: refused('AUD_MISMATCH'),
      }),
    ],
    [
      'the bare project id as aud',
      () => ({ assertion: es256({ aud: alice.projectId }), detail: refused('AUD_MISMATCH') }),
    ],
    ['no aud', () => ({ assertion: es256({ aud: undefined }), detail: refused('AUD_MISMATCH') })],
    [
      'an aud list without this project',
      () => ({
        assertion: es256({ aud: ['tengine:mcp', `tengine:project:${bob.projectId}`] }),
        detail: refused('AUD_MISMATCH'),
      }),
    ],
    [
      "Alice's assertion presented with Bob's key (Bob registered the same key and kid)",
      () => ({ assertion: es256(), via: 'bob', detail: refused('AUD_MISMATCH') }),
    ],
    [
      "Bob's assertion for Bob's project presented with Alice's key",
      () => ({
        assertion: handSignedJwt(
          { alg: 'ES256', kid: 'kid-bob' },
          claims({}, bob.projectId),
          keys.bob.privateKey,
        ),
        detail: refused('KEY_NOT_FOUND'),
      }),
    ],
    [
      'no sub (no member id)',
      () => ({
        assertion: es256({ sub: undefined }),
        status: 400,
        detail: 'Could not resolve member_external_id',
      }),
    ],
    [
      'an empty sub',
      () => ({
        assertion: es256({ sub: '   ' }),
        status: 400,
        detail: 'Could not resolve member_external_id',
      }),
    ],
    [
      'a numeric sub',
      () => ({
        assertion: es256({ sub: 42 }),
        status: 400,
        detail: 'Could not resolve member_external_id',
      }),
    ],
    [
      'a 257-character sub',
      () => ({
        assertion: es256({ sub: 'u'.repeat(257) }),
        status: 400,
        detail: 'Could not resolve member_external_id',
      }),
    ],
    ['no jti', () => ({ assertion: es256({ jti: undefined }), detail: refused('MISSING_CLAIM') })],
    ['a numeric jti', () => ({ assertion: es256({ jti: 7 }), detail: refused('MISSING_CLAIM') })],
    // Shape.
    [
      'an oversized assertion',
      () => ({ assertion: es256({ pad: 'x'.repeat(9000) }), detail: refused('MALFORMED') }),
    ],
    [
      'a JWE-shaped (five-part) token',
      () => ({ assertion: `${es256()}.e30.e30`, detail: refused('MALFORMED') }),
    ],
    [
      'a header that is not JSON',
      () => ({
        assertion: `${b64(Buffer.from('not json'))}.${b64(claims())}.c2ln`,
        detail: refused('MALFORMED'),
      }),
    ],
    [
      'a critical header extension',
      () => ({ assertion: es256({}, { crit: ['exp'] }), detail: refused('MALFORMED') }),
    ],
    [
      "a session token's typ on an assertion",
      () => ({ assertion: es256({}, { typ: 'tng-mst+jwt' }), detail: refused('WRONG_TYPE') }),
    ],
  ];

  it.each(attacks)('should refuse %s', async (_name, build) => {
    const attack = build();
    guard.present(attack.assertion);
    const before = await footprint();
    const answer = await mint(attack.assertion, attack.via);
    expect({ status: answer.status, detail: answer.body['detail'] }).toEqual({
      status: attack.status ?? 401,
      detail: attack.detail,
    });
    expect(answer.body['code']).toBe(
      attack.status === 400 ? 'IDENTITY_MEMBER_UNRESOLVED' : 'IDENTITY_INVALID_ASSERTION',
    );
    if ((attack.status ?? 401) === 401) {
      expect(answer.headers.get('www-authenticate')).toBe(
        'Bearer realm="tengine", error="invalid_token"',
      );
    }
    const after = await footprint();
    expect({ members: after['members'], sessions: after['sessions'] }).toEqual({
      members: before['members'],
      sessions: before['sessions'],
    });
    await guard.end([answer.text]);
  });

  it('should refuse a sequential replay of an accepted assertion (same jti)', async () => {
    const assertion = es256();
    guard.present(assertion);
    const first = await mint(assertion);
    expect(first.status).toBe(200);
    platform.secrets.add(String(first.body['session_token']));
    const before = await footprint();
    const replay = await mint(assertion);
    expect({ status: replay.status, detail: replay.body['detail'] }).toEqual({
      status: 401,
      detail: refused('REPLAYED'),
    });
    expect(await footprint()).toEqual(before);
    await guard.end([replay.text]);
  });

  it('should refuse a new assertion reusing an accepted jti', async () => {
    const jti = randomUUID();
    const first = await mint(es256({ jti }));
    expect(first.status).toBe(200);
    platform.secrets.add(String(first.body['session_token']));
    const before = await footprint();
    const replay = await mint(es256({ jti, sub: 'someone-else' }));
    expect({ status: replay.status, detail: replay.body['detail'] }).toEqual({
      status: 401,
      detail: refused('REPLAYED'),
    });
    expect(await footprint()).toEqual(before);
    await guard.end([replay.text]);
  });

  it('should mint exactly once from 12 concurrent presentations of one assertion', async () => {
    const assertion = es256();
    guard.present(assertion);
    const before = await footprint();
    const answers = await Promise.all(Array.from({ length: 12 }, () => mint(assertion)));
    const minted = answers.filter((answer) => answer.status === 200);
    for (const answer of minted) platform.secrets.add(String(answer.body['session_token']));
    expect(minted).toHaveLength(1);
    expect(
      answers
        .filter((answer) => answer.status !== 200)
        .map((answer) => [answer.status, answer.body['detail']]),
    ).toEqual(Array.from({ length: 11 }, () => [401, refused('REPLAYED')]));
    const after = await footprint();
    expect(Number(after['sessions']) - Number(before['sessions'])).toBe(1);
    await guard.end(answers.filter((answer) => answer.status !== 200).map((answer) => answer.text));
  });
});
