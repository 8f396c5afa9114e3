/** The second-factor role on SQLite: security keys, TOTP secrets, enrollment codes (see FactorRepo). */
import type { FactorRepo, WebAuthnCredential } from '../../types.js';
import type { Db } from './db.js';
import {
  checkCodeHash, checkCounter, checkCredential, checkSecret, checkStep, normaliseAddress, toCredential, toTotp, type CredentialRow, type TotpRow,
} from '../factor-rows.js';
import { prepared } from './statements.js';

export class SqliteFactors implements FactorRepo {
  constructor(private readonly db: Db) {}

  async addCredential(c: { id: string; address: string; publicKey: Uint8Array; counter: number; transports: readonly string[] }, now: number): Promise<WebAuthnCredential> {
    const address = normaliseAddress(c.address);
    const transports = checkCredential(c);
    const row = prepared(this.db, 'INSERT INTO webauthn_credentials (id, address, public_key, counter, transports, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING *')
      .get(c.id, address, Buffer.from(c.publicKey), c.counter, transports, now) as CredentialRow | undefined;
    if (!row) throw new RangeError('this credential is registered already');
    return toCredential(row);
  }

  async getCredential(id: string): Promise<WebAuthnCredential | null> {
    const row = prepared(this.db, 'SELECT * FROM webauthn_credentials WHERE id = ?').get(id) as CredentialRow | undefined;
    return row ? toCredential(row) : null;
  }

  async listCredentials(address: string): Promise<WebAuthnCredential[]> {
    const rows = prepared(this.db, 'SELECT * FROM webauthn_credentials WHERE address = ? ORDER BY created_at, id').all(normaliseAddress(address)) as CredentialRow[];
    return rows.map(toCredential);
  }

  async useCredential(id: string, counter: number, now: number): Promise<boolean> {
    checkCounter(counter);
    const r = prepared(this.db, 'UPDATE webauthn_credentials SET counter = ?, last_used_at = ? WHERE id = ? AND (counter < ? OR (counter = 0 AND ? = 0))')
      .run(counter, now, id, counter, counter);
    return r.changes > 0;
  }

  async removeCredential(id: string): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM webauthn_credentials WHERE id = ?').run(id).changes > 0;
  }

  async setTotp(address: string, secret: Uint8Array, now: number): Promise<void> {
    checkSecret(secret);
    prepared(this.db, 'INSERT INTO totp_secrets (address, secret, last_step, created_at) VALUES (?, ?, NULL, ?) ON CONFLICT (address) DO UPDATE SET secret = excluded.secret, last_step = NULL, created_at = excluded.created_at')
      .run(normaliseAddress(address), Buffer.from(secret), now);
  }

  async getTotp(address: string): Promise<{ secret: Uint8Array; lastStep: number | null; createdAt: number } | null> {
    const row = prepared(this.db, 'SELECT secret, last_step, created_at FROM totp_secrets WHERE address = ?').get(normaliseAddress(address)) as TotpRow | undefined;
    return row ? toTotp(row) : null;
  }

  async useTotpStep(address: string, step: number): Promise<boolean> {
    checkStep(step);
    const r = prepared(this.db, 'UPDATE totp_secrets SET last_step = ? WHERE address = ? AND (last_step IS NULL OR last_step < ?)')
      .run(step, normaliseAddress(address), step);
    return r.changes > 0;
  }

  async removeTotp(address: string): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM totp_secrets WHERE address = ?').run(normaliseAddress(address)).changes > 0;
  }

  async addEnrollmentCode(address: string, codeSha256: string, expiresAt: number, now: number): Promise<void> {
    const a = normaliseAddress(address);
    const h = checkCodeHash(codeSha256);
    this.db.transaction(() => {
      prepared(this.db, 'UPDATE enrollment_codes SET used = 1 WHERE address = ? AND used = 0').run(a);
      prepared(this.db, 'INSERT INTO enrollment_codes (code_sha256, address, expires_at, created_at, used) VALUES (?, ?, ?, ?, 0)').run(h, a, expiresAt, now);
    })();
  }

  async consumeEnrollmentCode(address: string, codeSha256: string, now: number): Promise<boolean> {
    let h: string;
    try {
      h = checkCodeHash(codeSha256);
    } catch {
      return false;
    }
    const r = prepared(this.db, 'UPDATE enrollment_codes SET used = 1 WHERE code_sha256 = ? AND address = ? AND used = 0 AND expires_at > ?')
      .run(h, normaliseAddress(address), now);
    return r.changes > 0;
  }

  async hasFactor(address: string): Promise<boolean> {
    const a = normaliseAddress(address);
    const row = prepared(this.db, 'SELECT EXISTS (SELECT 1 FROM webauthn_credentials WHERE address = ?) OR EXISTS (SELECT 1 FROM totp_secrets WHERE address = ?) AS x')
      .get(a, a) as { x: number };
    return row.x === 1;
  }
}
