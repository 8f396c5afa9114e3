import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const MIN = '[server]\nhostname = "mail.example.org"\n';

describe('[delivery] tlsrpt_mail, tlsrpt_from', () => {
  it('sends reports by default, from tls-reports@<hostname> ("")', () => {
    const r = parseConfig(MIN, '/etc/postern');
    expect(r.ok && r.config.delivery).toMatchObject({ tlsrpt_mail: true, tlsrpt_from: '' });
    const off = parseConfig(`${MIN}[delivery]\ntlsrpt_mail = false\ntlsrpt_from = "reports@example.org"\n`, '/etc/postern');
    expect(off.ok && off.config.delivery).toMatchObject({ tlsrpt_mail: false, tlsrpt_from: 'reports@example.org' });
  });

  it('refuses a from that is not an address, naming the key', () => {
    const r = parseConfig(`${MIN}[delivery]\ntlsrpt_from = "not an address"\n`, '/etc/postern');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.key)).toContain('delivery.tlsrpt_from');
  });
});
