import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';

import { formatTable, passed, type ClassResult } from './checker.js';
import { FULL_SIZE } from './run-class.js';

const CHAOS_DIR = resolve(process.cwd(), 'test', 'chaos');

/** Where the results go: the committed RESULTS.md at full size, an ignored file otherwise. */
export function resultsPath(): string {
  return FULL_SIZE ? join(CHAOS_DIR, 'RESULTS.md') : join(CHAOS_DIR, '.results', 'RESULTS.ci.md');
}

function version(binary: string, args: string[]): string {
  try {
    return execFileSync(binary, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '?';
  } catch {
    return '?';
  }
}

const DEFINITIONS = `- **calls**: \`tools/call\`s the client made (for clock skew also the session-token mints).
  **ok / failed / indeterminate** is the client's final view: \`indeterminate\` only when the answer
  itself says the outcome is unknown (Run status \`indeterminate\`, \`EXECUTOR_TIMEOUT\`,
  \`EXECUTOR_RUN_INTERRUPTED\`, \`EXECUTOR_RUN_NOT_RECORDED\`) or no answer came (connection broken
  after sending, client timeout). After the fault and quiescence, each write whose outcome was
  unknown is asked once more with the same idempotency key; its final view is that answer.
- **lost**: the client saw success, but audit has no \`succeeded\` Run or the external consumer
  never received its \`succeeded\` event.
- **dup_effects**: operations the upstream ledger applied more than once (it applies each
  \`Idempotency-Key\` once; a second effect means the same operation arrived under another key).
- **dup_deliveries**: requests that reached the ledger again under a key it had already seen
  (deduplicated there): retries of reads, repeats after crashes.
- **events_missing**: Runs known to exist (answered by an executor, seen by the upstream, in audit
  or at the consumer) without a terminal event at the external consumer or a terminal Run row.
- **misreported**: definite answers the facts contradict: a write whose every answer said "failed"
  although its effect was applied, an "ok" never applied, or a Run status answered that differs
  from the one recorded.
- **recovery_p99**: 99th percentile over the class's calls of the time from sending the call until
  it was settled everywhere: answer received, and its Run (when one exists) terminal at the
  consumer and in audit, e.g. once an abandoned claim's lease expired, a refused event was
  republished or audit caught up. The later ask of an unknown outcome does not count.
- Pass: lost = dup_effects = events_missing = misreported = 0 and no process crashed.`;

/** Prints the table and writes the results file (formatted with the repository's prettier). */
export function writeResults(results: readonly ClassResult[], totalMs: number): string {
  const table = formatTable(results);
  const notes = results
    .map(
      (result) =>
        `- **${result.name}**: ${result.notes.join('; ')}` +
        (result.violations.length > 0
          ? `\n  - violations: ${result.violations.join('\n  - ')}`
          : ''),
    )
    .join('\n');
  const size = FULL_SIZE ? 'full (TENGINE_PROOF_SIZE=full)' : 'CI';
  const text = `# Fault-injection results

Size: ${size}. ${results.every(passed) ? 'Every class passed.' : 'Some classes FAILED.'} Whole run:
${(totalMs / 60_000).toFixed(1)} min on ${cpus().length} CPU(s), Node.js ${process.version},
${version('nats-server', ['--version'])}, ${version('psql', ['--version'])}; produced by
\`${FULL_SIZE ? 'TENGINE_PROOF_SIZE=full ' : ''}npm run test:chaos\` on ${new Date().toISOString().slice(0, 10)}.

${table}

## Classes

${notes}

## Definitions

${DEFINITIONS}
`;
  const path = resultsPath();
  mkdirSync(resolve(path, '..'), { recursive: true });
  writeFileSync(path, text);
  try {
    // A child process: prettier loads itself through dynamic import, which jest's VM refuses.
    const prettier = resolve(process.cwd(), 'node_modules', 'prettier', 'bin', 'prettier.cjs');
    execFileSync(process.execPath, [prettier, '--write', path], { stdio: 'ignore' });
  } catch {
    // Unformatted is still readable.
  }
  process.stdout.write(`\n${table}\n\n(written to ${path})\n`);
  return text;
}
