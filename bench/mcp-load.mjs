#!/usr/bin/env node
// Closed-loop load driver for MCP tool calls over Streamable HTTP (and, for comparison, the
// equivalent plain HTTP request to the upstream API).
//
// MCP mode (default):
//   * per worker (or once, with --sessions shared): `initialize`, then
//     `notifications/initialized`; keeps the Mcp-Session-Id when the server hands one out;
//   * opens the standalone GET SSE stream for stateful sessions, as the official client does,
//     answers server `ping` requests on it, and routes responses that arrive there (servers that
//     answer a POST with 202 and deliver the result on the GET stream);
//   * then sends `tools/call` POSTs (Accept: application/json, text/event-stream) over keep-alive
//     connections and parses either a JSON body or SSE `data:` frames;
//   * DELETEs its sessions at the end.
// HTTP mode (--mode http): sends --method/--body to --url, nothing else.
//
// With --server-timing, the `Server-Timing` header of every measured tools/call answer is parsed
// (`name;dur=<ms>` entries) and the line gets `server_timing`: per phase name, the number of calls
// that reported it and its p50/p90/p99/mean in microseconds (null when no answer had the header).
//
// Output: one JSON line on stdout per run. Latencies are in microseconds.
//
// Examples:
//   node mcp-load.mjs --mode http --url http://127.0.0.1:18080/echo -c 8 -d 10
//   node mcp-load.mjs --url http://127.0.0.1:18082/mcp --tool echo -c 32 -d 10
//   node mcp-load.mjs --url http://127.0.0.1:3000/mcp -H 'Authorization: Bearer tengine_xxx' --tool echo
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Pool } from 'undici';

const DEFAULT_ARGS = '{"message":"hello from mcp-load","n":42,"tags":["bench","mcp"]}';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    mode: { type: 'string', default: 'mcp' },
    name: { type: 'string' },
    concurrency: { type: 'string', short: 'c', default: '8' },
    duration: { type: 'string', short: 'd', default: '10' },
    warmup: { type: 'string', default: '1' },
    tool: { type: 'string', default: 'echo' },
    args: { type: 'string', default: DEFAULT_ARGS },
    method: { type: 'string', default: 'POST' },
    body: { type: 'string' },
    header: { type: 'string', short: 'H', multiple: true, default: [] },
    sessions: { type: 'string', default: 'worker' },
    'no-init': { type: 'boolean', default: false },
    'get-stream': { type: 'string', default: 'auto' },
    'protocol-version': { type: 'string', default: '2025-11-25' },
    timeout: { type: 'string', default: '10000' },
    watch: { type: 'string', multiple: true, default: [] },
    'upstream-stats': { type: 'string' },
    'server-timing': { type: 'boolean', default: false },
    tag: { type: 'string', multiple: true, default: [] },
    verbose: { type: 'boolean', short: 'v', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (o.help || !o.url) {
  console.error(`usage: node mcp-load.mjs --url URL [options]
  --mode mcp|http          MCP tools/call (default) or a plain HTTP request
  --name LABEL             target label in the output (default: the URL)
  -c, --concurrency N      concurrent workers, each with one request in flight (default 8)
  -d, --duration S         measured seconds (default 10)
  --warmup S               unmeasured seconds before, same sessions/connections (default 1)
  --tool NAME              MCP tool name (default echo)
  --args JSON              tool arguments (default ${DEFAULT_ARGS})
  --method M --body JSON   http mode: request method and body (body defaults to --args)
  -H, --header 'K: V'      extra request header, repeatable (e.g. 'Authorization: Bearer ...')
  --sessions worker|shared one MCP session per worker (default) or one for all
  --no-init                skip initialize (servers that need no handshake)
  --get-stream auto|on|off open the standalone GET SSE stream for stateful sessions (auto=on)
  --protocol-version V     protocol version to ask for (default 2025-11-25)
  --timeout MS             per-call timeout (default 10000)
  --watch NAME=PID         report CPU time per call and RSS of that process, repeatable
  --upstream-stats URL     GET URL before/after; report the delta of its "requests" field
                           (and of "signed", when the upstream counts signed requests)
  --server-timing          collect the Server-Timing header of each tools/call answer, per phase
  --tag KEY=VALUE          copy a field into the output line, repeatable (e.g. rep=2)`);
  process.exit(o.help ? 0 : 2);
}

const target = new URL(o.url);
const label = o.name ?? o.url;
const concurrency = Math.max(1, Number(o.concurrency));
const durationMs = Number(o.duration) * 1000;
const warmupMs = Number(o.warmup) * 1000;
const timeoutMs = Number(o.timeout);
const isMcp = o.mode === 'mcp';
if (!['mcp', 'http'].includes(o.mode)) fail(`--mode must be mcp or http, got ${o.mode}`);
if (!['worker', 'shared'].includes(o.sessions)) fail(`--sessions must be worker or shared`);

const extraHeaders = {};
for (const h of o.header) {
  const i = h.indexOf(':');
  if (i <= 0) fail(`bad header ${JSON.stringify(h)}: expected 'Name: value'`);
  extraHeaders[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
}
let toolArgs;
try {
  toolArgs = JSON.parse(o.args);
} catch (e) {
  fail(`--args is not JSON: ${e.message}`);
}
const path = target.pathname + target.search;

function fail(msg) {
  console.error(`mcp-load: ${msg}`);
  process.exit(2);
}
const log = o.verbose ? (...a) => console.error('[mcp-load]', ...a) : () => {};

// One pool for request/response traffic, one for long-lived GET streams.
const pool = new Pool(target.origin, {
  connections: concurrency,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: timeoutMs,
  bodyTimeout: timeoutMs,
});
const streamPool = new Pool(target.origin, {
  connections: concurrency + 1,
  keepAliveTimeout: 60_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});

// JSON-RPC ids are unique across all workers and sessions of this process (some servers key
// pending requests by id alone) and unlikely to repeat across runs.
let nextId = (Date.now() % 1_000_000_000) * 1000;

class CallError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

// ---- SSE -------------------------------------------------------------------------------------
function* sseMessages(text) {
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block) continue;
    let data = '';
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('data:'))
        data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5);
    }
    if (data) yield JSON.parse(data);
  }
}

// ---- MCP session ------------------------------------------------------------------------------
class Session {
  constructor() {
    this.sessionId = undefined;
    // Sent as MCP-Protocol-Version once negotiated (right away with --no-init).
    this.protocolVersion = o['no-init'] ? o['protocol-version'] : undefined;
    this.pending = new Map(); // id -> {resolve, timer}
    this.early = new Map(); // responses that arrived on the GET stream before the POST's 202
    this.stream = undefined; // undici body of the GET stream
  }

  headers(method = 'POST') {
    const h = {
      // No Content-Type on a bodyless GET/DELETE: some servers (Fastify) refuse an empty JSON body.
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      accept: 'application/json, text/event-stream',
      ...extraHeaders,
    };
    if (this.protocolVersion) h['mcp-protocol-version'] = this.protocolVersion;
    if (this.sessionId) h['mcp-session-id'] = this.sessionId;
    return h;
  }

  // Send one JSON-RPC message; for requests, resolve with the matching response message.
  // `meta.headers` receives the response headers when `meta` is given.
  async rpc(message, meta) {
    const res = await pool.request({
      path,
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify(message),
    });
    if (meta) meta.headers = res.headers;
    const isRequest = message.id !== undefined;
    if (message.method === 'initialize') {
      const sid = res.headers['mcp-session-id'];
      if (sid) this.sessionId = Array.isArray(sid) ? sid[0] : sid;
    }
    if (res.statusCode === 202) {
      await res.body.dump();
      if (!isRequest) return undefined;
      return this.awaitFromStream(message.id);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await res.body.text();
      throw new CallError(
        `http_${res.statusCode}`,
        `HTTP ${res.statusCode}: ${text.slice(0, 300)}`,
      );
    }
    if (!isRequest) {
      await res.body.dump();
      return undefined;
    }
    const ct = String(res.headers['content-type'] ?? '');
    if (ct.includes('text/event-stream')) {
      const text = await res.body.text();
      let answer;
      for (const msg of sseMessages(text)) {
        if (msg.id === message.id && ('result' in msg || 'error' in msg)) answer = msg;
        else if (msg.method && msg.id !== undefined) this.answerServerRequest(msg);
      }
      if (!answer)
        throw new CallError(
          'no_response',
          `SSE stream ended without a response to id ${message.id}`,
        );
      return answer;
    }
    const text = await res.body.text();
    if (!text) {
      // Some servers answer 200 with an empty body and deliver on the GET stream.
      return this.awaitFromStream(message.id);
    }
    return JSON.parse(text);
  }

  awaitFromStream(id) {
    if (!this.stream) {
      return Promise.reject(
        new CallError(
          'no_stream',
          `server answered 202 to request ${id} and no GET stream is open`,
        ),
      );
    }
    const early = this.early.get(id);
    if (early) {
      this.early.delete(id);
      return Promise.resolve(early);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new CallError(
            'timeout',
            `no response to id ${id} on the GET stream within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
    });
  }

  dispatch(msg) {
    if (msg.id !== undefined && ('result' in msg || 'error' in msg)) {
      const p = this.pending.get(msg.id);
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(msg.id);
        p.resolve(msg);
      } else {
        // The stream can be read before the 202 of the POST that caused it.
        if (this.early.size > 10_000) this.early.clear();
        this.early.set(msg.id, msg);
      }
    } else if (msg.method && msg.id !== undefined) {
      this.answerServerRequest(msg);
    }
  }

  answerServerRequest(msg) {
    const reply =
      msg.method === 'ping'
        ? { jsonrpc: '2.0', id: msg.id, result: {} }
        : {
            jsonrpc: '2.0',
            id: msg.id,
            error: { code: -32601, message: `mcp-load does not implement ${msg.method}` },
          };
    this.rpc(reply).catch((e) => log('answering server request failed:', e.message));
  }

  async initialize() {
    const init = await this.rpc({
      jsonrpc: '2.0',
      id: nextId++,
      method: 'initialize',
      params: {
        protocolVersion: o['protocol-version'],
        capabilities: {},
        clientInfo: { name: 'mcp-load', version: '1.0.0' },
      },
    });
    if (init.error) throw new CallError('init', `initialize failed: ${JSON.stringify(init.error)}`);
    this.protocolVersion = init.result?.protocolVersion ?? o['protocol-version'];
    await this.rpc({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const wantStream = o['get-stream'] === 'on' || (o['get-stream'] === 'auto' && this.sessionId);
    if (wantStream) await this.openStream();
    log(
      `session ${this.sessionId ?? '(stateless)'} protocol ${this.protocolVersion} stream ${!!this.stream}`,
    );
  }

  async openStream() {
    // Fire the GET without waiting for its headers: some servers flush them only with the first
    // event. Then ping until an answer comes back, so the stream is known to be registered.
    let opened = true;
    const req = streamPool
      .request({
        path,
        method: 'GET',
        headers: { ...this.headers('GET'), accept: 'text/event-stream' },
      })
      .then(async (res) => {
        if (res.statusCode !== 200) {
          opened = false;
          this.stream = undefined;
          await res.body.dump();
          return;
        }
        this.stream = res.body;
        let buf = '';
        res.body.setEncoding('utf8');
        for await (const chunk of res.body) {
          buf += chunk;
          let cut;
          while ((cut = buf.search(/\r?\n\r?\n/)) !== -1) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
            for (const msg of sseMessages(block)) this.dispatch(msg);
          }
        }
        if (!this.closing) {
          log('GET stream closed by the server');
          this.stream = undefined;
        }
      })
      .catch((e) => {
        if (!this.closing) {
          log('GET stream failed:', e.message);
          this.stream = undefined;
        }
      });
    this.streamDone = req;
    this.stream = this.stream ?? { pending: true }; // allow 202 routing while headers are in flight
    for (let attempt = 0; attempt < 20; attempt++) {
      if (!opened) break;
      try {
        const r = await Promise.race([
          this.rpc({ jsonrpc: '2.0', id: nextId++, method: 'ping' }),
          new Promise((_, rej) => setTimeout(() => rej(new Error('ping timeout')), 250)),
        ]);
        if (r) return;
      } catch {
        // not there yet
      }
    }
    if (!opened) this.stream = undefined;
  }

  async close() {
    this.closing = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    if (this.sessionId) {
      try {
        const res = await pool.request({ path, method: 'DELETE', headers: this.headers('DELETE') });
        await res.body.dump();
      } catch {
        // best effort
      }
    }
    if (this.stream && typeof this.stream.destroy === 'function') this.stream.destroy();
  }
}

// ---- one call -----------------------------------------------------------------------------------
const httpBody = o.method === 'GET' || o.method === 'HEAD' ? undefined : (o.body ?? o.args);
const httpHeaders = {
  ...(httpBody ? { 'content-type': 'application/json' } : {}),
  accept: 'application/json',
  ...extraHeaders,
};

async function httpCall() {
  const res = await pool.request({ path, method: o.method, headers: httpHeaders, body: httpBody });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new CallError(`http_${res.statusCode}`, `HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
  }
}

// Server-Timing: `a;dur=1.2, b;desc="x";dur=0.3` -> [['a', 1200], ['b', 300]] (microseconds).
function parseServerTiming(value) {
  const out = [];
  for (const entry of String(value).split(',')) {
    const [name, ...params] = entry.split(';').map((part) => part.trim());
    if (!name) continue;
    const dur = params.find((p) => p.toLowerCase().startsWith('dur='));
    if (dur === undefined) continue;
    const ms = Number(dur.slice(4).replace(/^"|"$/g, ''));
    if (Number.isFinite(ms)) out.push([name, ms * 1000]);
  }
  return out;
}
const timings = new Map(); // phase name -> number[] (µs)
let timedCalls = 0;

async function mcpCall(session, measure) {
  const meta = o['server-timing'] ? {} : undefined;
  const msg = await session.rpc(
    {
      jsonrpc: '2.0',
      id: nextId++,
      method: 'tools/call',
      params: { name: o.tool, arguments: toolArgs },
    },
    meta,
  );
  if (meta && measure) {
    const header = meta.headers?.['server-timing'];
    if (header !== undefined) {
      timedCalls++;
      for (const [name, us] of parseServerTiming(
        Array.isArray(header) ? header.join(',') : header,
      )) {
        if (!timings.has(name)) timings.set(name, []);
        timings.get(name).push(us);
      }
    }
  }
  if (msg.error)
    throw new CallError(
      'jsonrpc_error',
      `JSON-RPC error ${JSON.stringify(msg.error).slice(0, 300)}`,
    );
  if (!msg.result)
    throw new CallError(
      'no_result',
      `response without result: ${JSON.stringify(msg).slice(0, 300)}`,
    );
  if (msg.result.isError) {
    throw new CallError(
      'tool_error',
      `tool returned isError: ${JSON.stringify(msg.result).slice(0, 300)}`,
    );
  }
}

// ---- process watching --------------------------------------------------------------------------
const watched = o.watch.map((w) => {
  const [name, pid] = w.split('=');
  if (!name || !pid) fail(`--watch expects NAME=PID, got ${w}`);
  return { name, pid: Number(pid) };
});
let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  // keep 100
}
function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
  } catch {
    return NaN;
  }
}
function memMiB(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) ?? [])[1]);
    return { rss: +(kb('VmRSS') / 1024).toFixed(1), hwm: +(kb('VmHWM') / 1024).toFixed(1) };
  } catch {
    return { rss: null, hwm: null };
  }
}
async function upstreamCount() {
  if (!o['upstream-stats']) return {};
  try {
    const r = await fetch(o['upstream-stats']);
    const stats = await r.json();
    return { requests: stats.requests, signed: stats.signed };
  } catch {
    return {};
  }
}

// ---- run ------------------------------------------------------------------------------------------
const errorKinds = {};
let errorSample;
let errors = 0;
let calls = 0;
let lat = new Float64Array(1 << 16);

function record(us) {
  if (calls === lat.length) {
    const bigger = new Float64Array(lat.length * 2);
    bigger.set(lat);
    lat = bigger;
  }
  lat[calls++] = us;
}

async function phase(sessions, endAt, measure) {
  const worker = async (i) => {
    const s = sessions[o.sessions === 'shared' ? 0 : i];
    while (performance.now() < endAt) {
      const t0 = performance.now();
      try {
        if (isMcp) await mcpCall(s, measure);
        else await httpCall();
        if (measure) record((performance.now() - t0) * 1000);
      } catch (e) {
        if (!measure) continue;
        errors++;
        const kind = e.kind ?? e.code ?? 'exception';
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
        errorSample ??= e.message;
        if (e.kind === undefined) await new Promise((r) => setTimeout(r, 10)); // connection trouble: don't spin
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
}

function serverTimingSummary() {
  if (timedCalls === 0) return null;
  const summary = { calls: timedCalls };
  for (const [name, values] of timings) {
    const sorted = Float64Array.from(values).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    summary[name] = {
      n: sorted.length,
      p50: pct(sorted, 0.5),
      p90: pct(sorted, 0.9),
      p99: pct(sorted, 0.99),
      mean: Math.round(sum / sorted.length),
    };
  }
  return summary;
}

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return Math.round(sorted[idx]);
}

async function main() {
  const sessions = [];
  if (isMcp) {
    const n = o.sessions === 'shared' ? 1 : concurrency;
    for (let i = 0; i < n; i++) sessions.push(new Session());
    if (!o['no-init']) {
      try {
        await Promise.all(sessions.map((s) => s.initialize()));
      } catch (e) {
        console.error(`mcp-load: ${label}: ${e.message}`);
        await Promise.all(sessions.map((s) => s.close()));
        await pool.destroy();
        await streamPool.destroy();
        process.exit(1);
      }
    }
  }

  if (warmupMs > 0) await phase(sessions, performance.now() + warmupMs, false);

  const up0 = await upstreamCount();
  const cpu0 = watched.map((w) => cpuTicks(w.pid));
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  await phase(sessions, t0 + durationMs, true);
  const elapsed = (performance.now() - t0) / 1000;
  const self1 = process.cpuUsage(self0);
  const cpu1 = watched.map((w) => cpuTicks(w.pid));
  const up1 = await upstreamCount();

  const total = calls + errors;
  const cpuPerCall = { driver: total ? Math.round((self1.user + self1.system) / total) : null };
  const mem = {};
  watched.forEach((w, i) => {
    const us = ((cpu1[i] - cpu0[i]) / clkTck) * 1e6;
    cpuPerCall[w.name] = total && Number.isFinite(us) ? Math.round(us / total) : null;
    mem[w.name] = memMiB(w.pid);
  });

  const sorted = lat.subarray(0, calls).sort();
  let sum = 0;
  for (let i = 0; i < calls; i++) sum += sorted[i];
  const tags = Object.fromEntries(
    o.tag.map((t) => {
      const i = t.indexOf('=');
      const v = t.slice(i + 1);
      return [t.slice(0, i), /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v];
    }),
  );
  const out = {
    target: label,
    ...tags,
    url: o.url,
    mode: o.mode,
    stateful: isMcp ? sessions.some((s) => s.sessionId) : false,
    get_stream: isMcp ? sessions.some((s) => s.stream) : false,
    protocol_version: isMcp ? sessions[0]?.protocolVersion : undefined,
    concurrency,
    duration_s: +elapsed.toFixed(3),
    calls,
    errors,
    rps: +(calls / elapsed).toFixed(1),
    p50: pct(sorted, 0.5),
    p90: pct(sorted, 0.9),
    p99: pct(sorted, 0.99),
    p99_9: pct(sorted, 0.999),
    max: calls ? Math.round(sorted[calls - 1]) : null,
    mean: calls ? Math.round(sum / calls) : null,
    upstream_hits:
      up0.requests !== undefined && up1.requests !== undefined
        ? up1.requests - up0.requests
        : undefined,
    upstream_signed:
      up0.signed !== undefined && up1.signed !== undefined ? up1.signed - up0.signed : undefined,
    server_timing: o['server-timing'] ? serverTimingSummary() : undefined,
    cpu_us_per_call: cpuPerCall,
    mem_mib: watched.length ? mem : undefined,
    error_kinds: errors ? errorKinds : undefined,
    error_sample: errorSample,
    at: new Date().toISOString(),
  };
  process.stdout.write(JSON.stringify(out) + '\n');

  await Promise.all(sessions.map((s) => s.close()));
  await pool.close().catch(() => {});
  await streamPool.destroy().catch(() => {});
  process.exit(0);
}

main().catch((e) => {
  console.error(`mcp-load: ${e.stack ?? e}`);
  process.exit(1);
});
