import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** A tengine app started as its own Node.js process, as it runs in production. */
export interface AppProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output (waiting for it to appear). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited(): Promise<number | NodeJS.Signals>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
}

/** The repository root (tests run from it). */
export const REPO_ROOT = resolve(process.cwd());

/** Starts `apps/<app>/dist/<entry>.js` (built by `npm run build`) with the given environment. */
export function startApp(app: string, env: Record<string, string>, entry = 'main'): AppProcess {
  const script = resolve(REPO_ROOT, 'apps', app, 'dist', `${entry}.js`);
  const child = spawn(process.execPath, [script], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | NodeJS.Signals>((resolveExit) => {
    child.once('exit', (code, signal) => {
      for (const waiter of waiters) waiter();
      resolveExit(code ?? signal ?? 'SIGKILL');
    });
  });
  return {
    child,
    output: () => output,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolveMatch, reject) => {
        const check = (): void => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolveMatch(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`${app} exited before printing ${String(pattern)}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`${app} did not print ${String(pattern)} within ${timeoutMs} ms:\n${output}`),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    exited: () => exit,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
}
