/**
 * The "yara" engine with Debian's real yara and yarac, rules written by the
 * test, parts written by a real pool worker (run npm run build first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PolicyPool } from '../../pool/index.js';
import { EngineUnavailable } from '../engine.js';
import { DEFAULT_EXTRACT_LIMITS } from '../parts.js';
import { message, zip } from '../testing/samples.js';
import { YaraEngine } from './yara.js';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!H+H*';

// A dropper script that a ClamAV database holding only the EICAR signature
// would pass: nothing in it is EICAR. Its marker sits inside a zip, deflated,
// so only a scanner that opens the archive sees it. The reverse holds too:
// these rules do not know EICAR (the EICAR message below passes yara), which
// ClamAV's database does. Two kinds of engine catch more than either.
const DROPPER = 'var sh = new ActiveXObject("WScript.Shell"); sh.Run("powershell -enc SQBFAFgA"); // stage2-loader-7f3a';
const RULES = `
rule Dropper_Stage2_Loader {
  strings:
    $a = "stage2-loader-7f3a"
    $b = "ActiveXObject(\\"WScript.Shell\\")"
  condition:
    all of them
}`;

describe('YaraEngine', () => {
  let pool: PolicyPool;
  let root: string;
  let rulesDir: string;
  let scanTmp: string;
  let engine: YaraEngine;
  // The rule folder is looked at again every 10 s of this clock.
  let clock = 1_000_000;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1 });
    root = mkdtempSync(path.join(tmpdir(), 'postern-yara-test-'));
    rulesDir = path.join(root, 'rules');
    scanTmp = path.join(root, 'tmp');
    for (const d of [rulesDir, scanTmp]) mkdirSync(d);
    writeFileSync(path.join(rulesDir, 'dropper.yar'), RULES);
    engine = new YaraEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, rulesDir, timeoutMs: 20_000, tmpRoot: scanTmp, now: () => clock });
  });
  afterAll(async () => {
    await engine.close();
    await pool.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('catches the dropper inside a zip, names the part, and cleans up its scan folder', async () => {
    const raw = message([{ filename: 'invoice.zip', type: 'application/zip', bytes: zip({ 'invoice.js': DROPPER }) }]);
    const r = await engine.scan(raw, new AbortController().signal);
    expect(r.detections).toEqual([{ engine: 'yara', signature: 'Dropper_Stage2_Loader', part: '2/invoice.zip!invoice.js' }]);
    expect(r.version).toBe('yara/1 rule files');
    // Only the compiled rules' private folder remains.
    const left = readdirSync(scanTmp);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^postern-yara-rules-/);
    expect(statSync(path.join(scanTmp, left[0]!)).mode & 0o777).toBe(0o700);
  });

  it('passes EICAR, which these rules do not know (ClamAV does)', async () => {
    const raw = message([{ filename: 'eicar.com', type: 'application/octet-stream', bytes: EICAR }]);
    expect((await engine.scan(raw, new AbortController().signal)).detections).toEqual([]);
  });

  it('reports health: version, rule files, the newest rule file time', async () => {
    const when = new Date('2026-11-30T12:00:00Z');
    utimesSync(path.join(rulesDir, 'dropper.yar'), when, when);
    const h = await engine.health(new AbortController().signal);
    expect(h).toMatchObject({ engine: 'yara', up: true, signaturesAt: when.getTime() });
    expect(h.version).toMatch(/^yara 4\.\d+\.\d+\/1 rule files$/);
  });

  it('sees a new rule file, and is unavailable (naming rules_dir) when the rules do not compile', async () => {
    writeFileSync(path.join(rulesDir, 'more.yara'), 'rule Hello_Marker { strings: $h = "hello-marker-42" condition: $h }');
    const raw = message([{ filename: 'note.txt', type: 'text/plain', bytes: 'x hello-marker-42 y' }]);
    expect((await engine.scan(raw, new AbortController().signal)).detections).toEqual([]); // not looked at yet
    clock += 11_000;
    expect((await engine.scan(raw, new AbortController().signal)).detections).toEqual([{ engine: 'yara', signature: 'Hello_Marker', part: '2/note.txt' }]);
    writeFileSync(path.join(rulesDir, 'broken.yar'), 'rule Broken { condition: $nope }');
    clock += 11_000;
    const err = await engine.scan(raw, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailable);
    expect((err as Error).message).toMatch(/rules_dir .* do not compile/);
    const h = await engine.health(new AbortController().signal);
    expect(h.up).toBe(false);
    rmSync(path.join(rulesDir, 'broken.yar'));
    expect((await engine.health(new AbortController().signal)).up).toBe(true);
  });

  it('gives up at once when the caller has aborted, leaving no scan folder', async () => {
    const ac = new AbortController();
    const raw = message([{ filename: 'big.bin', type: 'application/octet-stream', bytes: Buffer.alloc(4 * 1024 * 1024, 0x41) }]);
    const p = engine.scan(raw, ac.signal);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(EngineUnavailable);
    expect(readdirSync(scanTmp).filter((n) => n.startsWith('postern-yara-scan-'))).toEqual([]);
  });

  it('kills a yara that runs past its timeout, or past the caller\'s abort', async () => {
    // A stand-in for a yara stuck on a hostile file: it records its pid and sleeps.
    const pidFile = path.join(root, 'yara.pid');
    const slow = path.join(root, 'slow-yara.sh');
    writeFileSync(slow, `#!/bin/sh\ncase "$1" in --version) echo 4.2.3; exit 0;; esac\necho $$ > ${pidFile}\nexec sleep 60\n`, { mode: 0o755 });
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const stuck = new YaraEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, rulesDir, timeoutMs: 1_500, yara: slow, tmpRoot: scanTmp });
    const raw = message([{ filename: 'note.txt', type: 'text/plain', bytes: 'hello' }]);
    const started = Date.now();
    await expect(stuck.scan(raw, new AbortController().signal)).rejects.toThrow(/stopped after/);
    expect(Date.now() - started).toBeLessThan(30_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(pid)).toBe(false);

    rmSync(pidFile);
    const patient = new YaraEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, rulesDir, timeoutMs: 120_000, yara: slow, tmpRoot: scanTmp });
    const ac = new AbortController();
    const p = patient.scan(raw, ac.signal);
    while (!existsSync(pidFile)) await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(EngineUnavailable);
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
    expect(readdirSync(scanTmp).filter((n) => n.startsWith('postern-yara-scan-'))).toEqual([]);
    await stuck.close();
    await patient.close();
  });

  it('is unavailable when yara is missing', async () => {
    const missing = new YaraEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, rulesDir, timeoutMs: 5_000, yara: '/nonexistent/yara', tmpRoot: scanTmp });
    expect((await missing.health(new AbortController().signal)).up).toBe(false);
    await missing.close();
  });
});
