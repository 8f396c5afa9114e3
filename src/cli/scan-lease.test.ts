import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { scanLeaseMs } from './start.js';

function config(text: string) {
  const r = parseConfig(`[server]\nhostname = "mail.example.org"\n${text}`, '/etc/postern');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

describe('scanLeaseMs', () => {
  it('is the configured lease when the after-queue budgets fit in it', () => {
    expect(scanLeaseMs(config(''))).toBe(60_000);
    expect(scanLeaseMs(config('[policy]\nscan_lease = 600\n'))).toBe(600_000);
  });

  it('covers the budgets of every after-queue stage together, so a slow scan is not run twice', () => {
    const c = config('[policy]\nscan_lease = 10\n[policy.smime]\nbudget_ms = 20000\n[policy.dlp]\nrules = "dlp-rules.toml"\nbudget_ms = 40000\n');
    expect(scanLeaseMs(c)).toBe(20_000 + 40_000 + 10_000 + (c.policy.dmarc_reports.enabled ? c.policy.dmarc_reports.budget_ms : 0));
  });
});
