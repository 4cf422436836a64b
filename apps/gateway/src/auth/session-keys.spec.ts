import { generateKeyPairSync } from 'node:crypto';

import { Subjects } from '@tengine/contracts';
import { InProcessBroker, InProcessTransport, MessageBus } from '@tengine/messaging';

import { SessionKeys } from './session-keys.js';

function publicJwk(kid: string) {
  const { publicKey } = generateKeyPairSync('ed25519');
  return { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
}

describe(SessionKeys.name, () => {
  it('should let every caller of a fetch under way wait for it, and fetch once', async () => {
    const broker = new InProcessBroker();
    let fetches = 0;
    let release: () => void = () => undefined;
    const keys = [publicJwk('k1')];
    broker.register(Subjects.identity.jwksGet, async () => {
      fetches += 1;
      await new Promise<void>((resolve) => (release = resolve));
      return { response: { keys } };
    });
    const sessionKeys = new SessionKeys(new MessageBus(new InProcessTransport(broker), 5_000));
    try {
      const lookups = Array.from({ length: 10 }, () => sessionKeys.get('k1'));
      await new Promise((resolve) => setImmediate(resolve));
      release();
      const found = await Promise.all(lookups);
      expect(found.every((key) => key?.asymmetricKeyType === 'ed25519')).toBe(true);
      expect(fetches).toBe(1);
    } finally {
      sessionKeys.stop();
    }
  });

  it('should not fetch again for an unknown kid within a few seconds of a fetch', async () => {
    const broker = new InProcessBroker();
    let fetches = 0;
    broker.register(Subjects.identity.jwksGet, () => {
      fetches += 1;
      return Promise.resolve({ response: { keys: [publicJwk('k1')] } });
    });
    const sessionKeys = new SessionKeys(new MessageBus(new InProcessTransport(broker), 5_000));
    try {
      expect(await sessionKeys.get('forged')).toBeUndefined();
      expect(await sessionKeys.get('forged-again')).toBeUndefined();
      expect(await sessionKeys.get('k1')).toBeDefined();
      expect(fetches).toBe(1);
    } finally {
      sessionKeys.stop();
    }
  });
});
