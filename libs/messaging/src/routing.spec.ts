import { InProcessBroker, InProcessServer } from './in-process.js';
import { isPlainSubject } from './wire.js';

/** Exposes the protected route lookup. */
class RouteProbe extends InProcessServer {
  route(pattern: string): string {
    return this.getRouteFromPattern(pattern);
  }
}

describe('message routes', () => {
  it('should tell plain subjects from JSON-encoded patterns', () => {
    for (const subject of ['rpc.executor.run.execute.v1', 'evt.registry.tool.changed.v1', 'a']) {
      expect(isPlainSubject(subject)).toBe(true);
    }
    for (const pattern of ['{"cmd":"sum"}', '"quoted"', '42', '[1]', '']) {
      expect(isPlainSubject(pattern)).toBe(false);
    }
  });

  it('should route a plain subject to itself without trying to parse it as JSON', () => {
    const probe = new RouteProbe(new InProcessBroker());
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(probe.route('rpc.executor.run.execute.v1')).toBe('rpc.executor.run.execute.v1');
      expect(parse).not.toHaveBeenCalled();
      // JSON patterns still get Nest's normalisation (keys sorted).
      expect(probe.route('{"b":1,"a":2}')).toBe('{"a":2,"b":1}');
    } finally {
      parse.mockRestore();
    }
  });
});
