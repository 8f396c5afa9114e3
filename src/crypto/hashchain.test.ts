import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { GENESIS_HASH, canonicalJson, nextRecord, recordHash, signCheckpoint, verifyChain, verifyCheckpoint, type AuditRecord } from './hashchain.js';

const build = (n: number): AuditRecord[] => {
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push(nextRecord(out.at(-1) ?? null, { at: 1000 + i, actor: 'cli:root', action: 'user.add', subject: `u${i}@example.org`, data: { roles: ['user'], i } }));
  }
  return out;
};

const keys = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { priv: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, pub: publicKey.export({ type: 'spki', format: 'pem' }) as string };
};

describe('hash chain', () => {
  it('encodes keys in a stable order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [{ z: 1, y: 2 }] } })).toBe('{"a":{"c":[{"y":2,"z":1}],"d":2},"b":1}');
    const f = { seq: 1, at: 5, actor: 'a', action: 'x', subject: 's' };
    expect(recordHash(GENESIS_HASH, { ...f, data: { a: 1, b: 2 } })).toBe(recordHash(GENESIS_HASH, { ...f, data: { b: 2, a: 1 } }));
  });

  it('accepts an intact chain and an empty one', () => {
    expect(verifyChain(build(10))).toEqual({ ok: true });
    expect(verifyChain([])).toEqual({ ok: true });
  });

  it('names an edited record', () => {
    const rs = build(10);
    rs[4] = { ...rs[4]!, data: { roles: ['admin'], i: 4 } };
    expect(verifyChain(rs)).toEqual({ ok: false, seq: 5, reason: 'hash does not match (edited)' });
  });

  it('names the record after a deleted one', () => {
    const rs = build(10);
    rs.splice(3, 1);
    const r = verifyChain(rs);
    expect(r).toMatchObject({ ok: false, seq: 5 });
    expect(!r.ok && r.reason).toContain('deleted');
  });

  it('names the first of two swapped records', () => {
    const rs = build(10);
    [rs[2], rs[6]] = [rs[6]!, rs[2]!];
    expect(verifyChain(rs)).toMatchObject({ ok: false, seq: 7 });
  });

  it('detects a record renumbered to hide a deletion', () => {
    const rs = build(5);
    rs.splice(1, 1);
    rs[1] = { ...rs[1]!, seq: 2 };
    expect(verifyChain(rs)).toMatchObject({ ok: false, seq: 2 });
  });

  it('requires the first record to chain from the genesis hash', () => {
    const rs = build(5).slice(1);
    expect(verifyChain(rs)).toMatchObject({ ok: false, seq: 2 });
    const forged = { ...build(1)[0]!, prevHash: 'f'.repeat(64) };
    expect(verifyChain([forged])).toEqual({ ok: false, seq: 1, reason: 'first record does not chain from the genesis hash' });
  });

  it('detects any single-character change of any field', () => {
    const rs = build(6);
    const fields = ['at', 'actor', 'action', 'subject', 'data', 'prevHash', 'hash'] as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.constantFrom(...fields), fc.nat(), fc.integer({ min: 1, max: 0xffff }), (idx, field, pos, delta) => {
        const r = rs[idx]!;
        const json = field === 'data' ? JSON.stringify(r.data) : String(r[field]);
        const i = pos % json.length;
        const changed = json.slice(0, i) + String.fromCharCode(((json.charCodeAt(i) + delta) % 0xffff) + 1) + json.slice(i + 1);
        if (changed === json) return;
        let value: unknown = changed;
        if (field === 'at') {
          value = Number(changed);
          if (value === r.at) return;
        }
        if (field === 'data') {
          try {
            value = JSON.parse(changed) as unknown;
          } catch {
            value = { raw: changed };
          }
          if (canonicalJson(value) === canonicalJson(r.data)) return;
        }
        const copy = [...rs];
        copy[idx] = { ...r, [field]: value } as AuditRecord;
        const res = verifyChain(copy);
        expect(res.ok).toBe(false);
        // The changed record itself is named.
        expect(!res.ok && res.seq).toBe(idx + 1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkpoints', () => {
  it('round-trips and rejects a changed field, another key and a bad PEM', () => {
    const k = keys();
    const rs = build(3);
    const cp = signCheckpoint({ seq: 3, hash: rs[2]!.hash, at: 99 }, k.priv);
    if (!cp.ok) throw new Error(cp.error);
    expect(verifyCheckpoint(cp.value, k.pub)).toEqual({ ok: true });
    expect(verifyCheckpoint({ ...cp.value, seq: 2 }, k.pub).ok).toBe(false);
    expect(verifyCheckpoint({ ...cp.value, hash: rs[1]!.hash }, k.pub).ok).toBe(false);
    expect(verifyCheckpoint({ ...cp.value, signature: 'AAAA' }, k.pub).ok).toBe(false);
    expect(verifyCheckpoint(cp.value, keys().pub)).toMatchObject({ ok: false });
    expect(verifyCheckpoint(cp.value, 'garbage')).toMatchObject({ ok: false });
    expect(signCheckpoint({ seq: 3, hash: rs[2]!.hash, at: 99 }, 'nope')).toMatchObject({ ok: false });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(signCheckpoint({ seq: 3, hash: rs[2]!.hash, at: 99 }, rsa)).toMatchObject({ ok: false });
  });
});
