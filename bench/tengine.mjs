#!/usr/bin/env node
// tengine side of the benchmark: infrastructure (database, runs stream), fixtures through the
// REST API (project, integration, API key, tools, assertion key), member session tokens, and the
// measurements that are not a load run (tools/list pages, memory per session, Run bookkeeping).
// run.sh calls it; every subcommand prints JSON (one line, or one line per measurement).
//
//   node tengine.mjs keyring                                  a fresh TENGINE_SECRET_KEYS value
//   node tengine.mjs db-create NAME | db-drop NAME            on BENCH_PG_URL (default local postgres)
//   node tengine.mjs stream-delete PREFIX                     the runs stream of a subject prefix
//   node tengine.mjs wait-ready URL [SECONDS]                 until URL/health/ready answers 200
//   node tengine.mjs setup --url URL --admin TOKEN --upstream URL --out FILE [--tools N]
//   node tengine.mjs mint --config FILE                       a member session token (tng_mst_…)
//   node tengine.mjs list --config FILE [--reps N]            tools/list page sizes and latencies
//   node tengine.mjs memory --config FILE --pid PID [--sessions N] [--rounds N]
//   node tengine.mjs verify --config FILE [--prefix P]        Runs recorded by audit, stream state
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { Pool } from 'undici';

const [command, ...rest] = process.argv.slice(2);
const { values: o, positionals } = parseArgs({
  args: rest,
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    admin: { type: 'string' },
    upstream: { type: 'string' },
    out: { type: 'string' },
    config: { type: 'string' },
    tools: { type: 'string', default: '1' },
    name: { type: 'string', default: 'bench' },
    'bulk-concurrency': { type: 'string', default: '16' },
    reps: { type: 'string', default: '3' },
    pid: { type: 'string' },
    sessions: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
    settle: { type: 'string', default: '3' },
    prefix: { type: 'string' },
    member: { type: 'string', default: 'bench-member-1' },
    gc: { type: 'boolean', default: false },
  },
});

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const PROTOCOL = '2025-11-25';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fail(message) {
  console.error(`tengine.mjs ${command}: ${message}`);
  process.exit(1);
}
const config = () => JSON.parse(readFileSync(o.config ?? fail('--config is required'), 'utf8'));

// ---- REST ------------------------------------------------------------------------------------------
async function api(base, method, path, { token, project, body } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (project) headers['x-project-id'] = project;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, base), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, body: json };
}
function expect(what, response, status) {
  if (response.status !== status) {
    fail(`${what}: HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 500)}`);
  }
  return response.body;
}

/** The tool every target exposes: its arguments become the JSON body of POST /echo, signed. */
function echoTool(upstream) {
  return {
    name: 'echo',
    description: 'POST the arguments to the upstream /echo endpoint and return its JSON answer',
    method: 'POST',
    base_url: upstream,
    endpoint_path: '/echo',
    body_template: { message: '{{message}}', n: '{{n}}', tags: '{{tags}}' },
    input_schema: {
      type: 'object',
      properties: {
        message: { type: 'string', maxLength: 1000 },
        n: { type: 'integer' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 20 },
      },
      required: ['message'],
      additionalProperties: false,
    },
    auth_strategy: 'hmac_signature',
    encrypted_auth_secret: `whsec_${randomBytes(32).toString('base64')}`,
    timeout_ms: 10_000,
  };
}

/** A filler tool of a realistic size (~0.5 KB as MCP sees it); never called. */
function fillerTool(upstream, i) {
  const id = String(i).padStart(5, '0');
  return {
    name: `get_item_${id}`,
    description: `Fetch item ${id} of the catalogue by id, with its name and the fields listed in "fields". Read-only.`,
    method: 'GET',
    base_url: upstream,
    endpoint_path: '/items/{{id}}',
    query_template: { fields: '{{fields}}' },
    input_schema: {
      type: 'object',
      properties: {
        id: { type: 'string', description: 'The item id', maxLength: 64 },
        fields: { type: 'string', description: 'Comma-separated field names to return' },
        verbose: { type: 'boolean', description: 'Include every field' },
      },
      required: ['id'],
    },
    annotations: { readOnlyHint: true, title: `Get item ${id}` },
  };
}

async function setup() {
  const base = o.url ?? fail('--url is required');
  const admin = o.admin ?? fail('--admin is required');
  const upstream = o.upstream ?? fail('--upstream is required');
  const wanted = Number(o.tools);
  const project = expect(
    'create project',
    await api(base, 'POST', '/api/v1/projects', {
      token: admin,
      body: { name: `${o.name} (${wanted} tools)`, environment: 'production' },
    }),
    201,
  );
  const projectId = project.id;
  const integration = expect(
    'create integration',
    await api(base, 'POST', '/api/v1/integrations', {
      token: admin,
      project: projectId,
      body: { kind: 'sdk', name: 'bench' },
    }),
    201,
  );
  const key = expect(
    'create API key',
    await api(base, 'POST', `/api/v1/integrations/${integration.id}/api-keys`, {
      token: admin,
      project: projectId,
      body: { name: 'bench', scopes: ['mcp:connect', 'sessions:mint'] },
    }),
    201,
  );
  expect(
    'create the echo tool',
    await api(base, 'POST', '/api/v1/custom-tools', {
      token: admin,
      project: projectId,
      body: echoTool(upstream),
    }),
    201,
  );
  // Assertion key for member session tokens (Ed25519; the private half stays in the config file).
  const pair = generateKeyPairSync('ed25519');
  const kid = 'bench-ed25519';
  expect(
    'register the assertion key',
    await api(base, 'POST', '/api/v1/assertion-keys', {
      token: admin,
      project: projectId,
      body: {
        kid,
        algorithm: 'Ed25519',
        public_key: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    }),
    201,
  );
  // Filler tools, created concurrently; a limit error stops the creation and is reported.
  const fillers = { requested: wanted - 1, created: 0, failed: 0, error: null, seconds: 0 };
  if (wanted > 1) {
    const t0 = performance.now();
    let next = 1;
    let stop = false;
    const worker = async () => {
      while (!stop && next < wanted) {
        const i = next++;
        const r = await api(base, 'POST', '/api/v1/custom-tools', {
          token: admin,
          project: projectId,
          body: fillerTool(upstream, i),
        }).catch((e) => ({ status: 0, body: String(e) }));
        if (r.status === 201) {
          fillers.created++;
          continue;
        }
        fillers.failed++;
        const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        fillers.error ??= `HTTP ${r.status} at tool #${i + 1}: ${text.slice(0, 400)}`;
        if (/LIMIT|limit/.test(text) || fillers.failed >= 20) stop = true;
      }
    };
    await Promise.all(Array.from({ length: Number(o['bulk-concurrency']) }, worker));
    fillers.seconds = +((performance.now() - t0) / 1000).toFixed(1);
  }
  const out = {
    url: base,
    admin,
    projectId,
    integrationId: integration.id,
    apiKey: key.key,
    tools: 1 + fillers.created,
    toolsRequested: wanted,
    fillers,
    assertion: {
      kid,
      alg: 'EdDSA',
      privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
  };
  writeFileSync(o.out ?? fail('--out is required'), JSON.stringify(out, null, 2), { mode: 0o600 });
  console.log(
    JSON.stringify({ projectId, tools: out.tools, toolsRequested: wanted, fillers }, null, 0),
  );
}

async function mint() {
  const c = config();
  const { createMemberAssertion } = await import('@tengine/sdk');
  const assertion = await createMemberAssertion({
    privateKey: c.assertion.privateKey,
    kid: c.assertion.kid,
    alg: c.assertion.alg,
    projectId: c.projectId,
    memberExternalId: o.member,
  });
  const r = await api(c.url, 'POST', '/api/v1/mcp/session-token', {
    token: c.apiKey,
    body: { member_assertion: assertion },
  });
  const body = expect('mint a member session token', r, 200);
  if (!String(body.session_token).startsWith('tng_mst_')) {
    fail(`unexpected session token: ${JSON.stringify(body).slice(0, 200)}`);
  }
  // One sequential request first: a gateway that has not yet seen the token's kid fetches the
  // JWKS on the first request, and requests arriving while that fetch is in flight are refused
  // (401 IDENTITY_INVALID_CREDENTIAL) instead of waiting for it. Workers start concurrently.
  const ping = await fetch(new URL('/mcp', c.url), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${body.session_token}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  if (ping.status !== 200)
    fail(`ping with the new session token: HTTP ${ping.status} ${await ping.text()}`);
  process.stdout.write(body.session_token);
}

// ---- MCP over one keep-alive pool ---------------------------------------------------------------------
function mcpClient(c, connections = 4) {
  const url = new URL('/mcp', c.url);
  const pool = new Pool(url.origin, { connections, keepAliveTimeout: 60_000 });
  let id = 1;
  const headers = (sessionId, method = 'POST') => ({
    ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${c.apiKey}`,
    'mcp-protocol-version': PROTOCOL,
    ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
  });
  const post = async (sessionId, message) => {
    const t0 = performance.now();
    const res = await pool.request({
      path: url.pathname,
      method: 'POST',
      headers: headers(sessionId),
      body: JSON.stringify(message),
    });
    const text = await res.body.text();
    const ms = performance.now() - t0;
    if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    return { res, text, ms, bytes: Buffer.byteLength(text) };
  };
  return {
    pool,
    url,
    headers,
    async initialize() {
      const { res, text } = await post(undefined, {
        jsonrpc: '2.0',
        id: id++,
        method: 'initialize',
        params: {
          protocolVersion: PROTOCOL,
          capabilities: {},
          clientInfo: { name: 'bench', version: '1' },
        },
      });
      const body = JSON.parse(text);
      if (body.error) throw new Error(`initialize: ${JSON.stringify(body.error)}`);
      const sessionId = res.headers['mcp-session-id'];
      await post(sessionId, { jsonrpc: '2.0', method: 'notifications/initialized' });
      return sessionId;
    },
    async request(sessionId, method, params) {
      const r = await post(sessionId, { jsonrpc: '2.0', id: id++, method, params });
      const body = JSON.parse(r.text);
      if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error).slice(0, 300)}`);
      return { ...r, result: body.result };
    },
    async remove(sessionId) {
      const res = await pool.request({
        path: url.pathname,
        method: 'DELETE',
        headers: headers(sessionId, 'DELETE'),
      });
      await res.body.dump();
      return res.statusCode;
    },
  };
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length
    ? v.length % 2
      ? v[v.length >> 1]
      : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
    : null;
};

async function list() {
  const c = config();
  const client = mcpClient(c, 1);
  const sessionId = await client.initialize();
  for (let rep = 1; rep <= Number(o.reps); rep++) {
    const pages = [];
    let cursor;
    let tools = 0;
    const t0 = performance.now();
    do {
      const r = await client.request(sessionId, 'tools/list', cursor ? { cursor } : {});
      pages.push({ ms: r.ms, bytes: r.bytes, tools: r.result.tools.length });
      tools += r.result.tools.length;
      cursor = r.result.nextCursor;
    } while (cursor && pages.length < 100_000);
    const fullMs = performance.now() - t0;
    console.log(
      JSON.stringify({
        project_tools: c.tools,
        rep,
        listed_tools: tools,
        pages: pages.length,
        page_size: pages[0].tools,
        first_page_bytes: pages[0].bytes,
        first_page_ms: +pages[0].ms.toFixed(2),
        page_bytes_median: median(pages.map((p) => p.bytes)),
        page_ms_median: +median(pages.map((p) => p.ms)).toFixed(2),
        page_ms_max: +Math.max(...pages.map((p) => p.ms)).toFixed(2),
        full_bytes: pages.reduce((a, p) => a + p.bytes, 0),
        full_ms: +fullMs.toFixed(1),
      }),
    );
  }
  await client.remove(sessionId);
  await client.pool.close();
}

// ---- memory per idle session --------------------------------------------------------------------------
function rssMiB(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) ?? [])[1]);
  return { rss: +(kb('VmRSS') / 1024).toFixed(1), hwm: +(kb('VmHWM') / 1024).toFixed(1) };
}
async function heapMiB(base) {
  try {
    const text = await (await fetch(new URL('/metrics', base))).text();
    const metric = (name) => {
      const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm'));
      return m ? +(Number(m[1]) / 1048576).toFixed(1) : null;
    };
    return {
      heap_used: metric('nodejs_heap_size_used_bytes'),
      heap_total: metric('nodejs_heap_size_total_bytes'),
      external: metric('nodejs_external_memory_bytes'),
    };
  } catch {
    return { heap_used: null, heap_total: null, external: null };
  }
}
async function pool(items, width, fn) {
  let next = 0;
  const results = [];
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}

async function memory() {
  const c = config();
  const pid = Number(o.pid ?? fail('--pid is required'));
  const n = Number(o.sessions);
  const settleMs = Number(o.settle) * 1000;
  const client = mcpClient(c, 32);
  const snap = async (round, phase, extra = {}) => {
    await sleep(settleMs);
    // --gc: the gateway runs bench/gc-on-signal.cjs; a full collection first, then the reading.
    if (o.gc) {
      process.kill(pid, 'SIGUSR2');
      await sleep(500);
    }
    console.log(
      JSON.stringify({
        round,
        phase,
        sessions: n,
        ...rssMiB(pid),
        ...(await heapMiB(c.url)),
        ...extra,
        at: new Date().toISOString(),
      }),
    );
  };
  await snap(0, 'baseline');
  for (let round = 1; round <= Number(o.rounds); round++) {
    const t0 = performance.now();
    const ids = await pool(
      Array.from({ length: n }, (_, i) => i),
      32,
      () => client.initialize(),
    );
    await snap(round, 'idle sessions', {
      open_ms: Math.round(performance.now() - t0),
      distinct_session_ids: new Set(ids).size,
    });
    // One GET SSE stream per session, each on its own connection.
    const streamPool = new Pool(client.url.origin, {
      connections: n + 8,
      headersTimeout: 30_000,
      bodyTimeout: 0,
    });
    const streams = [];
    let refused = 0;
    let refusal;
    const t1 = performance.now();
    await pool(ids, 64, async (sessionId) => {
      const res = await streamPool.request({
        path: client.url.pathname,
        method: 'GET',
        headers: { ...client.headers(sessionId, 'GET'), accept: 'text/event-stream' },
      });
      if (res.statusCode !== 200) {
        refused++;
        refusal ??= `HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`;
        return;
      }
      res.body.on('data', () => {});
      res.body.on('error', () => {});
      streams.push(res.body);
    });
    await snap(round, 'with GET streams', {
      open_ms: Math.round(performance.now() - t1),
      streams: streams.length,
      refused,
      refusal,
    });
    const codes = await pool(ids, 32, (sessionId) => client.remove(sessionId));
    for (const body of streams) body.destroy();
    await streamPool.destroy();
    await snap(round, 'after DELETE and close', {
      delete_ok: codes.filter((code) => code >= 200 && code < 300).length,
    });
  }
  await sleep(Math.max(0, 10_000 - settleMs));
  await snap(Number(o.rounds), 'after close + 10 s');
  await client.pool.close();
}

// ---- bookkeeping: did every call become a Run? -----------------------------------------------------------
async function verify() {
  const c = config();
  const usage = await api(c.url, 'GET', '/api/v1/usage', { token: c.admin, project: c.projectId });
  const runs = await api(c.url, 'GET', '/api/v1/runs?limit=1', {
    token: c.admin,
    project: c.projectId,
  });
  const out = {
    projectId: c.projectId,
    usage_status: usage.status,
    usage: usage.body,
    latest_run: runs.body?.items?.[0] ?? runs.body,
  };
  if (o.prefix) {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { RunsStream } = await import('@tengine/contracts');
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const name = RunsStream.name(o.prefix);
      const info = await jsm.streams.info(name).catch((e) => ({ error: String(e) }));
      out.stream = info.error ? info : { name, messages: info.state.messages };
      const consumers = [];
      for await (const ci of jsm.consumers.list(name)) {
        consumers.push({
          name: ci.name,
          num_pending: ci.num_pending,
          num_ack_pending: ci.num_ack_pending,
          delivered: ci.delivered?.stream_seq,
        });
      }
      out.consumers = consumers;
    } catch (e) {
      out.stream = { error: String(e) };
    } finally {
      await nc.close();
    }
  }
  console.log(JSON.stringify(out));
}

// ---- infrastructure -------------------------------------------------------------------------------------
async function database(action, name) {
  if (!/^[a-z0-9_]{1,63}$/.test(name ?? '')) fail(`bad database name ${name}`);
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    if (action === 'create') await client.query(`CREATE DATABASE "${name}"`);
    else await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function streamDelete(prefix) {
  if (!prefix) fail('PREFIX is required');
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const { RunsStream } = await import('@tengine/contracts');
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    const name = RunsStream.name(prefix);
    const deleted = await jsm.streams.delete(name).catch(() => false);
    console.log(JSON.stringify({ stream: name, deleted }));
  } finally {
    await nc.close();
  }
}

async function waitReady(base, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  let last = '';
  while (Date.now() < end) {
    try {
      const r = await fetch(new URL('/health/ready', base));
      if (r.status === 200) return;
      last = `HTTP ${r.status} ${(await r.text()).slice(0, 300)}`;
    } catch (e) {
      last = String(e.cause?.code ?? e.message);
    }
    await sleep(200);
  }
  fail(`${base}/health/ready not ready within ${seconds} s (last: ${last})`);
}

async function infra(what) {
  switch (what) {
    case 'keyring': {
      const { Keyring } = await import('@tengine/secrets');
      return process.stdout.write(Keyring.generate('bench'));
    }
    case 'db-create':
      return database('create', positionals[0]);
    case 'db-drop':
      return database('drop', positionals[0]);
    case 'stream-delete':
      return streamDelete(positionals[0]);
    case 'wait-ready':
      return waitReady(positionals[0], Number(positionals[1] ?? 60));
    case 'nats-check': {
      const { connect } = await import('@nats-io/transport-node');
      const nc = await connect({ servers: NATS_URL, timeout: 3000 });
      const { jetstreamManager } = await import('@nats-io/jetstream');
      await jetstreamManager(nc); // fails when JetStream is off
      return nc.close();
    }
    case 'pg-check': {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
      await client.connect();
      return client.end();
    }
    default:
      fail(`unknown command (see the header of tengine.mjs)`);
  }
}

const commands = { setup, mint, list, memory, verify };
(commands[command] ?? (() => infra(command)))()
  .then(() => process.exit(0))
  .catch((e) => fail(e.stack ?? String(e)));
