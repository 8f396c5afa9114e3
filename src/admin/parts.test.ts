import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decideAccess, loadToken } from './access.js';
import { deliveryTimesQuery, describeIssues, eventsQuery, parseSince } from './params.js';
import { redirectLocation } from './redirect.js';
import { StatusSource } from './status.js';
import { openStore } from '../store/index.js';
import { newQueueId } from '../core/ids.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const TOKEN = 'k3Jq8v1-ZxP0a_Yw9nB2cD4eF6gH8iJ0kL';
const digest = createHash('sha256').update(TOKEN).digest();

describe('access', () => {
  it('allows the bearer token only, and refuses when nothing is configured', () => {
    const rules = { tokenDigest: digest, clientCa: false };
    expect(decideAccess(rules, `Bearer ${TOKEN}`, undefined)).toBe('allowed');
    expect(decideAccess(rules, `bearer ${TOKEN}`, undefined)).toBe('allowed');
    expect(decideAccess(rules, `Bearer ${TOKEN}x`, undefined)).toBe('unauthorized');
    expect(decideAccess(rules, `Bearer ${TOKEN.slice(1)}`, undefined)).toBe('unauthorized');
    expect(decideAccess(rules, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, undefined)).toBe('unauthorized');
    expect(decideAccess(rules, undefined, undefined)).toBe('unauthorized');
    expect(decideAccess({ tokenDigest: null, clientCa: false }, `Bearer ${TOKEN}`, undefined)).toBe('forbidden');
  });

  it('allows a TLS peer only when its certificate verified', () => {
    const rules = { tokenDigest: null, clientCa: true };
    const peer = (authorized: boolean, cert: object) => ({ authorized, getPeerCertificate: () => cert });
    expect(decideAccess(rules, undefined, peer(true, { subject: { CN: 'scraper' } }))).toBe('allowed');
    expect(decideAccess(rules, undefined, peer(false, { subject: { CN: 'scraper' } }))).toBe('unauthorized');
    expect(decideAccess(rules, undefined, peer(true, {}))).toBe('unauthorized');
    expect(decideAccess(rules, undefined, {})).toBe('unauthorized');
  });

  it('reads the token file, names the key when it is unusable, and notices loose permissions', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'postern-token-'));
    try {
      const f = path.join(dir, 'token');
      writeFileSync(f, `${TOKEN}\nignored second line\n`, { mode: 0o600 });
      chmodSync(f, 0o600);
      expect(loadToken(f)).toEqual({ digest, groupOrWorldReadable: false });
      chmodSync(f, 0o644);
      expect(loadToken(f).groupOrWorldReadable).toBe(true);
      writeFileSync(f, 'short\n');
      expect(() => loadToken(f)).toThrow(/admin\.metrics_token_file: .* has 5 characters, at least 32/);
      writeFileSync(f, `${TOKEN} ${TOKEN}\n`);
      expect(() => loadToken(f)).toThrow(/admin\.metrics_token_file: .*printable ASCII without spaces/);
      expect(() => loadToken(path.join(dir, 'missing'))).toThrow(/admin\.metrics_token_file: cannot read .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('query parameters', () => {
  it('reads since as a span back, a date or Unix milliseconds', () => {
    expect(parseSince('15m', NOW)).toBe(NOW - 15 * 60_000);
    expect(parseSince('7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseSince('2026-12-01', NOW)).toBe(Date.parse('2026-12-01'));
    expect(parseSince('2026-12-01T10:00:00Z', NOW)).toBe(Date.parse('2026-12-01T10:00:00Z'));
    expect(parseSince('1764763200000', NOW)).toBe(1_764_763_200_000);
    for (const bad of ['', 'yesterday', '7x', '-5d', '2026-13-45', '999999w']) expect(parseSince(bad, NOW)).toBeNull();
  });

  it('validates /api/v1/events with one clear message per bad parameter', () => {
    const ok = eventsQuery(NOW).safeParse({ kind: 'server.start', limit: '10', since: '1h' });
    expect(ok.success && ok.data).toEqual({ kind: 'server.start', limit: 10, since: NOW - 3_600_000 });
    const dflt = eventsQuery(NOW).safeParse({});
    expect(dflt.success && dflt.data).toEqual({ limit: 100, since: NOW - 86_400_000 });
    const bad = eventsQuery(NOW).safeParse({ kind: 'no.such', limit: '1001', since: 'soon' });
    expect(bad.success).toBe(false);
    if (!bad.success) {
      expect(describeIssues(bad.error).sort()).toEqual([
        'kind: is not a known event kind (see /api/v1/event-kinds)',
        'limit: expected a whole number from 1 to 1000',
        'since: expected a span back from now ("15m", "12h", "7d", "2w"), an ISO 8601 date or Unix milliseconds',
      ]);
    }
    for (const limit of ['0', '-1', '1.5', 'ten', '99999']) expect(eventsQuery(NOW).safeParse({ limit }).success).toBe(false);
    const unknown = deliveryTimesQuery(NOW).safeParse({ since: '1h', path: 'x' });
    expect(!unknown.success && describeIssues(unknown.error)).toEqual(['unknown parameter path']);
  });
});

describe('redirect', () => {
  it('keeps the path and the Host name, moves to the HTTPS port, never to a foreign scheme or a header-injected host', () => {
    const loc = (url: string, host?: string) => redirectLocation({ url, headers: host === undefined ? {} : { host } }, 'mail.example.org', 8443);
    expect(loc('/metrics?x=1', 'admin.example.org:8080')).toBe('https://admin.example.org:8443/metrics?x=1');
    expect(loc('/', '[::1]:8080')).toBe('https://[::1]:8443/');
    expect(loc('/a', 'evil.example/x')).toBe('https://mail.example.org:8443/a');
    expect(loc('/a', 'a b')).toBe('https://mail.example.org:8443/a');
    expect(loc('//evil.example/x')).toBe('https://mail.example.org:8443/x');
    expect(loc('http://evil.example/y')).toBe('https://mail.example.org:8443/y');
    expect(loc(`/${'a'.repeat(3000)}`)).toBe('https://mail.example.org:8443/');
    expect(redirectLocation({ url: '/', headers: {} }, 'mail.example.org', 443)).toBe('https://mail.example.org/');
  });
});

describe('StatusSource', () => {
  it('reads the store once per TTL however many ask, and reads it again after', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'postern-status-'));
    const store = await openStore({ backend: 'sqlite', dataDir: dir });
    try {
      let now = NOW;
      let reads = 0;
      const stats = store.meta.queue.stats.bind(store.meta.queue);
      const queue = Object.assign(Object.create(store.meta.queue) as typeof store.meta.queue, {
        stats: () => {
          reads++;
          return stats();
        },
      });
      const status = new StatusSource({ ...store.meta, queue, events: store.meta.events, deliveryTimes: store.meta.deliveryTimes, integrity: store.meta.integrity }, { now: () => now }, { ttlMs: 5000 });
      const first = await Promise.all(Array.from({ length: 50 }, () => status.get()));
      expect(reads).toBe(1);
      expect(first[0]).toMatchObject({ queueOldestAgeSeconds: 0, lastScrubAgeSeconds: null, lastVerifiedBackupAgeSeconds: null, deliveryTimes: [], maintenanceActive: false, damagedBlobs: 0 });

      const blob = await store.blobs.put(Buffer.from('Subject: s\r\n\r\nb\r\n'));
      await store.meta.queue.enqueue(
        { id: newQueueId(), blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: NOW - 120_000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
        [{ address: 'r@remote.test', transport: 'remote' }],
      );
      await store.meta.events.record('integrity.scrub_completed', 'store', { clean: true }, NOW - 30_000);
      await store.meta.events.record('integrity.backup_completed', '/b1', { complete: true }, NOW - 20_000);
      await store.meta.events.record('integrity.backup_completed', '/b2', { complete: false }, NOW - 10_000);
      await store.meta.events.record('maintenance.start', 'maintenance', { reason: 'test' }, NOW - 1000);
      now = NOW + 4999;
      expect((await status.get()).lastScrubAgeSeconds).toBeNull(); // still the cached read
      expect(reads).toBe(1);
      now = NOW + 5000;
      const s = await status.get();
      expect(reads).toBe(2);
      expect(s).toMatchObject({ queueOldestAgeSeconds: 125, lastScrubAgeSeconds: 35, lastVerifiedBackupAgeSeconds: 25, maintenanceActive: true });
      expect(s.queue.states).toEqual([{ state: 'queued', messages: 1, recipients: 1 }]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
