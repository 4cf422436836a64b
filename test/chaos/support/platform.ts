import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RunsStream } from '@tengine/contracts';

import { Keyring } from '@tengine/secrets';
import {
  removeDir,
  startPrivateNatsServer,
  waitUntil,
  type PrivateNatsServer,
} from '@tengine/testing';

import { Ledger } from './ledger.js';
import { RunObserver } from './observer.js';
import { startPrivateDatabase, type PrivateDatabase } from './postgres.js';
import { ManagedProcess, pidOwningConnection } from './processes.js';

/** The NATS namespace of the suite (its own NATS server, so a fixed one is enough). */
export const SUBJECT_PREFIX = 'chaos';

/** Executor timers short enough for the suite (leases, maintenance, retries); documented settings. */
const EXECUTOR_TIMERS: Record<string, string> = {
  TENGINE_EXECUTOR_RETRY_BASE_MS: '20',
  TENGINE_EXECUTOR_RETRY_MAX_DELAY_MS: '200',
  TENGINE_EXECUTOR_LEASE_GRACE_MS: '1000',
  TENGINE_EXECUTOR_MAINTENANCE_INTERVAL_MS: '250',
};

/** A project with one integration and an API key that may do everything the suite needs. */
export interface ProjectFixture {
  readonly projectId: string;
  readonly integrationId: string;
  readonly apiKey: string;
  readonly apiKeyId: string;
}

export interface ApiAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/**
 * The platform as separate processes: gateway ×2, identity, registry, executor ×2 and audit, on the
 * suite's own nats-server (JetStream, store kept across restarts) and its own PostgreSQL cluster,
 * plus the upstream ledger the tools call and an external consumer of the runs stream.
 */
export class ChaosPlatform {
  readonly identity: ManagedProcess;
  readonly registry: ManagedProcess;
  readonly executors: readonly [ManagedProcess, ManagedProcess];
  readonly audit: ManagedProcess;
  readonly gateways: readonly [ManagedProcess, ManagedProcess];
  readonly adminToken = randomBytes(36).toString('base64url');
  readonly secretKeys = Keyring.generate('chaos');
  observer!: RunObserver;
  private natsDirsBefore = new Set<string>();

  private constructor(
    readonly nats: PrivateNatsServer,
    readonly database: PrivateDatabase,
    readonly ledger: Ledger,
  ) {
    const common = {
      NATS_URL: nats.url,
      NATS_SUBJECT_PREFIX: SUBJECT_PREFIX,
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '5000',
    };
    const backend = { ...common, DATABASE_URL: database.url };
    this.identity = new ManagedProcess('identity', 'identity', () => ({
      ...backend,
      TENGINE_SECRET_KEYS: this.secretKeys,
      TENGINE_ADMIN_TOKEN: this.adminToken,
    }));
    this.registry = new ManagedProcess('registry', 'registry', () => ({
      ...backend,
      TENGINE_SECRET_KEYS: this.secretKeys,
      TENGINE_ALLOW_HTTP_HOSTS: '127.0.0.1',
    }));
    const executor = (name: string) =>
      new ManagedProcess(name, 'executor', () => ({
        ...backend,
        ...EXECUTOR_TIMERS,
        TENGINE_EGRESS_ALLOW: '127.0.0.1/32',
      }));
    this.executors = [executor('executor-1'), executor('executor-2')];
    // A replica killed mid-batch leaves its events unacknowledged: redeliver them after 5 s.
    this.audit = new ManagedProcess('audit', 'audit', () => ({
      ...backend,
      AUDIT_ACK_WAIT_MS: '5000',
    }));
    const gateway = (name: string) => new ManagedProcess(name, 'gateway', () => ({ ...common }));
    this.gateways = [gateway('gateway-1'), gateway('gateway-2')];
  }

  static async start(): Promise<ChaosPlatform> {
    const natsDirsBefore = natsStoreDirs();
    const [nats, database, ledger] = await Promise.all([
      startPrivateNatsServer(),
      startPrivateDatabase(),
      Ledger.start(),
    ]);
    const platform = new ChaosPlatform(nats, database, ledger);
    platform.natsDirsBefore = natsDirsBefore;
    try {
      // Identity and registry first: they own the migrations the others' first calls need.
      await Promise.all([platform.identity.start(), platform.registry.start()]);
      await Promise.all([
        ...platform.executors.map((process) => process.start()),
        platform.audit.start(),
        ...platform.gateways.map((process) => process.start()),
      ]);
      platform.observer = RunObserver.start(nats.url, SUBJECT_PREFIX);
    } catch (error) {
      await platform.close();
      throw error;
    }
    return platform;
  }

  get processes(): ManagedProcess[] {
    return [this.identity, this.registry, ...this.executors, this.audit, ...this.gateways];
  }

  get gatewayUrls(): string[] {
    return this.gateways.map((gateway) => gateway.url);
  }

  /** Starts whatever is down (NATS and PostgreSQL are brought back by their scenarios). */
  async heal(): Promise<void> {
    this.ledger.mode = { kind: 'normal' };
    this.ledger.onAnswering = undefined;
    this.ledger.onAnswered = undefined;
    await Promise.all(this.processes.map((process) => process.start()));
  }

  /** Crashes since the start (exits nobody asked for). */
  crashes(): string[] {
    return this.processes.flatMap((process) => process.crashes);
  }

  /** The executor replica that holds the ledger connection coming from `peerPort`. */
  executorOnConnection(peerPort: number): ManagedProcess | undefined {
    const pids = this.executors.map((executor) => executor.pid).filter((pid) => pid !== undefined);
    const pid = pidOwningConnection(peerPort, this.ledger.port, pids);
    return this.executors.find((executor) => executor.pid === pid);
  }

  /** A management API call through the first gateway that is up. */
  async api<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; projectId?: string } = {},
  ): Promise<ApiAnswer<T>> {
    const gateway = this.gateways.find((candidate) => candidate.running) ?? this.gateways[0];
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token ?? this.adminToken}`,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.projectId) headers['x-project-id'] = options.projectId;
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, body: body as T };
  }

  private async expect<T>(what: string, status: number, call: Promise<ApiAnswer<T>>): Promise<T> {
    const answer = await call;
    if (answer.status !== status) {
      throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  async createProject(name: string, environment = 'production'): Promise<ProjectFixture> {
    const project = await this.expect<{ id: string }>(
      'project',
      201,
      this.api('POST', '/api/v1/projects', { body: { name, environment } }),
    );
    const integration = await this.expect<{ id: string }>(
      'integration',
      201,
      this.api('POST', '/api/v1/integrations', {
        projectId: project.id,
        body: { kind: 'sdk', name: 'chaos' },
      }),
    );
    const key = await this.expect<{ key: string; api_key: { id: string } }>(
      'api key',
      201,
      this.api('POST', `/api/v1/integrations/${integration.id}/api-keys`, {
        projectId: project.id,
        body: {
          name: 'chaos',
          scopes: ['mcp:connect', 'sessions:mint', 'keys:write', 'tools:write', 'runs:read'],
        },
      }),
    );
    return {
      projectId: project.id,
      integrationId: integration.id,
      apiKey: key.key,
      apiKeyId: key.api_key.id,
    };
  }

  /** The suite's two tools on the ledger: a read (GET) and a write (POST), with a timeout. */
  async createTools(
    project: ProjectFixture,
    timeoutMs: number,
  ): Promise<{ read: string; write: string }> {
    const tools = { read: 'ledger_read', write: 'ledger_write' };
    await this.expect(
      'read tool',
      201,
      this.api('POST', '/api/v1/custom-tools', {
        token: project.apiKey,
        body: {
          name: tools.read,
          description: 'Reads an entry of the ledger',
          method: 'GET',
          base_url: this.ledger.origin,
          endpoint_path: '/entries',
          query_template: { op: '{{op}}' },
          input_schema: {
            type: 'object',
            properties: { op: { type: 'string', maxLength: 100 } },
            required: ['op'],
          },
          timeout_ms: timeoutMs,
        },
      }),
    );
    await this.expect(
      'write tool',
      201,
      this.api('POST', '/api/v1/custom-tools', {
        token: project.apiKey,
        body: {
          name: tools.write,
          description: 'Applies an entry to the ledger',
          method: 'POST',
          base_url: this.ledger.origin,
          endpoint_path: '/entries',
          body_template: { op: '{{op}}', amount: '{{amount}}' },
          input_schema: {
            type: 'object',
            properties: {
              op: { type: 'string', maxLength: 100 },
              amount: { type: 'integer' },
            },
            required: ['op', 'amount'],
          },
          timeout_ms: timeoutMs,
        },
      }),
    );
    return tools;
  }

  /** Restarts NATS (SIGKILL, then the same port and store) after `downMs`. */
  async restartNats(downMs: number): Promise<void> {
    await this.nats.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.nats.start();
  }

  /** Crash-stops PostgreSQL and starts it again after `downMs`. */
  async restartDatabase(downMs: number): Promise<void> {
    await this.database.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.database.start();
  }

  /** Waits until every replica reports ready again (after an outage of NATS or PostgreSQL). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      async () => {
        const answers = await Promise.all(
          this.processes.map(
            async (process) => (await fetch(`${process.url}/health/ready`)).status,
          ),
        );
        return answers.every((status) => status === 200);
      },
      timeoutMs,
      200,
    );
  }

  /** Everything the processes and PostgreSQL printed, for a failure report. */
  report(): string {
    return [
      ...this.processes.map((process) => process.output()),
      `--- postgresql\n${this.database.log().slice(-4_000)}`,
    ].join('\n');
  }

  async close(): Promise<void> {
    await this.observer?.close().catch(() => undefined);
    for (const process of this.processes) await process.stop('SIGKILL').catch(() => undefined);
    await this.ledger.close().catch(() => undefined);
    await this.database.close().catch(() => undefined);
    await this.nats.stop().catch(() => undefined);
    // startPrivateNatsServer leaves its store behind: remove ours (the one holding this suite's
    // stream), which at full size holds a few hundred MB of Run events.
    for (const name of natsStoreDirs()) {
      const dir = join(tmpdir(), name);
      const ours = join(dir, 'jetstream', '$G', 'streams', RunsStream.name(SUBJECT_PREFIX));
      if (!this.natsDirsBefore.has(name) && existsSync(ours)) removeDir(dir);
    }
  }
}

/** The store directories `startPrivateNatsServer` creates (`<tmp>/tengine-nats-*`). */
function natsStoreDirs(): Set<string> {
  return new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('tengine-nats-')));
}
