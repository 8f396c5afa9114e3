import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { listenPort } from './load.js';

const MIN = '[server]\nhostname = "mail.example.org"\n';

function errors(text: string): string[] {
  const r = parseConfig(text, '/etc/postern');
  return r.ok ? [] : r.errors.map((e) => `${e.key}: ${e.reason}`);
}

describe('[admin]', () => {
  it('defaults to 127.0.0.1:8443 with no token and no client CA', () => {
    const r = parseConfig(MIN, '/etc/postern');
    if (!r.ok) throw new Error('unexpected errors');
    expect(r.config.admin).toEqual({ enabled: true, address: '127.0.0.1', port: 8443 });
    expect(listenPort(r.config, r.config.admin.port)).toBe(8443);
  });

  it('resolves its files against the config folder', () => {
    const r = parseConfig(`${MIN}[admin]\nmetrics_token_file = "admin/token"\nclient_ca = "/srv/ca.pem"\nredirect_port = 8080\n`, '/etc/postern');
    if (!r.ok) throw new Error('unexpected errors');
    expect(r.config.admin).toMatchObject({ metrics_token_file: '/etc/postern/admin/token', client_ca: '/srv/ca.pem', redirect_port: 8080 });
  });

  it('names the wrong key and the reason', () => {
    const e = errors(`${MIN}[admin]\nport = 70000\nredirect_port = "80"\ntoken = "x"\n`);
    expect(e).toContainEqual(expect.stringMatching(/^admin\.port: expected a whole number from 1 to 65535/));
    expect(e).toContainEqual(expect.stringMatching(/^admin\.redirect_port: expected a whole number/));
    expect(e).toContainEqual(expect.stringMatching(/^admin\.token: unknown key/));
  });

  it('refuses a port another listener uses, and the offset past 65535', () => {
    expect(errors(`${MIN}[smtp.mx]\naddress = "127.0.0.1"\nport = 8443\n`)).toContainEqual(expect.stringMatching(/^admin\.port: port 8443 is also used by smtp\.mx\.port/));
    expect(errors(`${MIN}[admin]\nredirect_port = 8443\n`)).toContainEqual(expect.stringMatching(/^admin\.redirect_port: port 8443 is also used by admin\.port/));
    expect(errors(`${MIN}port_offset = 50000\n[admin]\nport = 20000\n`)).toContainEqual(expect.stringMatching(/^admin\.port: 20000 \+ server\.port_offset 50000 = 70000, above 65535/));
  });
});
