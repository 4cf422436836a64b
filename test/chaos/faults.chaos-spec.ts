import { passed, type ClassResult } from './support/checker.js';
import { ChaosPlatform } from './support/platform.js';
import { tail } from './support/processes.js';
import { writeResults } from './support/results.js';
import { FULL_SIZE, runClass } from './support/run-class.js';
import { SCENARIOS } from './support/scenarios.js';

// Each class: its calls, the fault, healing, quiescence (leases expire, republishing, audit catch-up).
const CLASS_TIMEOUT_MS = FULL_SIZE ? 30 * 60_000 : 3 * 60_000;

describe('fault injection: the platform as separate processes under faults', () => {
  let platform: ChaosPlatform | undefined;
  const results: ClassResult[] = [];
  const started = Date.now();

  beforeAll(async () => {
    platform = await ChaosPlatform.start();
  }, 180_000);

  afterAll(async () => {
    if (results.length > 0) writeResults(results, Date.now() - started);
    await platform?.close();
  }, 60_000);

  it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))(
    '%s: no call lost, no effect duplicated, no Run event missing',
    async (_name, scenario) => {
      if (!platform) throw new Error('the platform did not start');
      let result: ClassResult;
      try {
        result = await runClass(platform, scenario);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n\n${tail(platform.report(), 30_000)}`, {
          cause: error,
        });
      }
      results.push(result);
      if (!passed(result)) {
        throw new Error(
          `${result.name}: lost ${result.lost}, dup_effects ${result.dupEffects}, ` +
            `events_missing ${result.eventsMissing}, misreported ${result.misreported}, crashes ${result.crashes}\n` +
            `${result.violations.join('\n')}\n\n${tail(platform.report(), 30_000)}`,
        );
      }
    },
    CLASS_TIMEOUT_MS,
  );
});
