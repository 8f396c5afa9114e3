/**
 * `postern pki escrow` and `postern pki recover`: keys that `pki issue --p12`
 * makes are escrowed M-of-N to the key-recovery officers (../../crypto/escrow),
 * and a key comes back only to its owner, after M distinct officers approved
 * within a window, as a PKCS#12 under a passphrase the owner chose. Files live
 * under pki/ beside the configuration: escrow.json (the officers), escrow/
 * (one record per escrowed certificate), recovery/<id>/ (a request, one
 * approval file per officer, created exclusively, and a collected marker).
 * Every attempt, granted or refused, goes to the audit log; never key material.
 */
import { X509Certificate, createHash, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { normalizeAddress } from '../../core/address.js';
import { toPkcs12 } from '../../crypto/ca/index.js';
import {
  EscrowError,
  type EscrowRecord,
  escrowKey,
  exportRequestPublicKey,
  importRequestPublicKey,
  newRequestKey,
  openProtectedKey,
  openShare,
  parseEscrowRecord,
  parseWith,
  protectKey,
  protectedKeySchema,
  recoverKey,
  sealShare,
  sealedShareSchema,
  unsealShare,
} from '../../crypto/escrow/index.js';
import { dummyVerify, verifyPassword } from '../../crypto/password.js';
import { encryptData } from '../../crypto/smime/index.js';
import type { Account, Store, StoredCertificate } from '../../store/types.js';
import { audited, cliActor } from '../audit.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { checkPasswordStrength } from '../password-input.js';
import { pkiPaths, readSecrets, writeNew } from '../pki-files.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
const HOUR = 3_600_000;
const MAX_OFFICERS = 16;
const MAX_FILE = 1024 * 1024;
const sha256hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const ID = /^[0-9a-f]{24}$/;
const SERIAL = /^[0-9A-F]{1,64}$/;

// ---- files ---------------------------------------------------------------

export function escrowPaths(configPath: string) {
  const pki = pkiPaths(configPath);
  return { pki, setup: join(pki.dir, 'escrow.json'), records: join(pki.dir, 'escrow'), recovery: join(pki.dir, 'recovery') };
}
type EscrowPaths = ReturnType<typeof escrowPaths>;

const setupSchema = z.object({
  v: z.literal(1),
  threshold: z.number().int().min(2).max(MAX_OFFICERS),
  officers: z.array(z.object({ address: z.string().min(3).max(320), certFingerprint: hex64 })).min(2).max(MAX_OFFICERS),
  setAt: z.number().int(),
  setBy: z.string().max(320),
});
const recordFileSchema = z.object({
  v: z.literal(1),
  serial: z.string().regex(SERIAL),
  address: z.string().min(3).max(320),
  createdAt: z.number().int(),
  record: z.unknown(),
});
const requestSchema = z.object({
  v: z.literal(1),
  id: z.string().regex(ID),
  address: z.string().min(3).max(320),
  serial: z.string().regex(SERIAL),
  certFingerprint: hex64,
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  publicKey: z.string().max(4096),
  key: protectedKeySchema,
});
const approvalSchema = z.object({
  v: z.literal(1),
  requestId: z.string().regex(ID),
  officer: z.string().min(3).max(320),
  at: z.number().int(),
  requestDigest: hex64,
  sealed: sealedShareSchema,
});
type Request = z.infer<typeof requestSchema>;

const exists = (p: string): Promise<boolean> => fsp.stat(p).then(() => true, () => false);

/** Reads a small JSON file from pki/ and checks it: these files are untrusted input. */
async function readJson<T>(path: string, schema: z.ZodType<T>, what: string): Promise<{ value: T; bytes: Buffer }> {
  const st = await fsp.stat(path).catch(() => null);
  if (!st) throw new UsageError(`${path}: no ${what}`);
  if (!st.isFile() || st.size > MAX_FILE) throw new UsageError(`${path} is not a ${what} file`);
  const bytes = await fsp.readFile(path);
  return { value: parseWith(schema, bytes.toString('utf8'), `${path}`, (m) => new UsageError(m)), bytes };
}

/** Replaces a file atomically: a temporary file (0600) renamed over it. */
async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fsp.writeFile(tmp, data, { flag: 'wx', mode: 0o600 });
  await fsp.chmod(tmp, 0o600);
  await fsp.rename(tmp, path);
}

/** Creates a file that must not exist yet; returns false when it does (the exclusive create is the lock). */
async function createExclusive(path: string, data: string): Promise<boolean> {
  try {
    await fsp.writeFile(path, data, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
  await fsp.chmod(path, 0o600);
  return true;
}

const normSerial = (s: string): string => s.replace(/:/g, '').toUpperCase().replace(/^0+(?=.)/, '');

async function loadRecord(paths: EscrowPaths, serial: string): Promise<{ serial: string; address: string; createdAt: number; record: EscrowRecord }> {
  if (!SERIAL.test(serial)) throw new UsageError(`not a serial: ${serial}`);
  const file = join(paths.records, `${serial}.json`);
  const { value } = await readJson(file, recordFileSchema, 'escrow record');
  return { ...value, record: escrowErrors(() => parseEscrowRecord(value.record)) };
}

/** Escrow records of an address, newest first (unreadable files are skipped with a warning). */
async function recordsOf(paths: EscrowPaths, address: string) {
  const names = (await fsp.readdir(paths.records).catch(() => [] as string[])).filter((n) => /^[0-9A-F]{1,64}\.json$/.test(n));
  const out = [];
  for (const n of names.slice(0, 100_000)) {
    try {
      const r = await loadRecord(paths, n.slice(0, -5));
      if (r.address === address) out.push(r);
    } catch (e) {
      console.error(`warning: ${(e as Error).message}`);
    }
  }
  return out.sort((a, b) => b.createdAt - a.createdAt);
}

const requestDir = (paths: EscrowPaths, id: string): string => join(paths.recovery, id);
const approvalFile = (paths: EscrowPaths, id: string, officer: string): string => join(requestDir(paths, id), `approval-${sha256hex(officer)}.json`);
const collectedFile = (paths: EscrowPaths, id: string): string => join(requestDir(paths, id), 'collected.json');

async function loadRequest(paths: EscrowPaths, id: string): Promise<{ req: Request; digest: string }> {
  if (!ID.test(id)) throw new UsageError(`not a recovery request id: ${JSON.stringify(id)} (24 hex digits)`);
  const { value, bytes } = await readJson(join(requestDir(paths, id), 'request.json'), requestSchema, 'recovery request');
  if (value.id !== id) throw new UsageError(`recovery request ${id}: its file names another id`);
  // Approvals name this digest: a request file changed after approval loses them.
  return { req: value, digest: sha256hex(bytes) };
}

const sealContext = (id: string, officer: string, digest: string): string => `${id}\n${officer}\n${digest}`;

/** Approvals that count: distinct officers holding a share of the record, not the requester, within the window, for this exact request. */
async function countedApprovals(paths: EscrowPaths, req: Request, digest: string, record: EscrowRecord) {
  const holders = new Set(record.shares.map((s) => s.address));
  const names = (await fsp.readdir(requestDir(paths, req.id))).filter((n) => /^approval-[0-9a-f]{64}\.json$/.test(n)).slice(0, 256);
  const out: z.infer<typeof approvalSchema>[] = [];
  for (const n of names) {
    let a;
    try {
      a = (await readJson(join(requestDir(paths, req.id), n), approvalSchema, 'approval')).value;
    } catch (e) {
      console.error(`warning: ${(e as Error).message}; not counted`);
      continue;
    }
    const ok = n === `approval-${sha256hex(a.officer)}.json` && holders.has(a.officer) && a.officer !== req.address && a.requestId === req.id && a.requestDigest === digest && a.at >= req.createdAt && a.at <= req.expiresAt;
    if (ok && !out.some((x) => x.officer === a.officer)) out.push(a);
  }
  return out;
}

async function requestState(paths: EscrowPaths, req: Request, now: number): Promise<'pending' | 'expired' | 'collected'> {
  if (await exists(collectedFile(paths, req.id))) return 'collected';
  return now > req.expiresAt ? 'expired' : 'pending';
}

// ---- who acts ------------------------------------------------------------

/** An enabled account proven by its password. */
async function authenticate(s: Store, address: string, password: string): Promise<Account> {
  const account = await s.meta.directory.getAccount(address.toLowerCase());
  const ok = account && !account.disabled ? await verifyPassword(password, account.passwordHash) : await dummyVerify(password);
  if (!account || !ok) throw new UsageError(`${address}: authentication failed`);
  return account;
}

function requireOfficer(a: Account, what: string): void {
  if (!a.roles.includes('pkiofficer')) throw new UsageError(`${a.address} may not ${what}: it needs the pkiofficer role (it has ${a.roles.join(', ')})`);
}

const escrowErrors = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof EscrowError) throw new UsageError(e.message);
    throw e;
  }
};

interface Attempt {
  actor?: string;
  subject: string;
  data: Record<string, unknown>;
}

/**
 * Runs one step and audits it whatever happens: `result: ok`, or `refused`
 * with the reason (the claimed account in `as` when it was not proven).
 */
async function attempt<T>(s: Store, action: string, subject: string, claimed: string, fn: (a: Attempt) => Promise<T>): Promise<T> {
  const a: Attempt = { subject, data: {} };
  try {
    const r = await fn(a);
    await audited(s, action, a.subject, { ...a.data, result: 'ok' }, a.actor);
    return r;
  } catch (e) {
    const refused = e instanceof UsageError || e instanceof EscrowError;
    await audited(s, action, a.subject, { ...a.data, result: refused ? 'refused' : 'failed', reason: (e as Error).message, ...(a.actor ? {} : { as: claimed }) }, a.actor ?? cliActor());
    if (e instanceof EscrowError) throw new UsageError(e.message);
    throw e;
  }
}

/** The store's certificate with this fingerprint for this address. */
async function certificateOf(s: Store, address: string, fingerprint: string): Promise<StoredCertificate | undefined> {
  return (await s.meta.certificates.list(address)).find((c) => c.fingerprint === fingerprint);
}

const usable = (c: StoredCertificate, now: number): boolean => !c.revoked && c.notBefore <= now && now < c.notAfter;

// ---- the hook in `pki issue --p12` ----------------------------------------

/**
 * Escrows a key that `pki issue --p12` just made, before it is forgotten.
 * Returns false (with a warning) when escrow is not set up; refuses when an
 * officer's certificate is no longer usable, so no key goes unescrowed silently.
 */
export async function depositEscrow(configPath: string, s: Store, issued: { certificate: Uint8Array; privateKey: KeyObject }, address: string, actor: string): Promise<boolean> {
  const paths = escrowPaths(configPath);
  if (!(await exists(paths.setup))) {
    console.error('warning: key escrow is not set up (postern pki escrow setup): this key is not escrowed and cannot be recovered');
    return false;
  }
  const { value: setup } = await readJson(paths.setup, setupSchema, 'escrow setup');
  const now = Date.now();
  const officers = [];
  for (const o of setup.officers) {
    const c = await certificateOf(s, o.address, o.certFingerprint);
    if (!c || !usable(c, now)) throw new UsageError(`key escrow: the certificate of officer ${o.address} is missing, revoked or expired; run postern pki escrow setup again (nothing was issued)`);
    officers.push({ address: o.address, certificateDer: c.der });
  }
  const x = new X509Certificate(issued.certificate);
  const serial = x.serialNumber.toUpperCase();
  const fingerprint = sha256hex(issued.certificate);
  const pkcs8 = issued.privateKey.export({ type: 'pkcs8', format: 'der' });
  let record: EscrowRecord;
  try {
    record = await escrowKey(pkcs8, fingerprint, officers, setup.threshold);
  } catch (e) {
    throw new UsageError(`key escrow: ${(e as Error).message} (nothing was issued)`);
  } finally {
    pkcs8.fill(0);
  }
  await fsp.mkdir(paths.records, { recursive: true, mode: 0o700 });
  await writeNew(join(paths.records, `${serial}.json`), `${JSON.stringify({ v: 1, serial, address, createdAt: now, record })}\n`, 0o600);
  await audited(s, 'pki.escrow.deposit', address, { serial, fingerprint, officers: setup.officers.map((o) => o.address), threshold: setup.threshold }, actor);
  return true;
}

// ---- commands ------------------------------------------------------------

function intArg(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${name} takes a whole number from ${min} to ${max}`);
  return n;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerPkiEscrowCommands(pki: Command): void {
  const escrow = pki.command('escrow').description('key escrow for keys made by pki issue --p12: M of N key-recovery officers can recover one');

  escrow
    .command('setup')
    .description('name the key-recovery officers and how many must approve (applies to keys escrowed from now on)')
    .requiredOption('--as <address>', 'the pkiofficer who acts; stdin: its password')
    .requiredOption('--threshold <M>', `approvals needed (2 to the number of officers)`)
    .option('--officer <address>', `a key-recovery officer (a pkiofficer with a valid certificate); give 2 to ${MAX_OFFICERS}`, collect, [])
    .action(async (o: { as: string; threshold: string; officer: string[] }, cmd: Command) => {
      const [password] = await readSecrets([`password for ${o.as}: `]);
      const paths = escrowPaths(cfg(cmd));
      await withStore(cfg(cmd), (s) =>
        attempt(s, 'pki.escrow.setup', 'escrow', o.as, async (a) => {
          const actor = await authenticate(s, o.as, password!);
          a.actor = actor.address;
          requireOfficer(actor, 'set up key escrow');
          const officers = o.officer.map((v) => normalizeAddress(v) ?? (() => { throw new UsageError(`--officer: not a valid address: ${JSON.stringify(v)}`); })());
          a.data = { officers, threshold: o.threshold };
          if (officers.length < 2 || officers.length > MAX_OFFICERS) throw new UsageError(`give 2 to ${MAX_OFFICERS} --officer addresses (got ${officers.length})`);
          if (new Set(officers).size !== officers.length) throw new UsageError('each --officer may be given once');
          const threshold = intArg(o.threshold, '--threshold', 2, officers.length);
          a.data.threshold = threshold;
          const now = Date.now();
          const chosen = [];
          for (const addr of officers) {
            const acct = await s.meta.directory.getAccount(addr);
            if (!acct || acct.disabled) throw new UsageError(`${addr}: no enabled account`);
            if (!acct.roles.includes('pkiofficer')) throw new UsageError(`${addr} cannot hold a share: it needs the pkiofficer role`);
            const cert = (await s.meta.certificates.valid(addr, now))[0];
            if (!cert) throw new UsageError(`${addr} has no valid certificate (not revoked, not expired): issue one with postern pki issue --csr`);
            try {
              encryptData(new Uint8Array(1), { recipients: [{ certificate: cert.der }] });
            } catch (e) {
              throw new UsageError(`${addr}: a share cannot be encrypted to its certificate: ${(e as Error).message}`);
            }
            chosen.push({ address: addr, certFingerprint: cert.fingerprint });
          }
          await fsp.mkdir(paths.pki.dir, { recursive: true, mode: 0o755 });
          await writeAtomic(paths.setup, `${JSON.stringify({ v: 1, threshold, officers: chosen, setAt: now, setBy: actor.address }, null, 2)}\n`);
          a.data.fingerprints = chosen.map((c) => c.certFingerprint);
          console.log(`key escrow: ${threshold} of ${chosen.length} officers (${officers.join(', ')}) for keys escrowed from now on: ${paths.setup}`);
        }),
      );
    });

  const recover = pki.command('recover').description("recover an escrowed key for its owner once M officers approved: request, approve, collect, list");

  recover
    .command('request')
    .description("ask for your escrowed key back; prints the request id for the officers")
    .requiredOption('--as <address>', "the key's owner; stdin: its password, then a NEW passphrase for the recovered PKCS#12")
    .option('--serial <hex>', 'the certificate whose key to recover (default: your newest escrowed one)')
    .option('--hours <n>', 'how long officers may approve and you may collect (at most 168)', '48')
    .action(async (o: { as: string; serial?: string; hours: string }, cmd: Command) => {
      const [password, passphrase] = await readSecrets([`password for ${o.as}: `, 'new PKCS#12 passphrase: ']);
      const paths = escrowPaths(cfg(cmd));
      const id = await withStore(cfg(cmd), (s) =>
        attempt(s, 'pki.recover.request', o.as.toLowerCase(), o.as, async (a) => {
          const actor = await authenticate(s, o.as, password!);
          a.actor = actor.address;
          a.subject = actor.address;
          const hours = intArg(o.hours, '--hours', 1, 168);
          const weak = checkPasswordStrength(passphrase ?? '');
          if (weak) throw new UsageError(`PKCS#12 passphrase: ${weak.replace(/^password /, '')}`);
          let found;
          if (o.serial !== undefined) {
            const want = normSerial(o.serial);
            if (!SERIAL.test(want)) throw new UsageError('--serial takes the certificate serial in hex');
            const names = (await fsp.readdir(paths.records).catch(() => [] as string[])).filter((n) => normSerial(n.replace(/\.json$/, '')) === want);
            if (names.length === 0) throw new UsageError(`no escrowed key for serial ${o.serial}`);
            found = await loadRecord(paths, names[0]!.replace(/\.json$/, ''));
          } else {
            found = (await recordsOf(paths, actor.address))[0];
            if (!found) throw new UsageError(`${actor.address} has no escrowed key`);
          }
          a.data = { serial: found.serial, owner: found.address };
          if (found.address !== actor.address) throw new UsageError(`only the certificate's owner may request its key: ${found.serial} is not ${actor.address}'s`);
          if (!(await certificateOf(s, found.address, found.record.certFingerprint))) throw new UsageError(`the certificate ${found.serial} is not in the store`);
          const now = Date.now();
          const key = newRequestKey();
          const id = randomBytes(12).toString('hex');
          const req: Request = {
            v: 1,
            id,
            address: actor.address,
            serial: found.serial,
            certFingerprint: found.record.certFingerprint,
            createdAt: now,
            expiresAt: now + hours * HOUR,
            publicKey: exportRequestPublicKey(key.publicKey),
            key: protectKey(key.privateKey, passphrase!),
          };
          await fsp.mkdir(paths.recovery, { recursive: true, mode: 0o700 });
          await fsp.mkdir(requestDir(paths, id), { mode: 0o700 });
          await writeNew(join(requestDir(paths, id), 'request.json'), `${JSON.stringify(req, null, 2)}\n`, 0o600);
          a.subject = id;
          a.data = { ...a.data, expiresAt: req.expiresAt, threshold: found.record.threshold, officers: found.record.shares.map((x) => x.address) };
          console.error(`recovery of ${found.serial} requested; ${found.record.threshold} of ${found.record.shares.length} officers (${found.record.shares.map((x) => x.address).join(', ')}) must approve by ${new Date(req.expiresAt).toISOString()}`);
          return id;
        }),
      );
      console.log(id);
    });

  recover
    .command('approve <id>')
    .description("approve a recovery request with your share (key-recovery officers)")
    .requiredOption('--as <address>', "the officer; stdin: its password, then the key file's passphrase (an empty line if unencrypted)")
    .requiredOption('--key <file>', "the officer's private key (PEM) for its escrow certificate")
    .action(async (id: string, o: { as: string; key: string }, cmd: Command) => {
      const [password, keyPass] = await readSecrets([`password for ${o.as}: `, 'key passphrase (empty if none): ']);
      const paths = escrowPaths(cfg(cmd));
      await withStore(cfg(cmd), (s) =>
        attempt(s, 'pki.recover.approve', id, o.as, async (a) => {
          const actor = await authenticate(s, o.as, password!);
          a.actor = actor.address;
          requireOfficer(actor, 'approve a key recovery');
          const { req, digest } = await loadRequest(paths, id);
          a.data = { serial: req.serial, requester: req.address };
          const state = await requestState(paths, req, Date.now());
          if (state !== 'pending') throw new UsageError(`recovery request ${id} is ${state}${state === 'expired' ? ` (its window closed ${new Date(req.expiresAt).toISOString()})` : ''}`);
          if (actor.address === req.address) throw new UsageError('the requester may not approve their own recovery');
          const { record, address: owner } = await loadRecord(paths, req.serial);
          if (record.certFingerprint !== req.certFingerprint || owner !== req.address) throw new UsageError(`recovery request ${id} does not match the escrow record of ${req.serial}`);
          const entry = record.shares.find((x) => x.address === actor.address);
          if (!entry) throw new UsageError(`${actor.address} holds no share of this key (its officers: ${record.shares.map((x) => x.address).join(', ')})`);
          const file = approvalFile(paths, id, actor.address);
          if (await exists(file)) throw new UsageError(`${actor.address} already approved request ${id}; an officer counts once`);
          const key = await readOfficerKey(o.key, keyPass ?? '');
          const share = escrowErrors(() => openShare(Buffer.from(entry.envelope, 'base64'), Buffer.from(entry.certificate, 'base64'), key, record.certFingerprint));
          const sealed = escrowErrors(() => sealShare(share, importRequestPublicKey(req.publicKey), sealContext(id, actor.address, digest)));
          share.fill(0);
          const at = Date.now();
          if (at > req.expiresAt) throw new UsageError(`recovery request ${id} expired while approving`);
          if (!(await createExclusive(file, `${JSON.stringify({ v: 1, requestId: id, officer: actor.address, at, requestDigest: digest, sealed })}\n`))) {
            throw new UsageError(`${actor.address} already approved request ${id}; an officer counts once`);
          }
          const k = (await countedApprovals(paths, req, digest, record)).length;
          a.data.approvals = k;
          console.log(`approved request ${id}: ${k} of ${record.threshold} approvals`);
        }),
      );
    });

  recover
    .command('collect <id>')
    .description('write your recovered key as a PKCS#12 once enough officers approved (once only)')
    .requiredOption('--as <address>', 'the requester; stdin: its password, then the passphrase given with the request')
    .requiredOption('--p12 <file>', 'where to write the PKCS#12 (must not exist)')
    .action(async (id: string, o: { as: string; p12: string }, cmd: Command) => {
      const [password, passphrase] = await readSecrets([`password for ${o.as}: `, 'PKCS#12 passphrase (given with the request): ']);
      const paths = escrowPaths(cfg(cmd));
      await withStore(cfg(cmd), (s) =>
        attempt(s, 'pki.recover.collect', id, o.as, async (a) => {
          const actor = await authenticate(s, o.as, password!);
          a.actor = actor.address;
          const { req, digest } = await loadRequest(paths, id);
          a.data = { serial: req.serial, requester: req.address };
          if (actor.address !== req.address) throw new UsageError(`only the requester (${req.address}) may collect request ${id}`);
          const state = await requestState(paths, req, Date.now());
          if (state === 'collected') throw new UsageError(`request ${id} was already collected; a recovery is collected once`);
          if (state === 'expired') throw new UsageError(`request ${id} expired ${new Date(req.expiresAt).toISOString()}; nothing recovered`);
          if (await exists(o.p12)) throw new UsageError(`${o.p12} exists; it is not overwritten`);
          const { record, address: owner } = await loadRecord(paths, req.serial);
          if (record.certFingerprint !== req.certFingerprint || owner !== req.address) throw new UsageError(`recovery request ${id} does not match the escrow record of ${req.serial}`);
          const approvals = await countedApprovals(paths, req, digest, record);
          a.data.approvals = approvals.map((x) => x.officer);
          a.data.threshold = record.threshold;
          if (approvals.length < record.threshold) throw new UsageError(`${approvals.length} of ${record.threshold} approvals; nothing recovered`);
          const requestKey = escrowErrors(() => openProtectedKey(req.key, passphrase ?? ''));
          const shares: Uint8Array[] = [];
          for (const ap of approvals) {
            try {
              shares.push(unsealShare(ap.sealed, requestKey, sealContext(id, ap.officer, digest)));
            } catch (e) {
              console.error(`warning: the approval of ${ap.officer} does not open: ${(e as Error).message}; not counted`);
            }
          }
          if (shares.length < record.threshold) throw new UsageError(`${shares.length} of ${record.threshold} approvals; nothing recovered`);
          const pkcs8 = await recoverKey(record, shares);
          for (const sh of shares) sh.fill(0);
          const cert = await certificateOf(s, req.address, req.certFingerprint);
          if (!cert) throw new UsageError(`the certificate ${req.serial} is not in the store; nothing recovered`);
          let key: KeyObject;
          try {
            key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
          } finally {
            pkcs8.fill(0);
          }
          const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
          if (!spki(createPublicKey(key)).equals(spki(new X509Certificate(cert.der).publicKey))) throw new UsageError('the recovered key does not match the certificate; nothing written');
          const caPem = await fsp.readFile(paths.pki.cert, 'latin1').catch(() => {
            throw new UsageError(`${paths.pki.cert}: no CA certificate`);
          });
          // The marker is taken before the file is written: two collects at once give one PKCS#12.
          if (!(await createExclusive(collectedFile(paths, id), `${JSON.stringify({ at: Date.now(), by: actor.address })}\n`))) {
            throw new UsageError(`request ${id} was already collected; a recovery is collected once`);
          }
          const p12 = toPkcs12({ certificate: cert.der, privateKey: key, chain: [caPem], password: passphrase!, friendlyName: req.address });
          await writeNew(o.p12, p12, 0o600);
          console.error(`recovered the key of ${req.serial} with ${approvals.map((x) => x.officer).join(', ')}: ${o.p12}`);
        }),
      );
    });

  recover
    .command('list')
    .description('recovery requests: state (pending, expired, collected) and approvals; no secrets')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const paths = escrowPaths(cfg(cmd));
      const now = Date.now();
      const ids = (await fsp.readdir(paths.recovery).catch(() => [] as string[])).filter((n) => ID.test(n)).slice(0, 10_000);
      const rows = [];
      for (const id of ids) {
        try {
          const { req, digest } = await loadRequest(paths, id);
          const { record } = await loadRecord(paths, req.serial);
          const approvals = (await countedApprovals(paths, req, digest, record)).map((x) => x.officer);
          rows.push({ id, address: req.address, serial: req.serial, state: await requestState(paths, req, now), approvals: approvals.length, threshold: record.threshold, approvedBy: approvals, createdAt: new Date(req.createdAt).toISOString(), expiresAt: new Date(req.expiresAt).toISOString() });
        } catch (e) {
          console.error(`warning: request ${id}: ${(e as Error).message}`);
        }
      }
      rows.sort((x, y) => x.createdAt.localeCompare(y.createdAt));
      if (o.json) return void console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return void console.log('no recovery requests');
      for (const r of rows) console.log(`${r.id}  ${r.address}  ${r.serial}  ${r.state}  ${r.approvals}/${r.threshold}  until ${r.expiresAt}`);
    });
}

async function readOfficerKey(file: string, passphrase: string): Promise<KeyObject> {
  const st = await fsp.stat(file).catch(() => null);
  if (!st?.isFile() || st.size > 64 * 1024) throw new UsageError(`${file} is not a key file`);
  const pem = await fsp.readFile(file);
  try {
    return createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) });
  } catch {
    throw new UsageError(`${file}: not a private key, or a wrong passphrase`);
  }
}
