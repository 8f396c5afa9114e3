/** The certificates role on SQLite: users' public S/MIME certificates (see CertificateRepo). */
import type { CertificateRepo, CertificateSource, StoredCertificate } from '../../types.js';
import type { Db } from './db.js';
import { normaliseCertificate, toStoredCertificate, type CertificateRow } from '../cert-rows.js';
import { prepared } from './statements.js';

export class SqliteCertificates implements CertificateRepo {
  constructor(private readonly db: Db) {}

  async put(c: { address: string; der: Uint8Array; fingerprint: string; source: CertificateSource; notBefore: number; notAfter: number }, now: number): Promise<StoredCertificate> {
    const { address, fingerprint } = normaliseCertificate(c);
    // A certificate seen again keeps its row (and its revoked mark): only where it came from and when change;
    // seeing it in a signature again never demotes one an administrator imported or the CA issued.
    const row = prepared(this.db,
        `INSERT INTO certificates (address, der, fingerprint, source, not_before, not_after, added_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, 0)
         ON CONFLICT (address, fingerprint) DO UPDATE SET source = CASE WHEN excluded.source = 'learned' THEN certificates.source ELSE excluded.source END, added_at = excluded.added_at
         RETURNING *`,
      )
      .get(address, Buffer.from(c.der), fingerprint, c.source, c.notBefore, c.notAfter, now) as CertificateRow;
    return toStoredCertificate(row);
  }

  async valid(address: string, at: number): Promise<StoredCertificate[]> {
    const rows = prepared(this.db, 'SELECT * FROM certificates WHERE address = ? AND revoked = 0 AND not_before <= ? AND not_after > ? ORDER BY not_before DESC, id DESC')
      .all(address.trim().toLowerCase(), at, at) as CertificateRow[];
    return rows.map(toStoredCertificate);
  }

  async list(address?: string): Promise<StoredCertificate[]> {
    const rows = (
      address === undefined
        ? prepared(this.db, 'SELECT * FROM certificates ORDER BY address, not_before DESC, id DESC').all()
        : prepared(this.db, 'SELECT * FROM certificates WHERE address = ? ORDER BY not_before DESC, id DESC').all(address.trim().toLowerCase())
    ) as CertificateRow[];
    return rows.map(toStoredCertificate);
  }

  async remove(fingerprint: string): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM certificates WHERE fingerprint = ?').run(fingerprint.toLowerCase()).changes > 0;
  }

  async setRevoked(fingerprint: string, revoked: boolean): Promise<boolean> {
    return prepared(this.db, 'UPDATE certificates SET revoked = ? WHERE fingerprint = ?').run(revoked ? 1 : 0, fingerprint.toLowerCase()).changes > 0;
  }
}
