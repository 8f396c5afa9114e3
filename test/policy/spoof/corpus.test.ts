import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detect, extractFacts } from '../../../src/policy/spoof/index.js';
import { inbound, NEUTRAL } from './helpers.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../corpus/spoof');
const FILES = readdirSync(DIR).filter((n) => n !== 'SOURCES.md');

describe('real mail raises no finding when none of its domains is ours', () => {
  it('has the corpus', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of FILES) {
    it(name, () => {
      const facts = extractFacts(readFileSync(join(DIR, name)));
      expect(facts.from.mailboxes.length).toBeGreaterThan(0);
      // The envelope sender as the receiving MTA saw it (Return-Path), else the From address.
      const envelope = facts.returnPath ?? facts.from.mailboxes[0]!.address;
      const findings = detect(facts, inbound(envelope), NEUTRAL);
      expect(findings).toEqual([]);
    });
  }

  it('still sees a spoof in the same mail once its domain is ours', () => {
    const facts = extractFacts(readFileSync(join(DIR, 'gmail-real.msg')));
    const findings = detect(facts, inbound(facts.from.mailboxes[0]!.address), { ...NEUTRAL, localDomains: ['gmail.com'] });
    expect(findings.map((f) => `${f.detector}=${f.result}`)).toEqual(['own-domain=forged-from', 'own-domain=forged-envelope']);
  });
});
