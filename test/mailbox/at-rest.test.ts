/**
 * Encryption at rest at local delivery: the policy decision, the header-only
 * checks, and LocalDelivery with a real SQLite store, real certificates
 * (openssl) and the real 'smime.encrypt' task function; openssl decrypts
 * what was stored and must give back the message exactly as queued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { Spool } from '../../src/queue/spool.js';
import { LocalDelivery } from '../../src/delivery/local.js';
import { ManualClock } from '../../src/core/clock.js';
import { newQueueId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { provisionMailbox } from '../../src/mailbox/provision.js';
import { AtRest, AtRestDeferred, alreadyEncrypted, atRestSettings, covers, outerHeader, type AtRestSettings } from '../../src/mailbox/at-rest.js';
import { parseConfig } from '../../src/config/load.js';
import { TASKS } from '../../src/policy/pool/tasks.js';
import { parseCertificate, encryptData, pkcs7MimeEntity } from '../../src/crypto/smime/index.js';
import { makePki, opensslStatus, type Pki } from '../support/smime-pki.js';

const OPTS = { batch: 10, leaseMs: 30_000, pollMs: 1000, retryMinMs: 1000, retryMaxMs: 8000, maxLifetimeMs: 600_000 };
const SETTINGS: AtRestSettings = {
  accounts: [],
  groups: [],
  domains: ['example.test'],
  outerFields: ['From', 'To', 'Date', 'Subject', 'Message-ID'],
  cipher: 'aes-256-gcm',
  missingCertificate: 'deliver',
  budgetMs: 10_000,
};
const SECRET = 'the launch code is marmalade-7731';
const MESSAGE = Buffer.from(
  'Received: from mx.remote.test by mail.example.test; Fri, 4 Dec 2026 10:00:00 +0000\r\n' +
    'From: Bob <bob@remote.test>\r\nTo: rsa@example.test\r\nSubject: quarterly\r\n' +
    'Date: Fri, 4 Dec 2026 10:00:00 +0000\r\nMessage-ID: <q1@remote.test>\r\nX-Trace: keep-me-inside\r\n' +
    `Content-Type: text/plain; charset=utf-8\r\n\r\n${SECRET}\r\nsecond line\r\n`,
);

const realEncrypt = async (raw: Uint8Array, certs: Uint8Array[], cipher: string) => (await TASKS['smime.encrypt']({ raw, certs, cipher })) as Uint8Array;

describe('the policy decision', () => {
  it('covers an account listed, a domain listed, or a member of a group listed; nobody else', () => {
    const s = { accounts: ['ceo@corp.test'], groups: ['legal'], domains: ['secure.test'] };
    expect(covers(s, 'CEO@corp.test', [])).toBe(true);
    expect(covers(s, 'anyone@secure.test', [])).toBe(true);
    expect(covers(s, 'lawyer@corp.test', ['sales', 'legal'])).toBe(true);
    expect(covers(s, 'clerk@corp.test', ['sales'])).toBe(false);
    expect(covers(s, 'x@sub.secure.test', [])).toBe(false);
    expect(covers({ accounts: [], groups: [], domains: [] }, 'a@b.test', ['legal'])).toBe(false);
  });

  it('takes its settings from [encryption_at_rest]', () => {
    const r = parseConfig('[server]\nhostname = "mail.example.org"\n[encryption_at_rest]\nenabled = true\naccounts = ["CEO@Example.org"]\ngroups = ["board"]\nouter_fields = ["From", "Date"]\n', '/srv');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const s = atRestSettings(r.config.encryption_at_rest);
    expect(s).toEqual({ accounts: ['ceo@example.org'], groups: ['board'], domains: [], outerFields: ['From', 'Date'], cipher: 'aes-256-gcm', missingCertificate: 'deliver', budgetMs: 30_000 });
    expect(covers(s, 'ceo@example.org', [])).toBe(true);
    expect(covers(s, 'cfo@example.org', [])).toBe(false);
  });

  it('recognises mail that is already encrypted from its header alone', () => {
    const p7m = (t: string) => Buffer.from(`From: a@b.test\r\nContent-Type: application/pkcs7-mime; smime-type=${t}; name=smime.p7m\r\n\r\nMIAG\r\n`);
    expect(alreadyEncrypted(p7m('enveloped-data'))).toBe(true);
    expect(alreadyEncrypted(p7m('authEnveloped-data'))).toBe(true);
    expect(alreadyEncrypted(Buffer.from('Content-Type: application/x-pkcs7-mime; smime-type="enveloped-data"\r\n\r\nx'))).toBe(true);
    expect(alreadyEncrypted(Buffer.from('Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b\r\n\r\n--b--\r\n'))).toBe(true);
    expect(alreadyEncrypted(p7m('signed-data'))).toBe(false); // opaque signed: readable by anyone, so encrypted at rest
    expect(alreadyEncrypted(MESSAGE)).toBe(false);
    expect(alreadyEncrypted(Buffer.from('no header at all'))).toBe(false);
  });

  it('keeps only the named outer fields, in order, folding intact, never Content-*', () => {
    const raw = Buffer.from('Subject: a\r\n long\r\nX-A: 1\r\nfrom: f@x.test\nContent-Type: text/plain\r\n\r\nbody');
    expect(Buffer.from(outerHeader(raw, ['From', 'subject', 'Content-Type'])).toString()).toBe('Subject: a\r\n long\r\nfrom: f@x.test\r\n');
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.constantFrom('From', 'To', 'Subject', 'Content-Type'), { maxLength: 4 }), (bytes, names) => {
        expect(typeof alreadyEncrypted(bytes)).toBe('boolean');
        expect(outerHeader(bytes, names)).toBeInstanceOf(Uint8Array);
      }),
      { numRuns: 300 },
    );
  });
});

describe('local delivery with encryption at rest', () => {
  let pki: Pki;
  beforeAll(() => {
    pki = makePki();
  }, 60_000);
  afterAll(() => pki?.cleanup());

  const setup = async (settings: Partial<AtRestSettings> = {}, encrypt = realEncrypt) => {
    const store: Store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-atrest-')) });
    const clock = new ManualClock(Date.now());
    await store.meta.directory.addDomain('example.test', 1);
    const acct = await store.meta.directory.addAccount({ address: 'rsa@example.test', passwordHash: 'x' }, 1);
    await provisionMailbox(store.meta.mailboxes, acct.id, 1);
    const inbox = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX'))!;
    const spool = new Spool(store.blobs, store.meta.queue, clock);
    const agent = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, silentLogger(), OPTS, store.meta.directory, undefined, store.blobs, store.meta.events);
    agent.encryptAtRest(new AtRest({ ...SETTINGS, ...settings }, { certificates: store.meta.certificates, blobs: store.blobs, directory: store.meta.directory, encrypt }));
    const send = async (data: Uint8Array = MESSAGE) => {
      const queueId = newQueueId();
      await spool.accept({ queueId, data, sender: 'bob@remote.test', recipients: [{ address: acct.address, transport: 'local', accountId: acct.id }], source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} });
      return queueId;
    };
    const addCert = async (pem: string, revoked = false, source: 'uploaded' | 'learned' = 'uploaded') => {
      const c = parseCertificate(pem);
      const fingerprint = createHash('sha256').update(c.der).digest('hex');
      await store.meta.certificates.put({ address: acct.address, der: c.der, fingerprint, source, notBefore: Date.parse(c.x509.validFrom), notAfter: Date.parse(c.x509.validTo) }, 1);
      if (revoked) await store.meta.certificates.setRevoked(fingerprint, true);
    };
    const stored = async () => Promise.all((await store.meta.mailboxes.listMessages(inbox.id)).map(async (m) => Buffer.from(await store.blobs.get(m.blobId))));
    const events = async () => (await store.meta.events.list('smime.at_rest')).map((e) => e.data['result']);
    return { store, agent, send, addCert, stored, events, clock };
  };

  const decrypt = (stored: Buffer, keyFile: string) => {
    const f = path.join(pki.dir, `m-${newQueueId()}.eml`);
    writeFileSync(f, stored);
    return opensslStatus(['cms', '-decrypt', '-in', f, '-inkey', keyFile]);
  };

  it('stores the message encrypted to every valid certificate; each owner key recovers it exactly', async () => {
    const t = await setup();
    try {
      await t.addCert(pki.rsa.certPem);
      await t.addCert(pki.p256.certPem); // a second certificate of the same owner (e.g. a new device)
      await t.send();
      t.clock.advance(1000); // delivery comes after the queue copy was written
      expect(await t.agent.pass()).toBe(1);
      const [sealed] = await t.stored();
      expect(sealed!.includes(Buffer.from(SECRET))).toBe(false);
      expect(sealed!.includes(Buffer.from('keep-me-inside'))).toBe(false);
      const text = sealed!.toString('latin1');
      expect(text).toMatch(/^From: Bob <bob@remote.test>\r\nTo: rsa@example.test\r\nSubject: quarterly\r\nDate: [^\r]+\r\nMessage-ID: <q1@remote.test>\r\nMIME-Version: 1.0\r\nContent-Type: application\/pkcs7-mime; smime-type=authEnveloped-data/);
      for (const key of [pki.rsa.keyFile, pki.p256.keyFile]) {
        const r = decrypt(sealed!, key);
        expect(r.stderr).toBe('');
        expect(r.stdout.equals(MESSAGE)).toBe(true);
      }
      expect(decrypt(sealed!, pki.p384.keyFile).status).not.toBe(0); // not a recipient
      expect(await t.events()).toEqual(['encrypted']);
      expect(await t.store.meta.queue.listPending()).toEqual([]);
      // The clear queue copy is gone too: the only blob left is the encrypted one.
      const blobs: string[] = [];
      for await (const id of t.store.blobs.list()) blobs.push(id);
      expect(blobs).toHaveLength(1);
      expect(Buffer.from(await t.store.blobs.get(blobs[0]!)).equals(sealed!)).toBe(true);
      const cached = await t.store.meta.mailboxes.getHeaderCache([(await t.store.meta.mailboxes.listMessages((await t.store.meta.mailboxes.getFolder(1, 'INBOX'))!.id))[0]!.blobId], false);
      expect(cached[0]!.search).toMatch(/quarterly/);
    } finally {
      await t.store.close();
    }
  }, 60_000);

  it('uses AES-256-CBC EnvelopedData when configured', async () => {
    const t = await setup({ cipher: 'aes-256-cbc' });
    try {
      await t.addCert(pki.rsa.certPem);
      await t.send();
      await t.agent.pass();
      const [sealed] = await t.stored();
      expect(sealed!.toString('latin1')).toMatch(/smime-type=enveloped-data/);
      expect(decrypt(sealed!, pki.rsa.keyFile).stdout.equals(MESSAGE)).toBe(true);
    } finally {
      await t.store.close();
    }
  }, 60_000);

  it('stores already-encrypted mail as it came', async () => {
    const t = await setup();
    try {
      await t.addCert(pki.rsa.certPem);
      const already = Buffer.concat([
        Buffer.from('From: bob@remote.test\r\nTo: rsa@example.test\r\nSubject: sealed by sender\r\nMIME-Version: 1.0\r\n'),
        pkcs7MimeEntity(encryptData(Buffer.from(`Content-Type: text/plain\r\n\r\n${SECRET}\r\n`), { recipients: [{ certificate: pki.rsa.certPem }] }), 'authEnveloped-data'),
      ]);
      await t.send(already);
      await t.agent.pass();
      const [got] = await t.stored();
      expect(got!.equals(already)).toBe(true);
      expect(await t.events()).toEqual(['already']);
    } finally {
      await t.store.close();
    }
  }, 60_000);

  it('without a valid certificate delivers in clear (counted) or defers, as configured', async () => {
    const deliver = await setup();
    try {
      await deliver.addCert(pki.rsa.certPem, true); // revoked: does not count
      await deliver.addCert(pki.p256.certPem, false, 'learned'); // learned from a signature: not imported, does not count
      await deliver.send();
      await deliver.agent.pass();
      expect((await deliver.stored())[0]!.equals(MESSAGE)).toBe(true);
      expect(await deliver.events()).toEqual(['no_certificate']);
    } finally {
      await deliver.store.close();
    }
    const defer = await setup({ missingCertificate: 'defer' });
    try {
      const id = await defer.send();
      await defer.agent.pass();
      expect(await defer.stored()).toEqual([]);
      expect((await defer.store.meta.queue.listRecipients(id)).map((r) => [r.state, r.lastError])).toEqual([['deferred', expect.stringMatching(/no valid certificate/)]]);
      // The certificate arrives; the retry encrypts.
      await defer.addCert(pki.rsa.certPem);
      defer.clock.advance(60_000);
      await defer.agent.pass();
      const [sealed] = await defer.stored();
      expect(decrypt(sealed!, pki.rsa.keyFile).stdout.equals(MESSAGE)).toBe(true);
      expect(await defer.events()).toEqual(['encrypted', 'no_certificate']);
    } finally {
      await defer.store.close();
    }
  }, 60_000);

  it('fails closed: an encryption that fails defers the recipient and stores nothing in clear', async () => {
    const t = await setup({}, async () => {
      throw new Error('policy task smime.encrypt ran out of time');
    });
    try {
      await t.addCert(pki.rsa.certPem);
      const id = await t.send();
      await t.agent.pass();
      expect(await t.stored()).toEqual([]);
      expect((await t.store.meta.queue.listRecipients(id))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringMatching(/encryption at rest failed/) });
      expect(await t.events()).toEqual(['failed']);
    } finally {
      await t.store.close();
    }
  }, 60_000);

  it('leaves accounts the policy does not cover alone', async () => {
    const t = await setup({ domains: [], accounts: ['someone@example.test'] });
    try {
      await t.addCert(pki.rsa.certPem);
      await t.send();
      await t.agent.pass();
      expect((await t.stored())[0]!.equals(MESSAGE)).toBe(true);
      expect(await t.events()).toEqual([]);
    } finally {
      await t.store.close();
    }
  }, 60_000);

  it('covers by group membership', async () => {
    const t = await setup({ domains: [], groups: ['board'] });
    try {
      await t.store.meta.directory.addGroup('board', 'the board');
      await t.store.meta.directory.addGroupMember('board', 'rsa@example.test');
      await t.addCert(pki.rsa.certPem);
      await t.send();
      await t.agent.pass();
      expect((await t.stored())[0]!.includes(Buffer.from(SECRET))).toBe(false);
    } finally {
      await t.store.close();
    }
  }, 60_000);

  it('prepare defers a covered recipient without a certificate when told to', async () => {
    const t = await setup();
    try {
      const at = new AtRest({ ...SETTINGS, missingCertificate: 'defer' }, { certificates: t.store.meta.certificates, blobs: t.store.blobs, directory: t.store.meta.directory, encrypt: realEncrypt });
      const ref = await t.store.blobs.put(MESSAGE);
      await expect(at.prepare('rsa@example.test', { blobId: ref.id, size: ref.size }, Date.now())).rejects.toBeInstanceOf(AtRestDeferred);
    } finally {
      await t.store.close();
    }
  });
});
