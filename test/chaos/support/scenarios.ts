import { generateKeyPairSync, randomUUID } from 'node:crypto';

import { SignJWT } from 'jose';

import type { ExtraCalls } from './checker.js';
import type { CallRecord, CallSpec } from './driver.js';
import type { ManagedProcess } from './processes.js';
import { FULL_SIZE, openStream, type ClassContext, type ClassScenario } from './run-class.js';

/** Calls per class: at least 10,000 at full size; enough to exercise each fault at CI size. */
export const CALLS = FULL_SIZE ? 10_000 : 200;
const CONCURRENCY = FULL_SIZE ? 48 : 32;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Progress marks (fractions of the calls) at which a scenario injects its fault. */
function marks(count: number): number[] {
  return Array.from({ length: count }, (_, index) => (index + 1) / (count + 1));
}

/**
 * Runs `specs` and calls `inject(n, finished)` once the n-th mark of progress is reached (one fault
 * at a time; all awaited before returning), so faults land while calls are in flight. `finished()`
 * turns true once every call was answered, so an injection waiting for traffic can give up.
 * `spreadMs` paces the calls over at least that long, so short runs still have calls before, during
 * and after each fault.
 */
async function withFaults(
  context: ClassContext,
  specs: readonly CallSpec[],
  faults: number,
  inject: (index: number, finished: () => boolean) => Promise<void>,
  options: { concurrency?: number; spreadMs?: number } = {},
): Promise<CallRecord[]> {
  const thresholds = marks(faults).map((fraction) => Math.floor(fraction * specs.length));
  let fired = 0;
  let finished = false;
  let busy: Promise<void> = Promise.resolve();
  const spreadMs = options.spreadMs ?? (FULL_SIZE ? 0 : 12_000);
  const records = await context.driver.run(specs, {
    concurrency: options.concurrency ?? CONCURRENCY,
    ...(spreadMs > 0 ? { ratePerSecond: specs.length / (spreadMs / 1000) } : {}),
    onSettled: (done) => {
      while (fired < thresholds.length && done >= thresholds[fired]!) {
        const index = fired++;
        busy = busy.then(() => inject(index, () => finished));
      }
    },
  });
  finished = true;
  await busy;
  return records;
}

/** Restarts a killed replica in the background, after a short pause. */
async function restartSoon(process: ManagedProcess, afterMs: number): Promise<void> {
  await sleep(afterMs);
  await process.start();
}

const killMidCall: ClassScenario = {
  name: 'executor killed mid-call',
  slug: 'kill-mid',
  run: async (context) => {
    const { platform } = context;
    // Slow answers keep many calls in flight on both replicas when one dies.
    platform.ledger.mode = { kind: 'slow', delayMs: 150, jitterMs: 100 };
    let kills = 0;
    const records = await withFaults(
      context,
      context.mixed(CALLS),
      FULL_SIZE ? 8 : 2,
      async (index) => {
        const victim = platform.executors[index % 2]!;
        if (!victim.ready || !platform.executors[(index + 1) % 2]!.ready) return;
        await victim.stop('SIGKILL');
        kills += 1;
        await restartSoon(victim, 500);
      },
    );
    context.notes.push(`${kills} executor SIGKILL(s) with calls in flight`);
    return { records };
  },
};

const killAfterAnswer: ClassScenario = {
  name: 'executor killed after the upstream answered',
  slug: 'kill-answered',
  run: async (context) => {
    const { platform } = context;
    const { ledger } = platform;
    let kills = 0;
    const records = await withFaults(
      context,
      context.mixed(CALLS),
      FULL_SIZE ? 8 : 3,
      (_index, finished) =>
        new Promise<void>((resolve) => {
          const disarm = (): void => {
            ledger.onAnswering = undefined;
            ledger.onAnswered = undefined;
            clearInterval(idle);
            resolve();
          };
          const idle = setInterval(() => finished() && disarm(), 100);
          // The next write the ledger answers (its effect applied): freeze the executor holding
          // that connection, let the answer reach its socket, then let it run 0-10 ms and kill it,
          // so it dies after the answer arrived and before (or while) it records the outcome.
          ledger.onAnswering = (answered) => {
            if (answered.method !== 'POST' || !platform.executors.every((one) => one.ready)) return;
            const victim = platform.executorOnConnection(answered.peerPort);
            if (!victim?.signal('SIGSTOP')) return;
            ledger.onAnswering = undefined;
            ledger.onAnswered = () => {
              ledger.onAnswered = undefined;
              victim.signal('SIGCONT');
              setTimeout(() => {
                if (victim.signal('SIGKILL')) kills += 1;
                disarm();
                void restartSoon(victim, 500).catch(() => undefined);
              }, Math.random() * 10);
            };
          };
        }),
    );
    context.notes.push(
      `${kills} executor SIGKILL(s) 0-10 ms after the upstream's answer to a write reached it`,
    );
    return { records };
  },
};

/** An infrastructure restart while mixed calls run against a slightly slow upstream. */
function restartScenario(
  name: string,
  slug: string,
  what: string,
  how: string,
  restart: (platform: ClassContext['platform'], downMs: number) => Promise<void>,
): ClassScenario {
  return {
    name,
    slug,
    run: async (context) => {
      const { platform } = context;
      platform.ledger.mode = { kind: 'slow', delayMs: 50, jitterMs: 50 };
      const downMs = FULL_SIZE ? 5_000 : 2_000;
      let restarts = 0;
      const faults = FULL_SIZE ? 3 : 1;
      const records = await withFaults(context, context.mixed(CALLS), faults, async () => {
        await restart(platform, downMs);
        restarts += 1;
        await platform.waitReady();
      });
      context.notes.push(`${restarts} ${what}(s) (${how}, ${downMs / 1000} s down)`);
      return { records };
    },
  };
}

const restartNats = restartScenario(
  'NATS restarted',
  'nats',
  'NATS restart',
  'SIGKILL',
  (platform, downMs) => platform.restartNats(downMs),
);

const restartPostgres = restartScenario(
  'PostgreSQL restarted',
  'pg',
  'PostgreSQL crash-restart',
  'pg_ctl stop -m immediate',
  (platform, downMs) => platform.restartDatabase(downMs),
);

const slowUpstream: ClassScenario = {
  name: 'upstream slower than the timeout',
  slug: 'slow',
  toolTimeoutMs: 300,
  run: async (context) => {
    // Answers take 150-550 ms against a 300 ms timeout: about half arrive too late.
    context.platform.ledger.mode = { kind: 'slow', delayMs: 150, jitterMs: 400 };
    const records = await context.driver.run(context.mixed(CALLS), {
      concurrency: FULL_SIZE ? 64 : CONCURRENCY,
    });
    context.notes.push(
      'tool timeout 300 ms, upstream answers after 150-550 ms (effect applied on receipt)',
    );
    return { records };
  },
};

const storm: ClassScenario = {
  name: 'upstream 5xx storm',
  slug: 'storm',
  run: async (context) => {
    const { platform } = context;
    const stormMs = FULL_SIZE ? 60_000 : 4_000;
    const calmMs = FULL_SIZE ? 10_000 : 1_000;
    const specs = context.mixed(CALLS);
    const rate = specs.length / ((stormMs + 2 * calmMs) / 1000);
    const weather = (async () => {
      await sleep(calmMs);
      platform.ledger.mode = { kind: 'storm' };
      await sleep(stormMs);
      platform.ledger.mode = { kind: 'normal' };
    })();
    const records = await context.driver.run(specs, {
      concurrency: CONCURRENCY,
      ratePerSecond: rate,
    });
    await weather;
    context.notes.push(
      `${stormMs / 1000} s of 500/502/503/504 (nothing applied) between ${calmMs / 1000} s of calm, ${Math.round(rate)} calls/s`,
    );
    return { records };
  },
};

const sameKey: ClassScenario = {
  name: 'same client key retried (2× sequential, 50× concurrent)',
  slug: 'same-key',
  run: async (context) => {
    const { platform, driver } = context;
    platform.ledger.mode = { kind: 'slow', delayMs: 100, jitterMs: 50 };
    const pairs = FULL_SIZE ? 2_500 : 25;
    const groups = FULL_SIZE ? 100 : 3;
    const pairSpecs = Array.from({ length: pairs }, (_, index) => {
      const op = `same-key:pair:${index}`;
      const spec: CallSpec = { op, kind: 'write', key: op };
      return [spec, spec];
    });
    const groupSpecs = Array.from({ length: groups }, (_, index) => {
      const op = `same-key:group:${index}`;
      return Array.from({ length: 50 }, (_, call): CallSpec => ({
        op,
        kind: 'write',
        key: op,
        gateway: call % 2,
      }));
    });
    const sequential = await driver.runGroups(pairSpecs, {
      concurrency: CONCURRENCY / 2,
      sequential: true,
    });
    const concurrent = await driver.runGroups(groupSpecs, { concurrency: 1, sequential: false });
    const replays = [...sequential, ...concurrent].filter(
      (record) => record.attempts[0]?.replayed,
    ).length;
    context.notes.push(
      `${pairs} keys sent twice in a row, ${groups} keys sent 50× at once; ${replays} answers were replays`,
    );
    return { records: [...sequential, ...concurrent] };
  },
};

const killGateway: ClassScenario = {
  name: 'gateway killed with open streams',
  slug: 'gateway',
  run: async (context) => {
    const { platform, project } = context;
    platform.ledger.mode = { kind: 'slow', delayMs: 150, jitterMs: 100 };
    const perGateway = FULL_SIZE ? 50 : 10;
    const streams = await Promise.all(
      platform.gatewayUrls.flatMap((url) =>
        Array.from({ length: perGateway }, () => openStream(url, project.apiKey)),
      ),
    );
    const onVictim = streams.slice(0, perGateway);
    const onSurvivor = streams.slice(perGateway);
    let kills = 0;
    const records = await withFaults(context, context.mixed(CALLS), FULL_SIZE ? 4 : 1, async () => {
      const victim = platform.gateways[0];
      await victim.stop('SIGKILL');
      kills += 1;
      await Promise.race([Promise.all(onVictim.map((stream) => stream.ended)), sleep(5_000)]);
      await restartSoon(victim, 1_000);
    });
    const victimClosed = onVictim.filter((stream) => !stream.isOpen()).length;
    const survivorOpen = onSurvivor.filter((stream) => stream.isOpen()).length;
    const reopened = await Promise.all(
      Array.from({ length: perGateway }, () =>
        openStream(platform.gatewayUrls[0]!, project.apiKey).then(
          (stream) => (stream.close(), true),
          () => false,
        ),
      ),
    );
    for (const stream of streams) stream.close();
    context.notes.push(
      `${kills} gateway SIGKILL(s); streams on it ended: ${victimClosed}/${perGateway}; ` +
        `streams on the other still open: ${survivorOpen}/${perGateway}; reopened after restart: ${reopened.filter(Boolean).length}/${perGateway}`,
    );
    if (victimClosed !== perGateway || survivorOpen !== perGateway || reopened.some((ok) => !ok)) {
      throw new Error(`open streams misbehaved: ${context.notes.at(-1)}`);
    }
    return { records };
  },
};

const auditRestart: ClassScenario = {
  name: 'audit stopped and restarted',
  slug: 'audit',
  run: async (context) => {
    const { platform } = context;
    platform.ledger.mode = { kind: 'slow', delayMs: 50, jitterMs: 50 };
    let downFor = 0;
    let stoppedAt = 0;
    const records = await withFaults(context, context.mixed(CALLS), 2, async (index) => {
      if (index === 0) {
        await platform.audit.stop('SIGKILL');
        stoppedAt = Date.now();
      } else {
        await platform.audit.start();
        downFor = Date.now() - stoppedAt;
      }
    });
    context.notes.push(`audit SIGKILLed for ${(downFor / 1000).toFixed(1)} s while calls ran`);
    return { records };
  },
};

/** Identity's allowed clock difference for member assertions (README; CLOCK_TOLERANCE_SECONDS). */
const TOLERANCE_SECONDS = 30;

/**
 * What identity must answer for an assertion signed `skew` seconds off with lifetime `ttl`:
 * `iat`/`nbf` more than 30 s in the future → NOT_YET_VALID; `exp` 30 s or more in the past → EXPIRED.
 * Undefined on the two one-second edges where the answer depends on the second ticking mid-call.
 */
function expectedMint(skew: number, ttl: number): 'ok' | 'NOT_YET_VALID' | 'EXPIRED' | undefined {
  if (skew === TOLERANCE_SECONDS + 1 || skew + ttl === -TOLERANCE_SECONDS + 1) return undefined;
  if (skew > TOLERANCE_SECONDS) return 'NOT_YET_VALID';
  if (skew + ttl <= -TOLERANCE_SECONDS) return 'EXPIRED';
  return 'ok';
}

const clockSkew: ClassScenario = {
  name: 'clock skew on assertion minting (±90 s)',
  slug: 'skew',
  run: async (context) => {
    const { platform, project, driver } = context;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const registered = await platform.api('POST', '/api/v1/assertion-keys', {
      token: project.apiKey,
      body: {
        kid: 'chaos-backend',
        algorithm: 'ES256',
        public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    });
    if (registered.status !== 201) throw new Error(`assertion key: ${registered.status}`);
    const cases: Array<{
      skew: number;
      ttl: number;
      expected: 'ok' | 'NOT_YET_VALID' | 'EXPIRED';
    }> = [];
    for (let index = 0; cases.length < CALLS; index += 1) {
      // A stride through -90..+90 s, so even a short run covers the whole range.
      const skew = ((index * 37) % 181) - 90;
      const ttl = index % 2 === 0 ? 60 : 30;
      const expected = expectedMint(skew, ttl);
      if (expected) cases.push({ skew, ttl, expected });
    }
    let ok = 0;
    let failed = 0;
    let misreported = 0;
    const mismatches: string[] = [];
    const minted: Array<{ token: string; index: number }> = [];
    let next = 0;
    const mint = async (): Promise<void> => {
      for (let index = next++; index < cases.length; index = next++) {
        const { skew, ttl, expected } = cases[index]!;
        const iat = Math.floor(Date.now() / 1000) + skew;
        const assertion = await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'chaos-backend', typ: 'JWT' })
          .setAudience(`tengine:project:${project.projectId}`)
          .setSubject(`member-${index % 20}`)
          .setJti(randomUUID())
          .setIssuedAt(iat)
          .setNotBefore(iat)
          .setExpirationTime(iat + ttl)
          .sign(privateKey);
        const answer = await platform.api<{ session_token?: string; detail?: string }>(
          'POST',
          '/api/v1/mcp/session-token',
          { token: project.apiKey, body: { member_assertion: assertion } },
        );
        const got =
          answer.status === 200 || answer.status === 201
            ? 'ok'
            : answer.status === 401 && typeof answer.body.detail === 'string'
              ? answer.body.detail.replace('Invalid member assertion: ', '')
              : `HTTP ${answer.status}`;
        if (got === 'ok') ok += 1;
        else failed += 1;
        if (got !== expected) {
          misreported += 1;
          if (mismatches.length < 5)
            mismatches.push(`skew ${skew} s, ttl ${ttl} s: expected ${expected}, got ${got}`);
        }
        if (got === 'ok' && answer.body.session_token)
          minted.push({ token: answer.body.session_token, index });
      }
    };
    await Promise.all(Array.from({ length: 16 }, mint));
    // Every session minted from a skewed assertion is used for a write.
    const records = await driver.run(
      minted.map(({ token, index }): CallSpec => {
        const op = `skew:w:${index}`;
        return { op, kind: 'write', key: op, token };
      }),
      { concurrency: CONCURRENCY },
    );
    // A session minted as specified must work: refusing it (401) contradicts the mint's answer.
    const refused = records.filter((record) => record.attempts[0]?.code === 'HTTP_401').length;
    if (refused > 0) mismatches.push(`${refused} minted session(s) refused on first use (401)`);
    const extra: ExtraCalls = { ok, failed, misreported: misreported + refused };
    context.notes.push(
      `${cases.length} mints with iat/nbf/exp skewed -90..+90 s (ttl 60 s and 30 s), tolerance ${TOLERANCE_SECONDS} s: ` +
        `${ok} accepted, ${failed} refused, ${extra.misreported} contrary to the specification` +
        (mismatches.length > 0 ? ` (${mismatches.join('; ')})` : '') +
        `; each minted session then made one write`,
    );
    return { records, extra };
  },
};

/** The classes, in the order they run. */
export const SCENARIOS: readonly ClassScenario[] = [
  killMidCall,
  killAfterAnswer,
  restartNats,
  restartPostgres,
  slowUpstream,
  storm,
  sameKey,
  killGateway,
  auditRestart,
  clockSkew,
];
