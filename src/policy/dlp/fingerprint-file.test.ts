/**
 * Registered-document files: names that are always safe file names, the
 * fingerprint folder resolved as the rules loader resolves it, files that
 * the loader accepts (written atomically, hashes only), listing, removal.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFingerprint } from './rules/index.js';
import {
  checkName,
  fingerprintDirOf,
  fingerprintDocument,
  FingerprintFileError,
  fingerprintJson,
  listFingerprints,
  removeFingerprint,
  writeFingerprint,
} from './fingerprint-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-dlp-fp-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = Array.from({ length: 40 }, (_, i) => `Clause ${i}: the licensee shall keep the formula of compound ${i} secret and return all samples.`).join('\n');

describe('checkName', () => {
  it('accepts only names that stay a single file inside the folder', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        let name: string;
        try {
          name = checkName(s);
        } catch (e) {
          expect(e).toBeInstanceOf(FingerprintFileError);
          return;
        }
        expect(path.dirname(path.join(dir, `${name}.fp.json`))).toBe(dir);
        expect(name).toMatch(/^[a-z0-9][a-z0-9-]{0,62}$/);
      }),
    );
    expect(() => checkName('../etc')).toThrow(/--name must be/);
    expect(checkName('merger-plan-2026')).toBe('merger-plan-2026');
  });
});

describe('fingerprintDirOf', () => {
  it('resolves fingerprint_dir against the rules file, "fingerprints" by default', async () => {
    writeFileSync(path.join(dir, 'a.toml'), 'version = 1\nfingerprint_dir = "docs/fp"\n');
    writeFileSync(path.join(dir, 'b.toml'), 'version = 1\n');
    writeFileSync(path.join(dir, 'c.toml'), 'version = [\n');
    expect(await fingerprintDirOf(path.join(dir, 'a.toml'))).toBe(path.join(dir, 'docs', 'fp'));
    expect(await fingerprintDirOf(path.join(dir, 'b.toml'))).toBe(path.join(dir, 'fingerprints'));
    await expect(fingerprintDirOf(path.join(dir, 'c.toml'))).rejects.toThrow(/not valid TOML/);
    await expect(fingerprintDirOf(path.join(dir, 'none.toml'))).rejects.toThrow(/cannot read the DLP rules file \(ENOENT\)/);
  });
});

describe('writing, listing and removing', () => {
  it('writes a file the rules loader accepts, with hashes and no text', async () => {
    const doc = await fingerprintDocument(new TextEncoder().encode(TEXT), 'nda.txt', 'nda');
    expect(doc.fingerprint.words).toBeGreaterThan(100);
    const fp = path.join(dir, 'fp');
    const file = await writeFingerprint(fp, doc.fingerprint, { now: new Date(Date.UTC(2026, 11, 1)) });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/licensee|compound|formula/);
    const back = parseFingerprint({ name: 'nda', bytes: new TextEncoder().encode(text) });
    expect(typeof back).toBe('object');
    expect(Array.from((back as { hashes: Uint32Array }).hashes)).toEqual(Array.from(doc.fingerprint.hashes));
    expect(await listFingerprints(fp)).toEqual([{ name: 'nda', words: doc.fingerprint.words, hashes: doc.fingerprint.hashes.length, created: '2026-12-01T00:00:00.000Z', problem: null }]);

    await expect(writeFingerprint(fp, doc.fingerprint)).rejects.toThrow(/already registered/);
    await writeFingerprint(fp, doc.fingerprint, { replace: true });
    writeFileSync(path.join(fp, 'broken.fp.json'), '{"name":"broken"');
    expect((await listFingerprints(fp)).map((d) => [d.name, d.problem])).toEqual([
      ['broken', 'not valid JSON'],
      ['nda', null],
    ]);
    await removeFingerprint(fp, 'nda');
    await expect(removeFingerprint(fp, 'nda')).rejects.toThrow(/no document named "nda"/);
    await expect(removeFingerprint(fp, '../x')).rejects.toThrow(/not a document name/);
    expect(await listFingerprints(path.join(dir, 'none'))).toEqual([]);
  });

  it('refuses a document without text', async () => {
    await expect(fingerprintDocument(new TextEncoder().encode('   \n'), 'empty.txt', 'empty')).rejects.toThrow(/no text found/);
  });

  it('writes the documented JSON shape', () => {
    const j = JSON.parse(fingerprintJson({ name: 'x', words: 3, hashes: Uint32Array.from([1, 5, 4294967295]) }, new Date(0))) as unknown;
    expect(j).toEqual({ name: 'x', words: 3, created: '1970-01-01T00:00:00.000Z', hashes: [1, 5, 4294967295] });
  });
});
