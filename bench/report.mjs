#!/usr/bin/env node
// Turns the JSON lines run.sh wrote into the markdown report (bench/RESULTS.md).
//
//   node report.mjs OUT_DIR
//
// Per (target, concurrency): medians over repetitions. The ratio and the added latency vs `direct`
// are computed per repetition (each target's run against the `direct` run of the same repetition
// and concurrency) and then the median is taken, so slow drifts of a shared machine cancel out as
// far as possible.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node report.mjs OUT_DIR');
  process.exit(2);
}
const lines = (f) =>
  existsSync(join(dir, f))
    ? readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
const runs = lines('results.jsonl');
const warmups = lines('warmup.jsonl');
const breakdown = lines('breakdown.jsonl');
const scaleSetup = lines('scale-setup.jsonl');
const scaleList = lines('scale-list.jsonl');
const scale = lines('scale.jsonl');
const memory = lines('memory.jsonl');
const executors = lines('executors.jsonl');
const verify = lines('verify.jsonl');
const rss = lines('rss.jsonl');
const meta = existsSync(join(dir, 'meta.json'))
  ? JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'))
  : {};
const BASE = 'direct';
const TENGINE = ['tengine', 'tengine-session', 'tengine-embedded'];
const TENGINE_PROCS = [
  'gateway',
  'registry',
  'identity',
  'executor',
  'executor2',
  'audit',
  'platform',
];

// ---- helpers -------------------------------------------------------------------------------------------
const finite = (x) => x !== null && x !== undefined && Number.isFinite(x);
const median = (xs) => {
  const v = xs.filter(finite).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmtInt = (x) => (finite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const fmtUs = (us) =>
  !finite(us)
    ? '–'
    : Math.abs(us) >= 10_000
      ? `${(us / 1000).toFixed(1)} ms`
      : Math.abs(us) >= 1000
        ? `${(us / 1000).toFixed(2)} ms`
        : `${Math.round(us)} µs`;
const signed = (us) => (!finite(us) ? '–' : `${us >= 0 ? '+' : '−'}${fmtUs(Math.abs(us))}`);
const ratio = (x) =>
  !finite(x) ? '–' : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
const fmtMs = (ms) =>
  !finite(ms)
    ? '–'
    : ms >= 100
      ? `${Math.round(ms)} ms`
      : ms >= 10
        ? `${ms.toFixed(1)} ms`
        : `${ms.toFixed(2)} ms`;
const mib = (x) => (finite(x) ? `${x.toFixed(1)} MiB` : '–');
const signedMib = (x) => (finite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)} MiB` : '–');
const table = (head, rows, align) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const tengineCpu = (r) => {
  const c = r.cpu_us_per_call ?? {};
  const parts = TENGINE_PROCS.filter((p) => finite(c[p]));
  return parts.length ? parts.reduce((a, p) => a + c[p], 0) : null;
};
const targetCpu = (r) =>
  finite(r.cpu_us_per_call?.target) ? r.cpu_us_per_call.target : tengineCpu(r);
const allCpu = (r) => {
  const c = r.cpu_us_per_call ?? {};
  const vals = Object.values(c).filter(finite); // direct: driver + upstream (as target)
  return vals.length ? vals.reduce((a, b) => a + b, 0) : null;
};
const ceiling = (cpuUs) => (finite(cpuUs) && cpuUs > 0 ? ((meta.nproc ?? 1) * 1e6) / cpuUs : null);

const targets = [...new Set(runs.map((r) => r.target))];
const concs = [...new Set(runs.map((r) => r.concurrency))].sort((a, b) => a - b);
const peers = targets.filter((t) => t !== BASE && !TENGINE.includes(t));
const find = (t, c, rep) =>
  runs.find((r) => r.target === t && r.concurrency === c && r.rep === rep);
function stats(t, c) {
  const rs = runs.filter((r) => r.target === t && r.concurrency === c);
  if (!rs.length) return null;
  const rps = median(rs.map((r) => r.rps));
  const lo = Math.min(...rs.map((r) => r.rps));
  const hi = Math.max(...rs.map((r) => r.rps));
  const ratios = [];
  const addP50 = [];
  const addP99 = [];
  for (const r of rs) {
    const b = find(BASE, c, r.rep);
    if (!b || !b.rps) continue;
    ratios.push(r.rps / b.rps);
    if (finite(r.p50) && finite(b.p50)) addP50.push(r.p50 - b.p50);
    if (finite(r.p99) && finite(b.p99)) addP99.push(r.p99 - b.p99);
  }
  return {
    n: rs.length,
    rps,
    spread: rps ? ((hi - lo) / 2 / rps) * 100 : null,
    p50: median(rs.map((r) => r.p50)),
    p90: median(rs.map((r) => r.p90)),
    p99: median(rs.map((r) => r.p99)),
    ratio: t === BASE ? 1 : median(ratios),
    addP50: t === BASE ? 0 : median(addP50),
    addP99: t === BASE ? 0 : median(addP99),
    cpu: median(rs.map(targetCpu)),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    calls: rs.reduce((a, r) => a + r.calls, 0),
    runs: rs,
  };
}

const out = [];
// Runs of 5 s or more, repeated at least 3 times, give medians worth comparing (the default is 10 s).
const short = (meta.duration ?? 10) < 5 || (meta.reps ?? 3) < 3;
out.push('# Benchmark results');
out.push(
  `Generated by \`npm run bench\` ([bench/run.sh](run.sh)) on ${meta.date ?? '?'}. ` +
    `Everything on one machine over loopback: load driver, upstream, peers and tengine share its ${meta.nproc ?? '?'} cores, ` +
    'so read the ratios, not the absolute numbers. Method, knobs and caveats: [bench/README.md](README.md).',
);
if (short) {
  out.push(
    `> **Short validation run** (${meta.duration} s per run, ${meta.reps} repetition(s)): the numbers only show that every section works; rerun with the defaults (\`npm run bench\`) for figures worth comparing.`,
  );
}

// ---- ratios first ----------------------------------------------------------------------------------------
const headline = [];
const goals = [];
if (runs.length) {
  out.push('## Ratios first');
  for (const c of concs) {
    const d = stats(BASE, c);
    const parts = [];
    for (const t of TENGINE) {
      const s = stats(t, c);
      if (s) parts.push(`${t} ${ratio(s.ratio)}× (${fmtInt(s.rps)}/s)`);
    }
    const peerStats = peers.map((p) => [p, stats(p, c)]).filter(([, s]) => s);
    const best = peerStats.sort((a, b) => b[1].rps - a[1].rps)[0];
    if (best)
      parts.push(`best peer ${best[0]} ${ratio(best[1].ratio)}× (${fmtInt(best[1].rps)}/s)`);
    headline.push(`- **c=${c}** (direct ${fmtInt(d?.rps)} calls/s): ${parts.join('; ')}.`);
  }
  for (const t of TENGINE) {
    const s = stats(t, 1);
    if (s) {
      headline.push(
        `- **${t} at c=1** adds ${signed(s.addP50)} p50 and ${signed(s.addP99)} p99 over the direct call (p50 ${fmtUs(s.p50)}, direct ${fmtUs(stats(BASE, 1)?.p50)}).`,
      );
    }
  }
  out.push(headline.join('\n'));

  // Issue #9's targets, against this run.
  const tg32 = stats('tengine', 32);
  const tg1 = stats('tengine', 1);
  const bestPeerAt = (c) =>
    peers
      .map((p) => [p, stats(p, c)])
      .filter(([, s]) => s)
      .sort((a, b) => b[1].rps - a[1].rps)[0];
  const verdict = (ok) => (ok === null ? 'not measured' : ok ? 'met' : '**missed**');
  if (tg32) {
    const best = bestPeerAt(32);
    goals.push([
      'Full path at c=32 at least as fast as the best peer in the same run',
      best
        ? `${fmtInt(tg32.rps)} vs ${best[0]} ${fmtInt(best[1].rps)} calls/s (${ratio(tg32.rps / best[1].rps)}×)`
        : `${fmtInt(tg32.rps)} calls/s, no peer ran`,
      verdict(best ? tg32.rps >= best[1].rps : null),
    ]);
    goals.push([
      '≥ 3,000 calls/s at c=32',
      `${fmtInt(tg32.rps)} calls/s`,
      verdict(tg32.rps >= 3000),
    ]);
  }
  if (tg1) {
    goals.push(['Added p50 at c=1 ≤ 1.0 ms', signed(tg1.addP50), verdict(tg1.addP50 <= 1000)]);
    goals.push(['Added p99 at c=1 ≤ 5 ms', signed(tg1.addP99), verdict(tg1.addP99 <= 5000)]);
  }
  const faster = [];
  for (const c of [1, 32]) {
    const s = stats('tengine', c);
    if (!s) continue;
    const names = peers.filter((p) => (stats(p, c)?.rps ?? 0) > s.rps);
    if (names.length) faster.push(`c=${c}: ${names.join(', ')}`);
  }
  if (tg1 || tg32) {
    goals.push([
      'Faster than every peer at c=1 and c=32',
      faster.length ? `faster than tengine at ${faster.join('; ')}` : 'no peer is faster',
      verdict(peers.length ? faster.length === 0 : null),
    ]);
  }
}
// tools/call p99 across tool counts (c=1 if measured, else the lowest concurrency)
if (scale.length) {
  const c = Math.min(...scale.map((r) => r.concurrency));
  const counts = [...new Set(scale.map((r) => r.tools))].sort((a, b) => a - b);
  const p99s = counts.map((n) => [
    n,
    median(scale.filter((r) => r.tools === n && r.concurrency === c).map((r) => r.p99)),
  ]);
  const base = p99s[0]?.[1];
  const dev = Math.max(...p99s.map(([, p]) => Math.abs(p / base - 1)));
  goals.push([
    `tools/call p99 within ±10 % from ${counts[0]} to ${counts[counts.length - 1]} tools (c=${c})`,
    p99s.map(([n, p]) => `${fmtInt(n)}: ${fmtUs(p)}`).join(', ') +
      ` (max ${(dev * 100).toFixed(0)} %)`,
    counts.length > 1 ? (dev <= 0.1 ? 'met' : '**missed**') : 'not measured',
  ]);
  const shortOf = scaleSetup.filter((s) => s.tools < s.toolsRequested);
  if (shortOf.length) {
    goals[goals.length - 1][1] +=
      `; ${shortOf.map((s) => `${fmtInt(s.toolsRequested)} requested, ${fmtInt(s.tools)} created`).join('; ')}`;
  }
}
if (memory.length) {
  const baseline = memory.find((m) => m.phase === 'baseline');
  const idle = memory.find((m) => m.round === 1 && m.phase === 'idle sessions');
  const last = memory[memory.length - 1];
  if (baseline && idle) {
    const per1000 = ((idle.rss - baseline.rss) * 1000) / idle.sessions;
    goals.push([
      '≤ 50 MB per 1,000 idle sessions',
      `${signedMib(per1000)} RSS per 1,000 (heap ${signedMib(((idle.heap_used - baseline.heap_used) * 1000) / idle.sessions)})`,
      per1000 * 1.048576 <= 50 ? 'met' : '**missed**',
    ]);
    goals.push([
      'Returns to baseline after close',
      `RSS ${mib(baseline.rss)} → ${mib(last.rss)}, heap used ${mib(baseline.heap_used)} → ${mib(last.heap_used)} (${last.phase})`,
      last.heap_used - baseline.heap_used <= Math.max(5, 0.1 * baseline.heap_used)
        ? 'met (heap)'
        : '**missed** (heap)',
    ]);
  }
}
if (goals.length) {
  out.push("Issue #9's targets against this run:");
  out.push(table(['target', 'measured', 'verdict'], goals, ['l', 'l', 'l']));
}

// ---- main table ---------------------------------------------------------------------------------------------
if (runs.length) {
  out.push('## Tool call: direct, peers and tengine');
  out.push(
    `Medians of ${meta.reps ?? '?'} repetition(s), ${meta.duration ?? '?'} s each after ${meta.run_warmup ?? '?'} s unmeasured warm-up. *Spread* is half the min–max range of calls/s relative to the median. Ratio and added latency are paired per repetition against \`direct\` at the same concurrency. *Target CPU / call* is user + system CPU of the server per call: for \`direct\` the upstream's, for a peer its process, for tengine the sum of its processes (gateway, registry, identity, executor, audit; \`tengine-embedded\`: the one process), without NATS, PostgreSQL, upstream and driver.`,
  );
  const rows = [];
  for (const c of concs) {
    for (const t of targets) {
      const s = stats(t, c);
      if (!s) continue;
      rows.push([
        t,
        c,
        fmtInt(s.rps),
        finite(s.spread) ? `±${s.spread.toFixed(0)}% (n=${s.n})` : '–',
        fmtUs(s.p50),
        fmtUs(s.p90),
        fmtUs(s.p99),
        t === BASE ? '1.00' : ratio(s.ratio),
        t === BASE ? '0' : signed(s.addP50),
        t === BASE ? '0' : signed(s.addP99),
        finite(s.cpu) ? `${fmtInt(s.cpu)} µs` : '–',
        s.errors ? `${s.errors} / ${fmtInt(s.calls + s.errors)}` : '0',
      ]);
    }
  }
  out.push(
    table(
      [
        'target',
        'c',
        'calls/s',
        'spread',
        'p50',
        'p90',
        'p99',
        'ratio vs direct',
        'added p50',
        'added p99',
        'target CPU / call',
        'errors',
      ],
      rows,
    ),
  );
  out.push('![p50 and p99 latency vs concurrency](latency-vs-concurrency.svg)');

  // CPU per call, per process
  const procRows = [];
  const procNames = [
    'gateway',
    'registry',
    'identity',
    'executor',
    'audit',
    'platform',
    'nats',
    'upstream',
    'driver',
  ];
  for (const t of TENGINE) {
    for (const c of concs) {
      const s = stats(t, c);
      if (!s) continue;
      const cell = (p) => {
        const v = median(s.runs.map((r) => r.cpu_us_per_call?.[p]));
        return finite(v) ? fmtInt(v) : '–';
      };
      const total = median(s.runs.map(allCpu));
      procRows.push([
        t,
        c,
        ...procNames.map(cell),
        fmtInt(median(s.runs.map(tengineCpu))),
        fmtInt(total),
        fmtInt(ceiling(total)),
        fmtInt(s.rps),
      ]);
    }
  }
  if (procRows.length) {
    out.push('### CPU per call, per process (µs)');
    out.push(
      `Medians over repetitions. *all* adds NATS, upstream and driver (not PostgreSQL); *CPU-bound ceiling* is ${meta.nproc ?? '?'} cores × 1 s / *all*: the calls/s this machine could reach if those processes were the only work and scaled perfectly. \`nats\` is the shared local nats-server, which other work on the machine may also use.`,
    );
    out.push(
      table(
        [
          'target',
          'c',
          ...procNames,
          'tengine',
          'all',
          'CPU-bound ceiling (calls/s)',
          'measured calls/s',
        ],
        procRows,
      ),
    );
  }
}

// ---- breakdown -------------------------------------------------------------------------------------------------
if (breakdown.length) {
  out.push('## Where the time goes at c=1 (Server-Timing)');
  const withHeader = breakdown.filter((b) => b.server_timing);
  if (!withHeader.length) {
    out.push(
      `no Server-Timing header: the gateway did not answer \`tools/call\` with a \`Server-Timing\` header in this run (${breakdown.map((b) => `${b.target}: ${fmtInt(b.calls)} calls, client p50 ${fmtUs(b.p50)}`).join('; ')}).`,
    );
  } else {
    const order = [
      'gw-parse',
      'gw-auth',
      'gw-validate',
      'nats',
      'ex-render',
      'ex-sign',
      'ex-ledger',
      'upstream',
      'ex-publish',
      'gw-total',
    ];
    const names = [...order];
    for (const b of withHeader)
      for (const k of Object.keys(b.server_timing))
        if (k !== 'calls' && !names.includes(k)) names.push(k);
    const head = ['phase'];
    for (const b of breakdown) head.push(`${b.target} p50`, `${b.target} p99`);
    const rows = names
      .filter((n) => withHeader.some((b) => b.server_timing[n]))
      .map((n) => [
        n,
        ...breakdown.flatMap((b) => [
          fmtUs(b.server_timing?.[n]?.p50),
          fmtUs(b.server_timing?.[n]?.p99),
        ]),
      ]);
    rows.push([
      'client-measured call (driver)',
      ...breakdown.flatMap((b) => [fmtUs(b.p50), fmtUs(b.p99)]),
    ]);
    rows.push([
      'client − gw-total (HTTP, driver, kernel)',
      ...breakdown.flatMap((b) => [
        b.server_timing?.['gw-total'] ? signed(b.p50 - b.server_timing['gw-total'].p50) : '–',
        '',
      ]),
    ]);
    out.push(
      `Per-phase medians and p99 of the \`Server-Timing\` header over ${breakdown.map((b) => `${fmtInt(b.server_timing?.calls ?? 0)} calls (${b.target})`).join(', ')}; a phase's p99 and the total's p99 do not come from the same calls, so they do not add up. Direct call p50 in the matrix at c=1: ${fmtUs(stats(BASE, 1)?.p50)}.`,
    );
    out.push(table(head, rows));
    const missing = breakdown.filter((b) => !b.server_timing).map((b) => b.target);
    if (missing.length) out.push(`no Server-Timing header from: ${missing.join(', ')}.`);
  }
}

// ---- scale in tools -----------------------------------------------------------------------------------------------
if (scaleSetup.length || scale.length) {
  out.push('## Scale in tools');
  out.push(
    'One project per size, each with the signed `echo` tool plus filler tools (`GET /items/{{id}}`, ~0.5 KB each as `tools/list` shows them), created through `POST /api/v1/custom-tools`, 16 at a time.',
  );
  out.push(
    table(
      ['tools requested', 'created', 'creation time (fillers)', 'created/s', 'creation stopped by'],
      scaleSetup.map((s) => [
        fmtInt(s.toolsRequested),
        fmtInt(s.tools),
        s.fillers.requested ? `${s.fillers.seconds} s` : '–',
        s.fillers.seconds ? fmtInt(s.fillers.created / s.fillers.seconds) : '–',
        s.fillers.error ? `\`${s.fillers.error.replace(/\|/g, '\\|').slice(0, 300)}\`` : '–',
      ]),
      ['r', 'r', 'r', 'r', 'l'],
    ),
  );
  if (scale.length) {
    const counts = [...new Set(scale.map((r) => r.tools))].sort((a, b) => a - b);
    const cs = [...new Set(scale.map((r) => r.concurrency))].sort((a, b) => a - b);
    const rows = [];
    for (const c of cs) {
      const base = median(
        scale.filter((r) => r.tools === counts[0] && r.concurrency === c).map((r) => r.p99),
      );
      for (const n of counts) {
        const rs = scale.filter((r) => r.tools === n && r.concurrency === c);
        if (!rs.length) continue;
        const p99 = median(rs.map((r) => r.p99));
        const errs = rs.reduce((a, r) => a + r.errors, 0);
        rows.push([
          fmtInt(n),
          fmtInt(rs[0].tools_created),
          c,
          fmtInt(median(rs.map((r) => r.rps))),
          fmtUs(median(rs.map((r) => r.p50))),
          fmtUs(p99),
          base ? `${(((p99 - base) / base) * 100).toFixed(0)} %` : '–',
          errs
            ? `${errs} (${rs
                .find((r) => r.errors)
                ?.error_sample?.slice(0, 160)
                .replace(/\|/g, '\\|')})`
            : '0',
        ]);
      }
    }
    out.push(
      `\`tools/call\` of \`echo\` (medians of ${Math.max(...scale.map((r) => r.rep))} repetition(s), project order reversed every other one):`,
    );
    out.push(
      table(
        [
          'tools',
          'created',
          'c',
          'calls/s',
          'p50',
          'p99',
          `p99 vs ${fmtInt(counts[0])} tool(s)`,
          'errors',
        ],
        rows,
      ),
    );
  }
  if (scaleList.length) {
    const counts = [...new Set(scaleList.map((r) => r.project_tools))].sort((a, b) => a - b);
    const rows = counts.map((n) => {
      const rs = scaleList.filter((r) => r.project_tools === n);
      const first = rs.find((r) => r.rep === 1) ?? rs[0];
      const warm = rs.filter((r) => r.rep > 1);
      return [
        fmtInt(n),
        fmtInt(first.listed_tools),
        fmtInt(first.pages),
        fmtInt(first.first_page_bytes),
        fmtMs(first.first_page_ms),
        fmtMs(first.full_ms),
        fmtMs(median(warm.map((r) => r.page_ms_median))),
        fmtMs(median(warm.map((r) => r.page_ms_max))),
        fmtMs(median(warm.map((r) => r.full_ms))),
        fmtInt(first.full_bytes),
      ];
    });
    out.push(
      '`tools/list`, paging with `nextCursor` from one session: the first listing right after the tools were created, then warm listings (medians):',
    );
    out.push(
      table(
        [
          'tools',
          'listed',
          'pages',
          'page bytes (first)',
          'first page (first listing)',
          'full listing (first)',
          'page (warm, median)',
          'slowest page (warm)',
          'full listing (warm)',
          'full listing bytes',
        ],
        rows,
      ),
    );
  }
}

// ---- memory -------------------------------------------------------------------------------------------------------
if (memory.length) {
  out.push('## Memory per idle MCP session (gateway)');
  const baseline = memory.find((m) => m.phase === 'baseline');
  out.push(
    `The gateway process alone: \`VmRSS\` from \`/proc/<pid>/status\`, heap from its \`/metrics\` (\`nodejs_heap_size_used_bytes\`), ${memory[0].sessions} sessions opened with \`initialize\` + \`notifications/initialized\` (no calls), then one GET SSE stream per session (one connection each), then every session \`DELETE\`d and every stream closed. Figures a few seconds after each step, right after a full garbage collection (the benchmark starts the gateway with \`--expose-gc\` and \`bench/gc-on-signal.cjs\`).`,
  );
  out.push(
    table(
      [
        'round',
        'state',
        'RSS',
        'Δ RSS',
        'heap used',
        'Δ heap',
        'Δ RSS per 1,000 sessions',
        'notes',
      ],
      memory.map((m) => [
        m.round,
        m.phase,
        mib(m.rss),
        signedMib(m.rss - baseline.rss),
        mib(m.heap_used),
        signedMib(m.heap_used - baseline.heap_used),
        m.phase === 'idle sessions' || m.phase === 'with GET streams'
          ? signedMib(((m.rss - baseline.rss) * 1000) / m.sessions)
          : '–',
        [
          m.streams !== undefined ? `${m.streams} streams open` : '',
          m.refused ? `${m.refused} refused: ${m.refusal}` : '',
          m.delete_ok !== undefined ? `${m.delete_ok}/${m.sessions} DELETE answered 2xx` : '',
          m.open_ms !== undefined ? `opened in ${m.open_ms} ms` : '',
        ]
          .filter(Boolean)
          .join('; ') || '–',
      ]),
      ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
}

// ---- executors ----------------------------------------------------------------------------------------------------
if (executors.length) {
  out.push('## Executor scaling');
  const counts = [...new Set(executors.map((r) => r.executors))].sort((a, b) => a - b);
  const names = [
    'gateway',
    'executor',
    'registry',
    'identity',
    'audit',
    'nats',
    'upstream',
    'driver',
  ];
  const rows = counts.map((n) => {
    const rs = executors.filter((r) => r.executors === n);
    const cpu = (p) =>
      median(
        rs.map((r) =>
          p === 'executor'
            ? (r.cpu_us_per_call?.executor ?? 0) + (r.cpu_us_per_call?.executor2 ?? 0)
            : r.cpu_us_per_call?.[p],
        ),
      );
    const total = median(rs.map(allCpu));
    const lo = Math.min(...rs.map((r) => r.rps));
    const hi = Math.max(...rs.map((r) => r.rps));
    const rps = median(rs.map((r) => r.rps));
    return [
      n,
      fmtInt(rps),
      `±${(((hi - lo) / 2 / rps) * 100).toFixed(0)}% (n=${rs.length})`,
      fmtUs(median(rs.map((r) => r.p50))),
      fmtUs(median(rs.map((r) => r.p99))),
      ...names.map((p) => fmtInt(cpu(p))),
      fmtInt(total),
      fmtInt(ceiling(total)),
    ];
  });
  out.push(
    `tengine (API key) at c=${executors[0].concurrency}, the second executor started before and stopped after its runs, order alternating. CPU per call in µs (executor = both executors).`,
  );
  out.push(
    table(
      [
        'executors',
        'calls/s',
        'spread',
        'p50',
        'p99',
        ...names.map((n) => `${n} CPU`),
        'all CPU',
        'CPU-bound ceiling',
      ],
      rows,
    ),
  );
  const one = executors.filter((r) => r.executors === 1);
  const two = executors.filter((r) => r.executors === 2);
  if (one.length && two.length) {
    const r1 = median(one.map((r) => r.rps));
    const r2 = median(two.map((r) => r.rps));
    const all = median(one.map(allCpu));
    out.push(
      `A second executor changes throughput by ${ratio(r2 / r1)}×. On ${meta.nproc} cores the processes of one call use ${fmtInt(all)} µs of CPU in all, which caps throughput at about ${fmtInt(ceiling(all))} calls/s however the work is spread; a second executor only helps if the executor itself is the process that saturates (its CPU per call × calls/s near 1 core) while cores are idle.`,
    );
  }
}

// ---- process memory, bookkeeping, checks ---------------------------------------------------------------------------
if (rss.length) {
  out.push('## Process memory');
  const names = [...new Set(rss.map((r) => r.name))];
  out.push(
    table(
      ['process', 'RSS idle (after start)', 'RSS at the end', 'peak RSS (VmHWM)'],
      names.map((n) => {
        const idle = rss.find((r) => r.name === n && r.phase === 'idle');
        const end = rss.find((r) => r.name === n && r.phase === 'end');
        return [n, mib(idle?.rss), mib(end?.rss), mib(end?.hwm ?? idle?.hwm)];
      }),
    ),
  );
}

const checks = [];
const bookkeeping = [];
for (const v of verify) {
  const t = v.usage?.totals;
  const label = v.stream ? 'tengine (5 processes)' : 'tengine-embedded';
  const parts = [];
  if (t) {
    parts.push(
      `audit recorded ${fmtInt(t.runs)} Runs (${fmtInt(t.succeeded)} succeeded, ${fmtInt(t.failed)} failed, ${fmtInt(t.indeterminate)} indeterminate, ${fmtInt(t.rejected)} rejected, ${fmtInt(t.running)} running)`,
    );
  } else {
    parts.push(`usage query answered ${v.usage_status}`);
  }
  if (v.stream) {
    parts.push(
      v.stream.error
        ? `runs stream: ${v.stream.error}`
        : `JetStream stream ${v.stream.name} holds ${fmtInt(v.stream.messages)} Run events; consumer(s) ${(v.consumers ?? []).map((c) => `${c.name} pending ${c.num_pending}, unacknowledged ${c.num_ack_pending}`).join('; ')}`,
    );
  }
  bookkeeping.push(`- ${label}, main project: ${parts.join('; ')}.`);
}
const all = [...runs, ...breakdown, ...scale, ...executors];
for (const r of all) {
  const where =
    `${r.section ?? ''} ${r.target} c=${r.concurrency}${r.rep ? ` rep=${r.rep}` : ''}${r.tools ? ` tools=${r.tools}` : ''}${r.executors ? ` executors=${r.executors}` : ''}`.trim();
  if (r.upstream_hits !== undefined && r.upstream_hits !== r.calls + r.errors) {
    checks.push(
      `- ${where}: upstream saw ${r.upstream_hits} requests for ${r.calls + r.errors} calls`,
    );
  }
  if (
    r.target.startsWith('tengine') &&
    r.upstream_signed !== undefined &&
    r.upstream_signed !== r.upstream_hits
  ) {
    checks.push(
      `- ${where}: ${r.upstream_hits - r.upstream_signed} upstream requests without X-Tengine-Signature`,
    );
  }
  if (r.errors) checks.push(`- ${where}: ${r.errors} errors, e.g. ${r.error_sample}`);
}
for (const w of warmups) {
  if (w.errors)
    checks.push(
      `- warm-up ${w.target}: ${w.errors} errors (left out of the matrix), e.g. ${w.error_sample}`,
    );
}
out.push('## Checks');
out.push(
  [
    checks.length
      ? `Checks that failed:\n${checks.join('\n')}`
      : `Every call of every run reached the upstream exactly once (upstream request count = calls + errors), every tengine call arrived signed (\`X-Tengine-Signature\`), no errors.`,
    ...bookkeeping,
  ].join('\n'),
);

// ---- machine ----------------------------------------------------------------------------------------------------------
out.push('## Machine and run');
out.push(
  [
    `- date: ${meta.date ?? '?'}; commit ${meta.commit || '?'}; sections: ${meta.sections ?? '?'}`,
    `- ${meta.nproc ?? '?'} cores (\`nproc\`), ${meta.cpu ?? '?'}, ${meta.mem ?? '?'} RAM; ${meta.os ?? '?'}`,
    `- load average before the run ${meta.loadavg ?? '?'}, after ${meta.loadafter ?? '?'}`,
    `- node ${meta.node ?? '?'}, npm ${meta.npm ?? '?'}; ${meta.nats || 'nats-server ?'}; ${meta.postgres || 'PostgreSQL ?'}`,
    `- peers: ${meta.versions ?? '?'}`,
    `- matrix: concurrency ${meta.concurrency ?? '?'}; ${meta.duration ?? '?'} s per run after ${meta.run_warmup ?? '?'} s unmeasured warm-up; ${meta.reps ?? '?'} repetition(s), target order reversed on every other repetition`,
  ].join('\n'),
);
// ---- findings (hand-written, kept across runs) ------------------------------------------------------------------------
const findings = join(import.meta.dirname, 'FINDINGS.md');
if (existsSync(findings)) out.push(readFileSync(findings, 'utf8').trim());
console.log(out.join('\n\n'));
