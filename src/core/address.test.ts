import { describe, expect, it } from 'vitest';
import { normalizeAddress, parseAddress } from './address.js';

describe('parseAddress', () => {
  it('takes ordinary and quoted local parts', () => {
    expect(normalizeAddress('Jane.Doe@Example.ORG')).toBe('jane.doe@example.org');
    expect(parseAddress('"john smith"@example.org')).toEqual({ local: '"john smith"', domain: 'example.org' });
    expect(parseAddress('a@mail-1.example.org')).not.toBeNull();
  });

  it('refuses control characters, also inside quotes', () => {
    for (const c of ['\u0000', '\u001b', '\u007f', '\r', '\n', '\t']) {
      expect(parseAddress(`"a${c}b"@example.org`), JSON.stringify(c)).toBeNull();
      expect(parseAddress(`a${c}b@example.org`), JSON.stringify(c)).toBeNull();
    }
  });

  it('refuses domain labels that start or end with a hyphen, or are empty', () => {
    for (const d of ['-example.org', 'example-.org', 'a.-b.org', 'a..org', '.a.org', 'a.org.', 'ex_ample.org']) {
      expect(parseAddress(`x@${d}`), d).toBeNull();
    }
  });
});
