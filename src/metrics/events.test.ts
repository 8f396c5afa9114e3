import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_KINDS, eventSpec, kindsOf } from './events.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('contract.ts') && !p.includes(`${path.sep}testing${path.sep}`) ? [p] : [];
  });
}

describe('event registry', () => {
  it('lists every kind the code records, once, with a property', () => {
    const recorded = new Set<string>();
    const prefixes = new Set<string>();
    for (const f of sources(path.resolve('src'))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/record\(\s*'([a-z_]+\.[a-z_]+)'/g)) recorded.add(m[1]!);
      for (const m of text.matchAll(/kind: '([a-z_]+\.[a-z_]+)'/g)) recorded.add(m[1]!);
      // Kinds kept in constants (e.g. integrity/metrics.ts EVENT, delivery/failure.ts).
      for (const m of text.matchAll(/[A-Za-z]+(?:_EVENT)?: '((?:integrity|delivery|store|server)\.[a-z_]+)'/g)) recorded.add(m[1]!);
      for (const m of text.matchAll(/_EVENT = '([a-z_]+\.[a-z_]+)'/g)) recorded.add(m[1]!);
      for (const m of text.matchAll(/record\(\s*`([a-z_]+)\.\$\{/g)) prefixes.add(m[1]!);
    }
    expect(recorded.size).toBeGreaterThan(20);
    for (const kind of recorded) expect(eventSpec(kind), `${kind} is recorded but not in the registry`).toBeDefined();
    for (const p of prefixes) expect(EVENT_KINDS.some((s) => s.kind.startsWith(`${p}.`)), `${p}.* is recorded but not in the registry`).toBe(true);
    expect(new Set(EVENT_KINDS.map((s) => s.kind)).size).toBe(EVENT_KINDS.length);
    expect(kindsOf('C').length + kindsOf('I').length + kindsOf('A').length).toBe(EVENT_KINDS.length);
  });
});
