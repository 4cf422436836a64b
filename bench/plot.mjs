#!/usr/bin/env node
// p50 and p99 latency vs concurrency, one line per target, log-scale y, as a self-contained SVG.
//
//   node plot.mjs OUT_DIR > latency-vs-concurrency.svg      (reads OUT_DIR/results.jsonl)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node plot.mjs OUT_DIR');
  process.exit(2);
}
const file = join(dir, 'results.jsonl');
const runs = existsSync(file)
  ? readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
const meta = existsSync(join(dir, 'meta.json'))
  ? JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'))
  : {};

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const esc = (s) =>
  String(s).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );

const targets = [...new Set(runs.map((r) => r.target))];
const concs = [...new Set(runs.map((r) => r.concurrency))].sort((a, b) => a - b);
const series = targets.map((t) => ({
  t,
  p50: concs.map((c) =>
    median(runs.filter((r) => r.target === t && r.concurrency === c).map((r) => r.p50)),
  ),
  p99: concs.map((c) =>
    median(runs.filter((r) => r.target === t && r.concurrency === c).map((r) => r.p99)),
  ),
}));

const COLORS = {
  direct: '#222222',
  'sdk-stateless': '#8c8c8c',
  'sdk-stateful': '#6a9fd4',
  'sdk-stateful-json': '#9ecae1',
  'openapi-mcp-server': '#74c476',
  fastmcp: '#bcbd22',
  'sdk-stateless-json': '#c7c7c7',
  'fastmcp-stateless': '#dbdb8d',
  tengine: '#d62728',
  'tengine-session': '#ff7f0e',
  'tengine-embedded': '#9467bd',
};
const palette = ['#17becf', '#e377c2', '#8c564b', '#7f7f7f'];
const color = (t, i) => COLORS[t] ?? palette[i % palette.length];
const bold = (t) => t.startsWith('tengine') || t === 'direct';

const W = 1040;
const H = 470;
const panelW = 360;
const panelH = 330;
const top = 70;
const lefts = [70, 500];
const all = series.flatMap((s) => [...s.p50, ...s.p99]).filter((v) => Number.isFinite(v) && v > 0);
const lo = all.length ? 10 ** Math.floor(Math.log10(Math.min(...all))) : 10;
const hi = all.length ? 10 ** Math.ceil(Math.log10(Math.max(...all))) : 1e6;
const y = (us) =>
  top + panelH - ((Math.log10(us) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * panelH;
const cx = concs.map((c) => Math.log2(c));
const x0 = Math.min(...cx, 0);
const x1 = Math.max(...cx, 1);
const x = (left, c) => left + 20 + ((Math.log2(c) - x0) / (x1 - x0 || 1)) * (panelW - 40);
const label = (us) => (us >= 1e6 ? `${us / 1e6} s` : us >= 1000 ? `${us / 1000} ms` : `${us} µs`);

const svg = [];
svg.push(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Tool-call latency vs concurrency (median of repetitions)</text>`,
  `<text x="${W / 2}" y="44" text-anchor="middle" fill="#555">${esc(`${meta.date ?? ''} · ${meta.nproc ?? '?'} cores · ${meta.duration ?? '?'} s per run · ${meta.reps ?? '?'} rep(s) · log scale`)}</text>`,
);
if (!runs.length) {
  svg.push(
    `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no matrix results in this run</text>`,
  );
}
for (const [pi, key] of ['p50', 'p99'].entries()) {
  if (!runs.length) break;
  const left = lefts[pi];
  svg.push(`<g>`);
  svg.push(
    `<text x="${left + panelW / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${key}</text>`,
  );
  svg.push(
    `<rect x="${left}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`,
  );
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > hi * 1.0001 || v < lo) continue;
      const yy = y(v).toFixed(1);
      svg.push(
        `<line x1="${left}" x2="${left + panelW}" y1="${yy}" y2="${yy}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`,
      );
      if (m === 1 || (hi / lo <= 1000 && m !== 1)) {
        svg.push(
          `<text x="${left - 6}" y="${(+yy + 4).toFixed(1)}" text-anchor="end" fill="#333">${label(v)}</text>`,
        );
      }
    }
  }
  for (const c of concs) {
    const xx = x(left, c).toFixed(1);
    svg.push(`<line x1="${xx}" x2="${xx}" y1="${top}" y2="${top + panelH}" stroke="#eee"/>`);
    svg.push(`<text x="${xx}" y="${top + panelH + 16}" text-anchor="middle">${c}</text>`);
  }
  svg.push(
    `<text x="${left + panelW / 2}" y="${top + panelH + 34}" text-anchor="middle" fill="#333">concurrency (closed loop, one call in flight per worker)</text>`,
  );
  series.forEach((s, i) => {
    const pts = concs
      .map((c, k) => [c, s[key][k]])
      .filter(([, v]) => Number.isFinite(v) && v > 0)
      .map(([c, v]) => `${x(left, c).toFixed(1)},${y(v).toFixed(1)}`);
    if (!pts.length) return;
    const w = bold(s.t) ? 2.5 : 1.5;
    const dash = s.t.startsWith('tengine') || s.t === 'direct' ? '' : ' stroke-dasharray="5 3"';
    svg.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${color(s.t, i)}" stroke-width="${w}"${dash}/>`,
    );
    for (const p of pts) {
      const [px, py] = p.split(',');
      svg.push(
        `<circle cx="${px}" cy="${py}" r="${bold(s.t) ? 3.5 : 2.5}" fill="${color(s.t, i)}"/>`,
      );
    }
  });
  svg.push(`</g>`);
}
// legend
const lx = 880;
series.forEach((s, i) => {
  const ly = top + 10 + i * 20;
  const dash = s.t.startsWith('tengine') || s.t === 'direct' ? '' : ' stroke-dasharray="5 3"';
  svg.push(
    `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color(s.t, i)}" stroke-width="${bold(s.t) ? 2.5 : 1.5}"${dash}/>`,
  );
  svg.push(`<text x="${lx + 28}" y="${ly + 4}">${esc(s.t)}</text>`);
});
svg.push('</svg>');
console.log(svg.join('\n'));
