import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

import { freePort, startApp, waitUntil, type AppProcess } from '@tengine/testing';

/** One service replica the suite may kill and start again; every instance's output is kept. */
export class ManagedProcess {
  readonly instances: AppProcess[] = [];
  /** Exits nobody asked for (a crash), with the tail of that instance's output. */
  readonly crashes: string[] = [];
  private expectedExit = new WeakSet<AppProcess>();
  private port = 0;
  private readyInstance: AppProcess | undefined;

  constructor(
    readonly name: string,
    readonly app: string,
    private readonly environment: () => Record<string, string>,
  ) {}

  get current(): AppProcess | undefined {
    return this.instances.at(-1);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    const child = this.current?.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** Running and answered `/health/ready` since it was started. */
  get ready(): boolean {
    return this.running && this.readyInstance === this.current;
  }

  /** Starts a new instance (same port as before) and waits until `/health/ready` answers 200. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    if (this.port === 0) this.port = await freePort();
    const instance = startApp(this.app, {
      ...this.environment(),
      PORT: String(this.port),
      HOST: '127.0.0.1',
    });
    this.instances.push(instance);
    void instance.exited().then((status) => {
      if (!this.expectedExit.has(instance)) {
        this.crashes.push(`${this.name} exited with ${status}:\n${tail(instance.output(), 4_000)}`);
      }
    });
    try {
      await waitUntil(
        async () => {
          if (!this.running) throw new Error(`${this.name} exited during start-up`);
          return (await fetch(`${this.url}/health/ready`)).status === 200;
        },
        timeoutMs,
        100,
      );
      this.readyInstance = instance;
    } catch (error) {
      throw new Error(
        `${this.name} did not become ready: ${(error as Error).message}\n${tail(instance.output(), 4_000)}`,
      );
    }
  }

  /** Sends `signal` and waits for the exit (SIGKILL: the process dies at once, mid-work). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const instance = this.current;
    if (!instance || !this.running) return;
    this.expectedExit.add(instance);
    await instance.stop(signal);
  }

  /**
   * Sends a signal at once, without waiting (used from the ledger's hooks): SIGSTOP freezes the
   * process, SIGCONT thaws it, SIGKILL ends it (an expected exit).
   */
  signal(signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): boolean {
    const instance = this.current;
    const pid = this.pid;
    if (!instance || pid === undefined) return false;
    if (signal === 'SIGKILL') this.expectedExit.add(instance);
    process.kill(pid, signal);
    return true;
  }

  /** All instances' output, newest last, for the report. */
  output(maxChars = 6_000): string {
    return this.instances
      .map(
        (instance, index) => `--- ${this.name} #${index + 1}\n${tail(instance.output(), maxChars)}`,
      )
      .join('\n');
  }
}

export function tail(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `…${text.slice(-maxChars)}`;
}

/**
 * The pid among `candidates` that owns the loopback TCP connection whose local port is `port` and
 * whose remote port is `remotePort` (read from /proc, synchronously, so a kill can follow at once).
 */
export function pidOwningConnection(
  port: number,
  remotePort: number,
  candidates: readonly number[],
): number | undefined {
  const hex = (value: number): string => value.toString(16).toUpperCase().padStart(4, '0');
  let inode: string | undefined;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1] ?? '';
      const remote = fields[2] ?? '';
      if (local.endsWith(`:${hex(port)}`) && remote.endsWith(`:${hex(remotePort)}`)) {
        inode = fields[9];
        break;
      }
    }
    if (inode) break;
  }
  if (!inode || inode === '0') return undefined;
  const target = `socket:[${inode}]`;
  for (const pid of candidates) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid;
      } catch {
        // The descriptor closed meanwhile.
      }
    }
  }
  return undefined;
}
