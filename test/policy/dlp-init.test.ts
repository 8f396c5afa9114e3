/**
 * `postern init` writes the default DLP rules file beside postern.toml (mode
 * 0640), points [policy.dlp] rules at it, and the file loads; --force keeps
 * an administrator's edited rules.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInit } from '../../src/cli/init.js';
import { loadConfig } from '../../src/config/index.js';
import { loadRules } from '../../src/policy/dlp/rules/index.js';

const root = mkdtempSync(join(tmpdir(), 'postern-dlp-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('postern init and DLP', () => {
  it('writes dlp-rules.toml that loads, and a config that enables DLP with it', async () => {
    const dir = join(root, 'a');
    const r = await runInit({ domain: 'example.org', dir });
    const rulesPath = join(dir, 'dlp-rules.toml');
    expect(statSync(rulesPath).mode & 0o777).toBe(0o640);
    const c = loadConfig(r.configPath);
    if (!c.ok) throw new Error(JSON.stringify(c.errors));
    expect(c.config.policy.dlp).toMatchObject({ enabled: true, rules: rulesPath });
    const rules = await loadRules(rulesPath);
    expect(rules.rules.map((x) => x.name)).toContain('payment-cards');
  });

  it('keeps an edited rules file when init is forced', async () => {
    const dir = join(root, 'b');
    await runInit({ domain: 'example.org', dir });
    const rulesPath = join(dir, 'dlp-rules.toml');
    writeFileSync(rulesPath, `${readFileSync(rulesPath, 'utf8')}\n# edited by the administrator\n`);
    await runInit({ domain: 'example.org', dir, force: true });
    expect(readFileSync(rulesPath, 'utf8')).toContain('# edited by the administrator');
  });
});
