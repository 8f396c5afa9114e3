/**
 * The DLP report over a real (SQLite) event log: flows by group, domain and
 * rule; totals by result; the window; and labels printed safely.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/types.js';
import { buildDlpReport, formatDlpReport, table } from './report.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-dlp-report-'));
  store = await openStore({ backend: 'sqlite', dataDir: dir });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const flow = (group: string, domain: string, rule: string, at: number) =>
  store.meta.events.record('dlp.flow', 'q1', { rule, group, direction: 'outbound', destination: 'external', action: 'hold', domain }, at);

describe('buildDlpReport', () => {
  it('tallies flows by group, domain and rule, and totals by result', async () => {
    await flow('legal', 'rival.example', 'payment-cards', NOW - DAY);
    await flow('legal', 'rival.example', 'payment-cards', NOW - DAY);
    await flow('sales', 'partner.example', 'labels', NOW - 2 * DAY);
    await flow('legal', 'old.example', 'payment-cards', NOW - 60 * DAY); // outside the window
    const e = store.meta.events;
    await e.record('dlp.match', 'q1', { rule: 'payment-cards', group: 'legal', direction: 'outbound', destination: 'external', action: 'hold', sender: 'a@x', count: 2 }, NOW - DAY);
    for (const result of ['confidential', 'confidential', 'clean', 'unscannable']) await e.record('dlp.message', 'q', { direction: 'outbound', result, action: 'none' }, NOW - DAY);
    await e.record('dlp.message', 'q', { direction: 'inbound', result: 'clean', action: 'none' }, NOW - DAY);

    const r = await buildDlpReport(store.meta.events, NOW - 30 * DAY, NOW);
    expect(r.flows).toEqual([
      { group: 'legal', domain: 'rival.example', rule: 'payment-cards', count: 2 },
      { group: 'sales', domain: 'partner.example', rule: 'labels', count: 1 },
    ]);
    expect(r.matches).toEqual([{ rule: 'payment-cards', direction: 'outbound', action: 'hold', count: 1 }]);
    expect(r.totals).toEqual({ messages: 5, confidential: 2, clean: 2, unscannable: 1, matches: 1, flows: 3 });
    expect(r.messages[0]).toEqual({ result: 'confidential', direction: 'outbound', count: 2 });
    expect(r.since).toBe(new Date(NOW - 30 * DAY).toISOString());

    const text = formatDlpReport(r);
    expect(text).toMatch(/^ {2}legal +rival\.example +payment-cards +2$/m);
    expect(text).toMatch(/confidential 2, clean 2, unscannable 1/);
    expect(text).not.toContain('old.example');
  });

  it('says (none) when nothing was recorded', async () => {
    const r = await buildDlpReport(store.meta.events, NOW - DAY, NOW);
    expect(r.totals.messages).toBe(0);
    expect(formatDlpReport(r).match(/\(none\)/g)).toHaveLength(3);
  });
});

describe('table', () => {
  it('pads columns and escapes control characters in labels', () => {
    expect(table(['a', 'n'], [['x\x1b[2J', '10']])).toEqual([`a${' '.repeat(12)}n`, 'x\\u001b[2J  10']);
  });
});
