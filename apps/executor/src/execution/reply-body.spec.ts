import { callFingerprint, canonicalJson, upstreamIdempotencyKey } from './call-fingerprint.js';
import { errorExcerpt, replyBody, scrubSecrets } from './reply-body.js';

function response(body: string | Buffer, contentType?: string) {
  return {
    status: 200,
    headers: contentType ? { 'content-type': contentType } : {},
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  };
}

describe(replyBody.name, () => {
  it('should return JSON text and its parsed value', () => {
    expect(replyBody(response('{"a":[1,2]}', 'application/json; charset=utf-8'), 1024, [])).toEqual(
      {
        status: 200,
        contentType: 'application/json; charset=utf-8',
        encoding: 'utf8',
        body: '{"a":[1,2]}',
        json: { a: [1, 2] },
        truncated: false,
        bytes: 11,
      },
    );
    expect(replyBody(response('{"a":', 'application/problem+json'), 1024, [])).not.toHaveProperty(
      'json',
    );
  });

  it('should truncate on a character boundary and not parse a cut body', () => {
    const text = `{"x":"${'é'.repeat(10)}"}`;
    const reply = replyBody(response(text, 'application/json'), 12, []);
    expect(reply.truncated).toBe(true);
    expect(Buffer.byteLength(reply.body)).toBeLessThanOrEqual(12);
    expect(reply.body).not.toContain('\uFFFD');
    expect(reply).not.toHaveProperty('json');
    expect(reply.bytes).toBe(Buffer.byteLength(text));
  });

  it('should keep U+0000 out of what is stored: NUL bytes make a body binary, an escaped NUL stays text', () => {
    const nul = replyBody(response(Buffer.from('ok\u0000ok'), 'text/plain'), 1024, []);
    expect(nul).toMatchObject({
      encoding: 'base64',
      body: Buffer.from('ok\u0000ok').toString('base64'),
    });
    const escaped = replyBody(response('{"a":"x\\u0000y"}', 'application/json'), 1024, []);
    expect(escaped).toMatchObject({ encoding: 'utf8', body: '{"a":"x\\u0000y"}' });
    expect(escaped).not.toHaveProperty('json');
    expect(JSON.stringify(escaped)).not.toMatch(/(?<!\\)\\u0000/);
  });

  it('should return binary bodies as base64', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]);
    expect(replyBody(response(png, 'image/png'), 1024, [])).toMatchObject({
      encoding: 'base64',
      body: png.toString('base64'),
    });
  });

  it('should remove the tool secret from echoed bodies and excerpts', () => {
    const secret = 'sk_live_abcdefgh12345678';
    const reply = replyBody(response(`{"echo":"Bearer ${secret}"}`, 'application/json'), 1024, [
      secret,
    ]);
    expect(reply.body).toBe('{"echo":"Bearer [REDACTED]"}');
    expect(errorExcerpt(reply, 10)).toBe('{"echo":"B');
    expect(scrubSecrets('short', ['short'])).toBe('short');
  });
});

describe(callFingerprint.name, () => {
  it('should not depend on key order, and should depend on values and the tool', () => {
    expect(callFingerprint('t', { a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(
      callFingerprint('t', { b: { c: [1, { e: 3, d: 2 }] }, a: 1 }),
    );
    expect(callFingerprint('t', { a: 1 })).not.toBe(callFingerprint('t', { a: 2 }));
    expect(callFingerprint('t', { a: 1 })).not.toBe(callFingerprint('u', { a: 1 }));
    expect(canonicalJson({ b: null, a: 'x' })).toBe('{"a":"x","b":null}');
  });

  it('should scope the upstream idempotency key to project and principal', () => {
    const key = upstreamIdempotencyKey('p', 'member:m1', 'k');
    expect(key).toMatch(/^tng_[A-Za-z0-9_-]{43}$/);
    expect(key).toBe(upstreamIdempotencyKey('p', 'member:m1', 'k'));
    expect(key).not.toBe(upstreamIdempotencyKey('p', 'member:m2', 'k'));
  });
});
