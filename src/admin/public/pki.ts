/**
 * The organisation CA's certificate and CRL as published files: pki/ca.pem
 * and pki/crl.pem beside the configuration, served as PEM and as DER. A file
 * is read again only when its mtime, size or inode changed, is capped in
 * size, and must hold what its name says; absent means 404.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export type PkiKind = 'cert' | 'crl';

export const PKI_MAX_BYTES: Readonly<Record<PkiKind, number>> = { cert: 64 * 1024, crl: 8 * 1024 * 1024 };

const LABEL: Readonly<Record<PkiKind, string>> = { cert: 'CERTIFICATE', crl: 'X509 CRL' };

export interface PkiDocument {
  readonly pem: string;
  readonly der: Buffer;
}

/** The first PEM block of the given label, as PEM text and DER bytes; null when there is none. */
export function firstPemBlock(text: string, label: string): PkiDocument | null {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const a = text.indexOf(begin);
  const b = a < 0 ? -1 : text.indexOf(end, a + begin.length);
  if (a < 0 || b < 0) return null;
  const body = text.slice(a + begin.length, b);
  if (!/^[A-Za-z0-9+/=\s]+$/.test(body)) return null;
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  // A DER SEQUENCE (0x30) at least; the CA certificate is parsed in full below.
  if (der.length < 16 || der[0] !== 0x30) return null;
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return { pem: `${begin}\n${lines.join('\n')}\n${end}\n`, der };
}

export class PkiFile {
  private cached: { key: string; doc: PkiDocument | null } | null = null;

  constructor(
    readonly file: string,
    readonly kind: PkiKind,
    private readonly onProblem: (file: string, problem: string) => void,
  ) {}

  /** The document, or null when the file is absent, too large or not what its name says (the last two are reported). */
  async read(): Promise<PkiDocument | null> {
    let st: import('node:fs').Stats;
    try {
      st = await fsp.stat(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.onProblem(this.file, (e as NodeJS.ErrnoException).code ?? String(e));
      this.cached = null;
      return null;
    }
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.cached?.key === key) return this.cached.doc;
    const doc = await this.load(st.size);
    this.cached = { key, doc };
    return doc;
  }

  private async load(size: number): Promise<PkiDocument | null> {
    const max = PKI_MAX_BYTES[this.kind];
    if (size > max) {
      this.onProblem(this.file, `${size} bytes, more than the ${max} published`);
      return null;
    }
    // Read at most max + 1 bytes: the file may have grown since stat.
    const fh = await fsp.open(this.file, 'r');
    let text: string;
    try {
      const buf = Buffer.alloc(max + 1);
      const { bytesRead } = await fh.read(buf, 0, max + 1, 0);
      if (bytesRead > max) {
        this.onProblem(this.file, `more than the ${max} bytes published`);
        return null;
      }
      text = buf.subarray(0, bytesRead).toString('latin1');
    } finally {
      await fh.close();
    }
    const doc = firstPemBlock(text, LABEL[this.kind]);
    if (!doc) {
      this.onProblem(this.file, `no PEM ${LABEL[this.kind]} in it`);
      return null;
    }
    if (this.kind === 'cert') {
      try {
        new X509Certificate(doc.der);
      } catch {
        this.onProblem(this.file, 'the certificate does not parse');
        return null;
      }
    }
    return doc;
  }
}

/** ca.pem and crl.pem in the given pki/ folder. */
export function pkiFiles(dir: string, onProblem: (file: string, problem: string) => void): Record<PkiKind, PkiFile> {
  return { cert: new PkiFile(path.join(dir, 'ca.pem'), 'cert', onProblem), crl: new PkiFile(path.join(dir, 'crl.pem'), 'crl', onProblem) };
}
