/** The certificates role on PostgreSQL: users' public S/MIME certificates (see CertificateRepo). */
import type { CertificateRepo, CertificateSource, StoredCertificate } from '../../types.js';
import type { Pool } from './db.js';
import { normaliseCertificate, toStoredCertificate, type CertificateRow } from '../cert-rows.js';

export class PgCertificates implements CertificateRepo {
  constructor(private readonly pool: Pool) {}

  async put(c: { address: string; der: Uint8Array; fingerprint: string; source: CertificateSource; notBefore: number; notAfter: number }, now: number): Promise<StoredCertificate> {
    const { address, fingerprint } = normaliseCertificate(c);
    // A certificate seen again keeps its row (and its revoked mark): only where it came from and when change;
    // seeing it in a signature again never demotes one an administrator imported or the CA issued.
    const r = await this.pool.query<CertificateRow>(
      `INSERT INTO certificates (address, der, fingerprint, source, not_before, not_after, added_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, false)
       ON CONFLICT (address, fingerprint) DO UPDATE SET source = CASE WHEN excluded.source = 'learned' THEN certificates.source ELSE excluded.source END, added_at = excluded.added_at
       RETURNING *`,
      [address, Buffer.from(c.der), fingerprint, c.source, c.notBefore, c.notAfter, now],
    );
    return toStoredCertificate(r.rows[0]!);
  }

  async valid(address: string, at: number): Promise<StoredCertificate[]> {
    const r = await this.pool.query<CertificateRow>(
      'SELECT * FROM certificates WHERE address = $1 AND NOT revoked AND not_before <= $2 AND not_after > $2 ORDER BY not_before DESC, id DESC',
      [address.trim().toLowerCase(), at],
    );
    return r.rows.map(toStoredCertificate);
  }

  async list(address?: string): Promise<StoredCertificate[]> {
    const r =
      address === undefined
        ? await this.pool.query<CertificateRow>('SELECT * FROM certificates ORDER BY address, not_before DESC, id DESC')
        : await this.pool.query<CertificateRow>('SELECT * FROM certificates WHERE address = $1 ORDER BY not_before DESC, id DESC', [address.trim().toLowerCase()]);
    return r.rows.map(toStoredCertificate);
  }

  async remove(fingerprint: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM certificates WHERE fingerprint = $1', [fingerprint.toLowerCase()])).rowCount ?? 0) > 0;
  }

  async setRevoked(fingerprint: string, revoked: boolean): Promise<boolean> {
    return ((await this.pool.query('UPDATE certificates SET revoked = $1 WHERE fingerprint = $2', [revoked, fingerprint.toLowerCase()])).rowCount ?? 0) > 0;
  }
}
