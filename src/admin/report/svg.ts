/**
 * Inline SVG charts for the HTML report: no script, no external resource.
 * Every text passes through escapeHtml; numbers are formatted here.
 */
import { escapeHtml } from './escape.js';

export interface Stack {
  readonly name: string;
  readonly values: readonly number[];
}

const PALETTE = ['#2a7f62', '#c0392b', '#2c6fbb', '#d68910', '#7d3c98', '#5d6d7e', '#17a589', '#a04000'];
const W = 720;
const H = 180;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

const fmt = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k` : String(Math.round(n * 10) / 10));

/** Stacked bars, one per bucket, with a legend; `labels` are the x-axis labels (a few are shown). */
export function stackedBars(title: string, labels: readonly string[], stacks: readonly Stack[], unit = ''): string {
  const n = labels.length;
  const totals = labels.map((_, i) => stacks.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const bw = plotW / Math.max(1, n);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    let y = PAD.top + plotH;
    stacks.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      const h = (v / max) * plotH;
      y -= h;
      parts.push(
        `<rect x="${(PAD.left + i * bw + bw * 0.1).toFixed(1)}" y="${y.toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[k % PALETTE.length]}"><title>${escapeHtml(`${labels[i]}: ${s.name} ${fmt(v)}${unit}`)}</title></rect>`,
      );
    });
  }
  const every = Math.max(1, Math.ceil(n / 8));
  const xLabels = labels
    .map((l, i) => (i % every === 0 ? `<text x="${(PAD.left + i * bw + bw / 2).toFixed(1)}" y="${H - 10}" text-anchor="middle">${escapeHtml(l)}</text>` : ''))
    .join('');
  const yAxis = [0, 0.5, 1]
    .map((f) => `<text x="${PAD.left - 6}" y="${(PAD.top + plotH - f * plotH + 4).toFixed(1)}" text-anchor="end">${escapeHtml(fmt(f * max) + unit)}</text>`)
    .join('');
  const legend = stacks
    .map((s, k) => `<span class="key"><i style="background:${PALETTE[k % PALETTE.length]}"></i>${escapeHtml(s.name)}</span>`)
    .join(' ');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}"><line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#999"></line>${yAxis}${xLabels}${parts.join('')}</svg><div class="legend">${legend}</div></figure>`;
}

/** Horizontal bars, one group per row (e.g. p50/p95/p99 of a delivery direction). */
export function groupedHBars(title: string, rows: readonly { name: string; values: readonly { name: string; value: number; text: string }[] }[]): string {
  const max = Math.max(1, ...rows.flatMap((r) => r.values.map((v) => v.value)));
  const barH = 14;
  const left = 90;
  const width = W - left - 110;
  let y = 8;
  const parts: string[] = [];
  for (const r of rows) {
    parts.push(`<text x="${left - 8}" y="${y + barH * 1.5 + 4}" text-anchor="end">${escapeHtml(r.name)}</text>`);
    r.values.forEach((v, k) => {
      const w = Math.max(1, (v.value / max) * width);
      parts.push(
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${PALETTE[k % PALETTE.length]}"><title>${escapeHtml(`${r.name} ${v.name}: ${v.text}`)}</title></rect>`,
        `<text x="${(left + w + 6).toFixed(1)}" y="${y + barH - 4}">${escapeHtml(`${v.name} ${v.text}`)}</text>`,
      );
      y += barH;
    });
    y += 10;
  }
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${y}" width="${W}" height="${y}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}
