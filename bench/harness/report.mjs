// The result of a suite: a markdown table of medians with postern/peer
// ratios from the same run, the configurations used, and the raw
// repetitions, written as JSON and markdown under bench/out/.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, ratio } from './stats.mjs';

/** A number for a table: 3 significant digits, no exponent; "–" when missing. */
export function fmt(x) {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** The servers of all rows, postern first, then in order of first appearance. */
export function serversOf(rows) {
  const seen = [];
  for (const r of rows) for (const s of Object.keys(r.values)) if (!seen.includes(s)) seen.push(s);
  return [...seen.filter((s) => s === 'postern'), ...seen.filter((s) => s !== 'postern')];
}

/**
 * Markdown table: one line per cell with the median of each server's
 * repetitions and postern/peer for every peer measured in that cell. A ratio
 * above 1 is better for postern when more is better (msg/s, MB/s), worse
 * when less is better (ms, KiB): the "better" column says which.
 */
export function table(rows) {
  const servers = serversOf(rows);
  const peers = servers.filter((s) => s !== 'postern');
  const head = ['cell', 'unit', 'better', ...servers, ...peers.map((p) => `postern/${p}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const med = Object.fromEntries(Object.entries(r.values).map(([s, xs]) => [s, median(xs)]));
    const cells = [
      r.cell,
      r.unit,
      r.better === 'lower' ? 'lower' : 'higher',
      ...servers.map((s) => (s in med ? fmt(med[s]) + (r.notes?.[s] ? ` (${r.notes[s]})` : '') : '')),
      ...peers.map((p) => (p in med && 'postern' in med ? fmt(ratio(med.postern, med[p])) : '')),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The whole report as markdown. */
export function markdown(result) {
  const cfg = Object.entries(result.configs)
    .map(([k, v]) => `- **${k}**: ${v}`)
    .join('\n');
  return [
    `# bench ${result.suite}${result.quick ? ' (--quick)' : ''}`,
    '',
    `${result.startedAt}; ${result.reps} repetition(s), servers alternating; medians. Host: ${result.host.cpus} CPUs, load average ${result.host.loadBefore.join(' ')} before, ${result.host.loadAfter.join(' ')} after; node ${result.host.node}.`,
    '',
    table(result.rows),
    '',
    '## Configurations',
    '',
    cfg,
    ...(result.problems?.length ? ['', '## Problems', '', ...result.problems.map((p) => `- ${p}`)] : []),
    '',
  ].join('\n');
}

export function hostInfo() {
  return { cpus: os.cpus().length, node: process.version, loadBefore: os.loadavg().map((x) => x.toFixed(2)), loadAfter: [] };
}

/** Writes bench/out/<suite>-<time>.json and .md; returns the markdown. */
export function writeReport(outDir, result) {
  result.host.loadAfter = os.loadavg().map((x) => x.toFixed(2));
  mkdirSync(outDir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const base = path.join(outDir, `${result.suite}-${stamp}`);
  const md = markdown(result);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 1) + '\n');
  writeFileSync(`${base}.md`, md);
  return { md, files: [`${base}.json`, `${base}.md`] };
}

/** Collects repetitions: add(cell, server, value) and per-cell unit/direction. */
export class Rows {
  constructor() {
    this.rows = [];
  }

  cell(cell, unit, better = 'higher') {
    let r = this.rows.find((x) => x.cell === cell);
    if (!r) this.rows.push((r = { cell, unit, better, values: {}, notes: {} }));
    return r;
  }

  add(cell, unit, better, server, value, note) {
    const r = this.cell(cell, unit, better);
    (r.values[server] ??= []).push(value);
    if (note) r.notes[server] = note;
  }
}
