/**
 * What a matched value looks like once it leaves the worker: enough to
 * recognise it ("4111 **** **** 1111", "***-**-6789"), never enough to use it.
 * Terms, labels and document names are what the administrator configured,
 * not secrets, and are shown as they are (bounded, control characters out).
 */
import type { DetectorSpec } from '../types.js';
import { digitsOf } from './shared.js';

const STARS = '****';

function groupsOf4(s: string): string {
  return s.replace(/(.{4})(?=.)/g, '$1 ');
}

/** Printable and short: configured text shown in reports and logs. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return clean.length > 100 ? `${clean.slice(0, 99)}…` : clean;
}

export function mask(type: DetectorSpec['type'], value: string): string {
  switch (type) {
    case 'credit_card': {
      const d = digitsOf(value);
      if (d.length < 12) return STARS;
      return groupsOf4(d.slice(0, 4) + '*'.repeat(d.length - 8) + d.slice(-4));
    }
    case 'iban': {
      const c = value.replace(/\s+/g, '').toUpperCase();
      if (c.length < 12) return STARS;
      return groupsOf4(c.slice(0, 4) + '*'.repeat(c.length - 6) + c.slice(-2));
    }
    case 'us_ssn': {
      const d = digitsOf(value);
      return d.length === 9 ? `***-**-${d.slice(-4)}` : STARS;
    }
    case 'uk_nino': {
      const c = value.replace(/\s+/g, '').toUpperCase();
      return c.length === 9 ? `${c.slice(0, 2)}******${c.slice(-1)}` : STARS;
    }
    case 'aba_routing': {
      const d = digitsOf(value);
      return d.length === 9 ? `*****${d.slice(-4)}` : STARS;
    }
    case 'private_key': {
      // The BEGIN line names the kind of key and is no secret; the key material is.
      const header = /^-----BEGIN [A-Z ]{1,40}-----/.exec(value);
      return header ? `${header[0]} ${STARS}` : STARS;
    }
    case 'password':
      // A short password would be half given away by four characters.
      return value.length >= 12 ? `${value.slice(0, 4)}${STARS}` : STARS;
    case 'cloud_key':
    case 'jwt':
      return value.length >= 8 ? `${value.slice(0, 4)}${STARS}` : STARS;
    case 'keywords':
    case 'label':
    case 'fingerprint':
      return printable(value);
    case 'regex':
      return value.length >= 8 ? `${value.slice(0, 2)}${STARS}${value.slice(-2)}` : STARS;
  }
  return STARS; // a type from a newer rules file: show nothing
}
