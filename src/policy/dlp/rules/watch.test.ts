import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RulesError } from './load.js';
import { WatchedRules } from './watch.js';

const dir = mkdtempSync(join(tmpdir(), 'dlp-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rules = (name: string) => `version = 1\n[detectors.c]\ntype = "credit_card"\n[[rules]]\nname = "${name}"\ndetectors = ["c"]\n`;

describe('WatchedRules', () => {
  it('refuses a bad file at start', async () => {
    const path = join(dir, 'bad.toml');
    writeFileSync(path, rules('x').replace('"c"]', '"cardz"]'));
    await expect(WatchedRules.open({ path, now: () => 0, onError: () => undefined })).rejects.toThrow(RulesError);
  });

  it('takes a new version after a minute, keeps the old one when the new one is bad and says why once', async () => {
    const path = join(dir, 'rules.toml');
    writeFileSync(path, rules('first'));
    let t = 0;
    const errors: string[] = [];
    const w = await WatchedRules.open({ path, now: () => t, onError: (m) => errors.push(m) });
    expect(w.current().rules[0]!.name).toBe('first');
    writeFileSync(path, rules('second'));
    t = 30_000;
    expect(w.current().rules[0]!.name).toBe('first'); // not looked at yet
    t = 60_000;
    w.current();
    await w.check();
    expect(w.current().rules[0]!.name).toBe('second');
    writeFileSync(path, rules('third').replace('"c"]', '"cardz"]'));
    t = 120_000;
    await w.check();
    t = 180_000;
    await w.check();
    expect(w.current().rules[0]!.name).toBe('second');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('unknown detector "cardz"');
  });
});
