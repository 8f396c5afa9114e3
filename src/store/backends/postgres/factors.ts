/** The second-factor role on PostgreSQL: security keys, TOTP secrets, enrollment codes (see FactorRepo). */
import type { FactorRepo, WebAuthnCredential } from '../../types.js';
import { tx, type Pool } from './db.js';
import {
  checkCodeHash, checkCounter, checkCredential, checkSecret, checkStep, normaliseAddress, toCredential, toTotp, type CredentialRow, type TotpRow,
} from '../factor-rows.js';

const changed = (r: { rowCount: number | null }): boolean => (r.rowCount ?? 0) > 0;

export class PgFactors implements FactorRepo {
  constructor(private readonly pool: Pool) {}

  async addCredential(c: { id: string; address: string; publicKey: Uint8Array; counter: number; transports: readonly string[] }, now: number): Promise<WebAuthnCredential> {
    const address = normaliseAddress(c.address);
    const transports = checkCredential(c);
    const r = await this.pool.query<CredentialRow>(
      'INSERT INTO webauthn_credentials (id, address, public_key, counter, transports, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING *',
      [c.id, address, Buffer.from(c.publicKey), c.counter, transports, now],
    );
    if (!r.rows[0]) throw new RangeError('this credential is registered already');
    return toCredential(r.rows[0]);
  }

  async getCredential(id: string): Promise<WebAuthnCredential | null> {
    const r = await this.pool.query<CredentialRow>('SELECT * FROM webauthn_credentials WHERE id = $1', [id]);
    return r.rows[0] ? toCredential(r.rows[0]) : null;
  }

  async listCredentials(address: string): Promise<WebAuthnCredential[]> {
    const r = await this.pool.query<CredentialRow>('SELECT * FROM webauthn_credentials WHERE address = $1 ORDER BY created_at, id', [normaliseAddress(address)]);
    return r.rows.map(toCredential);
  }

  async useCredential(id: string, counter: number, now: number): Promise<boolean> {
    checkCounter(counter);
    return changed(
      await this.pool.query('UPDATE webauthn_credentials SET counter = $1, last_used_at = $2 WHERE id = $3 AND (counter < $1 OR (counter = 0 AND $1 = 0))', [counter, now, id]),
    );
  }

  async removeCredential(id: string): Promise<boolean> {
    return changed(await this.pool.query('DELETE FROM webauthn_credentials WHERE id = $1', [id]));
  }

  async setTotp(address: string, secret: Uint8Array, now: number): Promise<void> {
    checkSecret(secret);
    await this.pool.query(
      'INSERT INTO totp_secrets (address, secret, last_step, created_at) VALUES ($1, $2, NULL, $3) ON CONFLICT (address) DO UPDATE SET secret = excluded.secret, last_step = NULL, created_at = excluded.created_at',
      [normaliseAddress(address), Buffer.from(secret), now],
    );
  }

  async getTotp(address: string): Promise<{ secret: Uint8Array; lastStep: number | null; createdAt: number } | null> {
    const r = await this.pool.query<TotpRow>('SELECT secret, last_step, created_at FROM totp_secrets WHERE address = $1', [normaliseAddress(address)]);
    return r.rows[0] ? toTotp(r.rows[0]) : null;
  }

  async useTotpStep(address: string, step: number): Promise<boolean> {
    checkStep(step);
    return changed(await this.pool.query('UPDATE totp_secrets SET last_step = $1 WHERE address = $2 AND (last_step IS NULL OR last_step < $1)', [step, normaliseAddress(address)]));
  }

  async removeTotp(address: string): Promise<boolean> {
    return changed(await this.pool.query('DELETE FROM totp_secrets WHERE address = $1', [normaliseAddress(address)]));
  }

  async addEnrollmentCode(address: string, codeSha256: string, expiresAt: number, now: number): Promise<void> {
    const a = normaliseAddress(address);
    const h = checkCodeHash(codeSha256);
    await tx(this.pool, async (c) => {
      await c.query('UPDATE enrollment_codes SET used = true WHERE address = $1 AND NOT used', [a]);
      await c.query('INSERT INTO enrollment_codes (code_sha256, address, expires_at, created_at, used) VALUES ($1, $2, $3, $4, false)', [h, a, expiresAt, now]);
    });
  }

  async consumeEnrollmentCode(address: string, codeSha256: string, now: number): Promise<boolean> {
    let h: string;
    try {
      h = checkCodeHash(codeSha256);
    } catch {
      return false;
    }
    return changed(
      await this.pool.query('UPDATE enrollment_codes SET used = true WHERE code_sha256 = $1 AND address = $2 AND NOT used AND expires_at > $3', [h, normaliseAddress(address), now]),
    );
  }

  async hasFactor(address: string): Promise<boolean> {
    const a = normaliseAddress(address);
    const r = await this.pool.query<{ x: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM webauthn_credentials WHERE address = $1) OR EXISTS (SELECT 1 FROM totp_secrets WHERE address = $1) AS x',
      [a],
    );
    return r.rows[0]?.x === true;
  }
}
