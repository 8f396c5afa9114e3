/**
 * [policy.dlp] as start builds it: one `dlp` stage per phase in use with the
 * directions the config gives it, none when DLP is off, and a bad rules file
 * stops the build with the RulesError message.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dlpStages } from '../../src/cli/policy.js';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { RulesError } from '../../src/policy/dlp/rules/index.js';
import { PolicyPool } from '../../src/policy/pool/index.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';

const dir = mkdtempSync(path.join(tmpdir(), 'postern-dlp-wiring-'));
let store: Store;
let pool: PolicyPool;
beforeAll(async () => {
  store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
  pool = PolicyPool.open({ threads: 1 });
  writeFileSync(path.join(dir, 'rules.toml'), 'version = 1\n[detectors.c]\ntype = "credit_card"\n[[rules]]\nname = "cards"\ndetectors = ["c"]\n');
  writeFileSync(path.join(dir, 'bad.toml'), 'version = 1\n[[rules]]\nname = "cards"\ndetectors = ["cardz"]\n');
});
afterAll(async () => {
  await pool.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (dlp: string) => {
  const r = parseConfig(`[server]\nhostname = "mail.example.org"\n[policy.dlp]\n${dlp}\n`, dir);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

describe('dlpStages', () => {
  it('builds one stage per phase in use, with its directions', async () => {
    const stages = await dlpStages(config('rules = "rules.toml"\nbudget_ms = 2000\nfail_open = true'), store, pool, systemClock, silentLogger());
    expect(stages.map((s) => [s.stage.name, s.stage.phase, s.stage.directions])).toEqual([
      ['dlp', 'inline', ['outbound', 'internal']],
      ['dlp', 'after-queue', ['inbound']],
    ]);
    expect(stages[0]!.settings).toEqual({ budgetMs: 2000, failOpen: true });
    const one = await dlpStages(config('rules = "rules.toml"\nphase = { inbound = "inline" }'), store, pool, systemClock, silentLogger());
    expect(one.map((s) => [s.stage.phase, s.stage.directions])).toEqual([['inline', ['inbound', 'outbound', 'internal']]]);
  });

  it('builds nothing when DLP is off', async () => {
    expect(await dlpStages(config('enabled = false\nrules = "rules.toml"'), store, pool, systemClock, silentLogger())).toEqual([]);
  });

  it('stops on a bad rules file with the key and the reason', async () => {
    const p = dlpStages(config('rules = "bad.toml"'), store, pool, systemClock, silentLogger());
    await expect(p).rejects.toThrow(RulesError);
    await expect(p).rejects.toThrow('rules[0].detectors[0]: unknown detector "cardz"');
  });
});
