#!/usr/bin/env node
// Turns a V8 CPU profile (node --cpu-prof) into a flame graph (SVG) and a table of the functions
// with the most self time, leaving out the first --skip seconds (start-up and warm-up).
//
//   node bench/flame.mjs executor.cpuprofile --skip 8 --svg executor.svg --title "executor, c=32"
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    skip: { type: 'string', default: '0' },
    svg: { type: 'string' },
    title: { type: 'string', default: 'CPU profile' },
    top: { type: 'string', default: '25' },
  },
});
if (positionals.length !== 1) {
  console.error(
    'usage: flame.mjs PROFILE.cpuprofile [--skip S] [--svg OUT.svg] [--title T] [--top N]',
  );
  process.exit(2);
}

const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

const label = (node) => {
  const frame = node.callFrame;
  const file = frame.url ? frame.url.split('/').slice(-2).join('/') : '';
  return `${frame.functionName || '(anonymous)'}${file ? ` ${file}:${frame.lineNumber + 1}` : ''}`;
};

// Samples per leaf node, after the skipped start.
const skipUs = Number(values.skip) * 1e6;
const perNode = new Map();
let elapsed = 0;
let kept = 0;
profile.samples.forEach((id, index) => {
  elapsed += profile.timeDeltas[index] ?? 0;
  if (elapsed < skipUs) return;
  kept += 1;
  perNode.set(id, (perNode.get(id) ?? 0) + 1);
});
if (kept === 0) {
  console.error('no samples after --skip');
  process.exit(1);
}

// Self time per function, idle excluded from the busy share.
const self = new Map();
let idle = 0;
for (const [id, count] of perNode) {
  const name = label(nodes.get(id));
  if (name.startsWith('(idle)')) idle += count;
  self.set(name, (self.get(name) ?? 0) + count);
}
const busy = kept - idle;
console.log(
  `${kept} samples, ${((100 * busy) / kept).toFixed(1)}% busy; self time, share of busy:`,
);
[...self]
  .filter(([name]) => !name.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(values.top))
  .forEach(([name, count]) =>
    console.log(`${((100 * count) / busy).toFixed(1).padStart(6)}%  ${name}`),
  );

if (values.svg) {
  // Merge stacks by frame label into a tree, root first.
  const root = { name: 'all', value: 0, children: new Map() };
  for (const [id, count] of perNode) {
    const stack = [];
    for (let cursor = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const node = nodes.get(cursor);
      if (node.callFrame.functionName !== '(root)') stack.push(label(node));
    }
    if (stack[0]?.startsWith('(idle)')) continue;
    let at = root;
    root.value += count;
    for (const name of stack.reverse()) {
      let child = at.children.get(name);
      if (!child) {
        child = { name, value: 0, children: new Map() };
        at.children.set(name, child);
      }
      child.value += count;
      at = child;
    }
  }
  const width = 1600;
  const rowHeight = 16;
  const rects = [];
  let depthMax = 0;
  const escape = (text) =>
    text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const walk = (frame, x, depth) => {
    const w = (frame.value / root.value) * width;
    if (w < 0.5) return;
    depthMax = Math.max(depthMax, depth);
    const hue = 20 + ((frame.name.length * 37) % 40);
    const share = ((100 * frame.value) / root.value).toFixed(1);
    const text = w > 40 ? escape(frame.name).slice(0, Math.floor(w / 6.5)) : '';
    rects.push(
      `<g><title>${escape(frame.name)} (${share}% of busy)</title>` +
        `<rect x="${x.toFixed(1)}" y="${depth * rowHeight}" width="${w.toFixed(1)}" height="${rowHeight - 1}" fill="hsl(${hue},85%,60%)"/>` +
        (text
          ? `<text x="${(x + 3).toFixed(1)}" y="${depth * rowHeight + 12}">${text}</text>`
          : '') +
        `</g>`,
    );
    let offset = x;
    for (const child of [...frame.children.values()].sort((a, b) => b.value - a.value)) {
      walk(child, offset, depth + 1);
      offset += (child.value / root.value) * width;
    }
  };
  walk(root, 0, 1);
  const height = (depthMax + 2) * rowHeight;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`,
    `<text x="4" y="12" font-size="13">${escape(values.title)} — ${busy} busy samples (idle and the first ${values.skip} s left out); hover for names</text>`,
    ...rects,
    '</svg>',
  ].join('\n');
  writeFileSync(values.svg, svg);
  console.log(`flame graph: ${values.svg}`);
}
