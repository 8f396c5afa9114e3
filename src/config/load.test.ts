import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isPosternError } from '../core/errors.js';
import { formatConfigErrors, listenPort, loadConfig, parseConfig, type ConfigError } from './load.js';
import { listenerPorts, type Config } from './schema.js';

const BASE = '/etc/postern';
const MIN = '[server]\nhostname = "mail.example.org"\n';

function ok(text: string, baseDir = BASE): Config {
  const r = parseConfig(text, baseDir);
  if (!r.ok) throw new Error(`unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.config;
}

function errors(text: string): ConfigError[] {
  const r = parseConfig(text, BASE);
  if (r.ok) throw new Error('expected the config to be rejected');
  return r.errors;
}

const keys = (text: string): string[] => errors(text).map((e) => e.key);

describe('parseConfig defaults', () => {
  it('fills every section from a file that only names the host', () => {
    const c = ok(MIN);
    expect(c.server).toEqual({ hostname: 'mail.example.org', data_dir: '/etc/postern/data', port_offset: 0, heartbeat_interval: 30 });
    expect(c.store).toEqual({ backend: 'sqlite', url: '', read_cache_mb: 64, inline_blob_kb: 32 });
    expect(c.tls).toEqual({ cert: '/etc/postern/tls/cert.pem', key: '/etc/postern/tls/key.pem', min_version: 'TLSv1.2' });
    expect(c.dkim).toEqual({ selector: 'postern', key_dir: '/etc/postern/dkim' });
    expect(c.smtp.max_message_size).toBe(26_214_400);
    expect(c.smtp.max_recipients).toBe(100);
    expect(c.smtp.max_connections).toBe(500);
    expect(c.smtp.max_connections_per_client).toBe(20);
    expect(c.smtp.bare_newline).toBe('reject');
    expect(c.smtp.socket_timeout).toBe(300);
    expect(c.smtp).toMatchObject({ max_pending_per_client: 20, reserved_percent: 10, login_timeout: 300, command_timeout: 60, min_transfer_rate: 1024 });
    expect(c.smtp.mx).toEqual({ enabled: true, address: '0.0.0.0', port: 25 });
    expect(c.smtp.submission).toEqual({ enabled: true, address: '0.0.0.0', port: 587 });
    expect(c.smtp.submissions).toEqual({ enabled: true, address: '0.0.0.0', port: 465 });
    expect(c.imap).toEqual({ enabled: true, address: '0.0.0.0', port: 143, tls_port: 993, max_connections: 10_000, max_connections_per_client: 100, idle_timeout: 1800, max_pending_per_client: 10, reserved_percent: 10, command_timeout: 60, login_timeout: 60, min_transfer_rate: 1024 });
    expect(c.pop3).toEqual({ enabled: true, address: '0.0.0.0', port: 110, tls_port: 995, max_connections: 500, max_connections_per_client: 20, idle_timeout: 600, max_pending_per_client: 10, reserved_percent: 10, command_timeout: 60, login_timeout: 120 });
    expect(c.auth).toEqual({ max_failures: 20, window: 300, lockout: 900, delay_min: 1, delay_max: 30, known_sources: 16 });
    expect(c.queue).toEqual({ retry_min: 60, retry_max: 3600, max_lifetime: 432_000 });
    expect(c.log).toEqual({ level: 'info' });
  });

  it('lower-cases the host name', () => {
    expect(ok('[server]\nhostname = "Mail.Example.ORG"\n').server.hostname).toBe('mail.example.org');
  });

  it('ignores a byte-order mark', () => {
    expect(ok(`\uFEFF${MIN}`).server.hostname).toBe('mail.example.org');
  });
});

describe('parseConfig full file', () => {
  it('takes every key as written', () => {
    const c = ok(`
[server]
hostname = "mx1.example.net"
data_dir = "/var/lib/postern"
port_offset = 10000
[store]
backend = "postgres"
url = "postgres://postern:secret@db/postern"
read_cache_mb = 16
[tls]
cert = "/etc/ssl/mx1.pem"
key = "private/mx1.key"
min_version = "TLSv1.3"
[dkim]
selector = "s2024.mail"
key_dir = "/etc/dkim"
[smtp]
max_message_size = 1048576
max_recipients = 50
max_connections = 40
max_connections_per_client = 4
bare_newline = "normalize"
socket_timeout = 60
[smtp.mx]
enabled = true
address = "192.0.2.1"
port = 2525
[smtp.submission]
enabled = false
address = "::1"
port = 1587
[smtp.submissions]
address = "localhost"
port = 1465
[imap]
enabled = false
port = 1143
tls_port = 1993
[pop3]
address = "::"
port = 1110
tls_port = 1995
[auth]
max_failures = 3
window = 60
lockout = 0
[queue]
retry_min = 30
retry_max = 7200
max_lifetime = 86400
[log]
level = "debug"
`);
    expect(c.server).toEqual({ hostname: 'mx1.example.net', data_dir: '/var/lib/postern', port_offset: 10_000, heartbeat_interval: 30 });
    expect(c.store).toEqual({ backend: 'postgres', url: 'postgres://postern:secret@db/postern', read_cache_mb: 16, inline_blob_kb: 32 });
    expect(c.tls).toEqual({ cert: '/etc/ssl/mx1.pem', key: '/etc/postern/private/mx1.key', min_version: 'TLSv1.3' });
    expect(c.dkim).toEqual({ selector: 's2024.mail', key_dir: '/etc/dkim' });
    expect(c.smtp).toMatchObject({
      max_message_size: 1_048_576,
      max_recipients: 50,
      max_connections: 40,
      max_connections_per_client: 4,
      bare_newline: 'normalize',
      socket_timeout: 60,
    });
    expect(c.smtp.mx).toEqual({ enabled: true, address: '192.0.2.1', port: 2525 });
    expect(c.smtp.submission).toEqual({ enabled: false, address: '::1', port: 1587 });
    expect(c.smtp.submissions).toEqual({ enabled: true, address: 'localhost', port: 1465 });
    expect(c.imap).toMatchObject({ enabled: false, address: '0.0.0.0', port: 1143, tls_port: 1993 });
    expect(c.pop3).toMatchObject({ enabled: true, address: '::', port: 1110, tls_port: 1995 });
    expect(c.auth).toEqual({ max_failures: 3, window: 60, lockout: 0, delay_min: 1, delay_max: 30, known_sources: 16 });
    expect(c.queue).toEqual({ retry_min: 30, retry_max: 7200, max_lifetime: 86_400 });
    expect(c.log.level).toBe('debug');
    // Disabled listeners are not listed.
    expect(listenerPorts(c).map((l) => l.key.join('.'))).toEqual(['smtp.mx.port', 'smtp.submissions.port', 'pop3.port', 'pop3.tls_port', 'managesieve.port', 'admin.port']);
  });
});

describe('parseConfig errors', () => {
  it('reports every wrong key of one file at once, each with its key and reason', () => {
    const errs = errors(`
[server]
hostname = "mail.example.org"
port_offset = -1
[smtp]
max_recipients = "lots"
bare_newline = "fix"
[smtp.mx]
enabled = "yes"
[tls]
min_version = "SSLv3"
[queue]
retry_min = 2.5
[log]
level = "loud"
`);
    expect(errs).toEqual([
      { key: 'server.port_offset', reason: 'expected a whole number from 0 to 50000, got -1' },
      { key: 'tls.min_version', reason: 'expected one of "TLSv1.2", "TLSv1.3", got "SSLv3"' },
      { key: 'smtp.max_recipients', reason: 'expected a whole number from 1 to 10000, got "lots"' },
      { key: 'smtp.bare_newline', reason: 'expected one of "reject", "normalize", got "fix"' },
      { key: 'smtp.mx.enabled', reason: 'expected true or false, got "yes"' },
      { key: 'queue.retry_min', reason: 'expected a whole number from 1 to 86400, got 2.5' },
      { key: 'log.level', reason: expect.stringContaining('got "loud"') },
    ]);
  });

  it('reports any combination of wrong keys, all of them and nothing else', () => {
    const wrong: Record<string, [section: string, line: string]> = {
      'server.port_offset': ['server', 'port_offset = "x"'],
      'store.backend': ['store', 'backend = "mysql"'],
      'tls.cert': ['tls', 'cert = 5'],
      'dkim.selector': ['dkim', 'selector = "Bad Selector"'],
      'smtp.max_message_size': ['smtp', 'max_message_size = 10'],
      'smtp.socket_timeout': ['smtp', 'socket_timeout = true'],
      'smtp.submission.address': ['smtp.submission', 'address = "not an address"'],
      'imap.tls_port': ['imap', 'tls_port = 0'],
      'pop3.enabled': ['pop3', 'enabled = 1'],
      'auth.window': ['auth', 'window = 0'],
      'queue.max_lifetime': ['queue', 'max_lifetime = [1]'],
      'log.level': ['log', 'level = "verbose"'],
      'smtp.maxrecipients': ['smtp', 'maxrecipients = 5'],
    };
    fc.assert(
      fc.property(fc.subarray(Object.keys(wrong), { minLength: 1 }), (chosen) => {
        const bySection = new Map<string, string[]>();
        for (const k of chosen) {
          const [section, line] = wrong[k] ?? ['', ''];
          bySection.set(section, [...(bySection.get(section) ?? []), line]);
        }
        let text = MIN.replace('[server]\n', '');
        const server = bySection.get('server') ?? [];
        text = `[server]\n${text}${server.join('\n')}\n`;
        for (const [section, lines] of bySection) if (section !== 'server') text += `[${section}]\n${lines.join('\n')}\n`;
        expect(keys(text).sort()).toEqual([...chosen].sort());
      }),
      { numRuns: 200 },
    );
  });

  it('names an unknown key and suggests the nearest known one', () => {
    expect(errors(`${MIN}[smtp]\nmax_recipents = 5\n`)).toEqual([{ key: 'smtp.max_recipents', reason: 'unknown key; did you mean "max_recipients"?' }]);
    const [section] = errors(`${MIN}[spam]\nlevel = 5\n`);
    expect(section?.key).toBe('spam');
    expect(section?.reason).toMatch(/^unknown key; expected one of server, store, tls/);
  });

  it('reports a TOML syntax error with its line and column', () => {
    const errs = errors(`${MIN}[smtp]\nmax_recipients = \n`);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ key: '(syntax)', line: 4, column: 18 });
    expect(formatConfigErrors('postern.toml', errs)).toMatch(/^postern\.toml:4:18: \S/);
    expect(errs[0]?.reason).not.toContain('\n');
  });

  it('rejects keys that would pollute prototypes', () => {
    expect(keys(`${MIN}[smtp]\n__proto__ = 1\n`)).toEqual(['(syntax)']);
  });

  it('reports wrong types plainly', () => {
    expect(errors(`smtp = 5\n${MIN}`)).toEqual([{ key: 'smtp', reason: 'expected a table, got 5' }]);
    expect(errors(`${MIN}[smtp]\nmax_recipients = { a = 1 }\n`)).toEqual([
      { key: 'smtp.max_recipients', reason: 'expected a whole number from 1 to 10000, got a table' },
    ]);
    expect(errors(`${MIN}[dkim]\nkey_dir = ["a"]\n`)).toEqual([{ key: 'dkim.key_dir', reason: 'expected a non-empty path, got an array' }]);
    expect(errors(`${MIN}[auth]\nlockout = 1979-05-27\n`)).toEqual([{ key: 'auth.lockout', reason: 'expected a whole number from 0 to 604800, got a date' }]);
  });

  it('requires server.hostname and wants it fully qualified', () => {
    expect(errors('')).toEqual([{ key: 'server.hostname', reason: expect.stringMatching(/^is required/) }]);
    expect(keys('[server]\nhostname = "mail"\n')).toEqual(['server.hostname']);
    expect(keys('[server]\nhostname = "mail..example.org"\n')).toEqual(['server.hostname']);
    expect(ok('[server]\nhostname = "localhost"\n').server.hostname).toBe('localhost');
  });

  it('requires a url for postgres and never echoes it', () => {
    expect(errors(`${MIN}[store]\nbackend = "postgres"\n`)).toEqual([{ key: 'store.url', reason: expect.stringMatching(/^is required when backend = "postgres"/) }]);
    const bad = errors(`${MIN}[store]\nbackend = "postgres"\nurl = "mysql://u:hunter2@db"\n`);
    expect(bad.map((e) => e.key)).toEqual(['store.url']);
    expect(JSON.stringify(bad)).not.toContain('hunter2');
    // For sqlite the url is not used, whatever it holds.
    expect(ok(`${MIN}[store]\nurl = "anything"\n`).store.backend).toBe('sqlite');
  });

  it('checks cross-field limits even when other keys are wrong', () => {
    expect(keys(`${MIN}[smtp]\nmax_connections = 5\nbare_newline = "x"\n`)).toEqual(['smtp.bare_newline', 'smtp.max_connections_per_client']);
    expect(keys(`${MIN}[queue]\nretry_min = 600\nretry_max = 60\n`)).toEqual(['queue.retry_max']);
  });

  it('rejects a port offset that pushes an enabled listener past 65535', () => {
    const errs = errors(`[server]\nhostname = "a.example"\nport_offset = 50000\n[imap]\ntls_port = 20000\n[pop3]\nenabled = false\ntls_port = 30000\n`);
    expect(errs).toEqual([{ key: 'imap.tls_port', reason: '20000 + server.port_offset 50000 = 70000, above 65535' }]);
  });

  it('rejects two enabled listeners on the same port and address', () => {
    expect(errors(`${MIN}[imap]\nport = 587\n`)).toEqual([{ key: 'imap.port', reason: 'port 587 is also used by smtp.submission.port' }]);
    // A specific IPv6 address does not collide with the IPv4 wildcard; "::" does.
    expect(ok(`${MIN}[imap]\nport = 587\naddress = "::1"\n`).imap.port).toBe(587);
    expect(keys(`${MIN}[imap]\nport = 587\naddress = "::"\n`)).toEqual(['imap.port']);
    expect(ok(`${MIN}[smtp.submission]\nenabled = false\n[imap]\nport = 587\n`).imap.port).toBe(587);
  });
});

describe('paths', () => {
  it('resolves relative paths against the config folder and keeps absolute ones', () => {
    const c = ok(`${MIN}data_dir = "../var/postern"\n[tls]\ncert = "/srv/cert.pem"\nkey = "./k.pem"\n`, '/etc/postern');
    expect(c.server.data_dir).toBe('/etc/var/postern');
    expect(c.tls.cert).toBe('/srv/cert.pem');
    expect(c.tls.key).toBe('/etc/postern/k.pem');
  });

  it('makes a relative base folder absolute too', () => {
    const c = ok(MIN, 'conf');
    expect(c.server.data_dir).toBe(join(process.cwd(), 'conf', 'data'));
  });
});

describe('frozen config', () => {
  it('cannot be changed at any depth', () => {
    const c = ok(MIN);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.smtp.mx)).toBe(true);
    const loose = c as unknown as { smtp: { max_recipients: number; mx: { port: number } }; log: Record<string, unknown> };
    expect(() => {
      loose.smtp.max_recipients = 1;
    }).toThrow(TypeError);
    expect(() => {
      loose.smtp.mx.port = 1;
    }).toThrow(TypeError);
    expect(() => {
      loose.log.extra = 1;
    }).toThrow(TypeError);
    expect(c.smtp.max_recipients).toBe(100);
  });
});

describe('listenPort', () => {
  it('adds the offset', () => {
    expect(listenPort(ok(`${MIN}port_offset = 10000\n`), 25)).toBe(10_025);
    expect(listenPort(ok(MIN), 993)).toBe(993);
  });

  it('refuses a port past 65535 with a config error', () => {
    const c = ok(`${MIN}port_offset = 50000\n`);
    expect(() => listenPort(c, 20_000)).toThrow(/65535/);
    try {
      listenPort(c, 20_000);
    } catch (e) {
      expect(isPosternError(e, 'CONFIG_INVALID')).toBe(true);
    }
  });
});

describe('loadConfig and formatConfigErrors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and resolves paths against its folder', () => {
    const file = join(dir, 'postern.toml');
    writeFileSync(file, MIN);
    const r = loadConfig(file);
    expect(r.ok && r.config.tls.key).toBe(join(dir, 'tls', 'key.pem'));
  });

  it('reports a missing file as one "(file)" error', () => {
    const file = join(dir, 'absent.toml');
    const r = loadConfig(file);
    expect(r).toEqual({ ok: false, errors: [{ key: '(file)', reason: `cannot read ${file}: file not found` }] });
    if (!r.ok) expect(formatConfigErrors(file, r.errors)).toBe(`${file}: cannot read ${file}: file not found`);
  });

  it('reports a folder given as the file', () => {
    const r = loadConfig(dir);
    expect(r.ok ? [] : r.errors.map((e) => e.key)).toEqual(['(file)']);
  });

  it('formats one line per error with the key', () => {
    const errs = errors(`${MIN}[smtp]\nmax_recipients = "lots"\n[log]\nlevle = 1\n`);
    expect(formatConfigErrors('postern.toml', errs).split('\n')).toEqual([
      'postern.toml: smtp.max_recipients: expected a whole number from 1 to 10000, got "lots"',
      'postern.toml: log.levle: unknown key; did you mean "level"?',
    ]);
  });
});

describe('IMAP and POP3 session limits', () => {
  it('default to the RFC idle minimums and can be raised, never lowered below them', () => {
    const ok = parseConfig('[server]\nhostname = "mail.example.org"\n[imap]\nmax_connections = 50\nidle_timeout = 3600\n', '/etc/postern');
    expect(ok.ok && ok.config.imap).toMatchObject({ max_connections: 50, max_connections_per_client: 100, idle_timeout: 3600 });
    expect(ok.ok && ok.config.pop3.idle_timeout).toBe(600);
    const bad = parseConfig('[server]\nhostname = "mail.example.org"\n[imap]\nidle_timeout = 60\n[pop3]\nidle_timeout = 30\n', '/etc/postern');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.map((e) => e.key).sort()).toEqual(['imap.idle_timeout', 'pop3.idle_timeout']);
  });
});

describe('limits.memory_budget', () => {
  it('defaults to 512 MiB and takes a value that holds the largest message twice', () => {
    expect(ok(MIN).limits.memory_budget).toBe(512);
    expect(ok(`${MIN}[smtp]\nmax_message_size = 10485760\n[limits]\nmemory_budget = 21\n`).limits.memory_budget).toBe(21);
  });

  it('refuses a budget that could never hold one message of the size limit, and one below 16 MiB', () => {
    expect(keys(`${MIN}[smtp]\nmax_message_size = 10485760\n[limits]\nmemory_budget = 20\n`)).toEqual(['limits.memory_budget']);
    expect(keys(`${MIN}[limits]\nmemory_budget = 8\n`)).toContain('limits.memory_budget');
  });
});
