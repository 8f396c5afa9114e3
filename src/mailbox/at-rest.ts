/**
 * Encryption at rest ([encryption_at_rest]): what local delivery stores for a
 * recipient whose account the policy covers. With valid certificates of the
 * owner the whole message, as delivered, is encrypted to all of them and only
 * the configured outer header fields stay in clear beside it; the server keeps
 * no key that opens it. Already-encrypted mail is stored as sent. A failure to
 * encrypt throws AtRestDeferred (the caller defers the recipient): a covered
 * message whose owner has a certificate is never stored in clear.
 *
 * The costly part (CMS encryption, base64) runs through `encrypt`, which the
 * composition root binds to the worker pool task 'smime.encrypt' with a time
 * budget; only the header section is read here on the main thread.
 */
import { alreadyEncrypted, outerHeader, sealedMessage } from '../crypto/smime/message.js';
import type { BlobStore, CertificateRepo, DirectoryRepo } from '../store/types.js';
import { domainOf } from '../core/address.js';

/** The newest this many valid certificates of an owner are used (one recipient info each). */
export const MAX_CERTIFICATES = 16;

export type AtRestCipher = 'aes-256-gcm' | 'aes-256-cbc';
export type AtRestResult = 'encrypted' | 'already' | 'no_certificate' | 'failed';

export interface AtRestSettings {
  /** Lower-case addresses, group names and domains covered. */
  readonly accounts: readonly string[];
  readonly groups: readonly string[];
  readonly domains: readonly string[];
  readonly outerFields: readonly string[];
  readonly cipher: AtRestCipher;
  readonly missingCertificate: 'deliver' | 'defer';
  readonly budgetMs: number;
}

export interface AtRestDeps {
  readonly certificates: Pick<CertificateRepo, 'valid'>;
  readonly blobs: Pick<BlobStore, 'get' | 'put'>;
  readonly directory: Pick<DirectoryRepo, 'groupsOf'>;
  /** The enveloped entity (application/pkcs7-mime header + base64 body) of `raw` for these certificates (DER). */
  readonly encrypt: (raw: Uint8Array, certs: Uint8Array[], cipher: AtRestCipher, budgetMs: number) => Promise<Uint8Array>;
}

/** What to append: the queue's blob, or another one written for this recipient. */
export type AtRestChoice = { readonly blobId: string; readonly size: number; readonly result: AtRestResult | null };

/** The recipient is to be deferred (missing_certificate = "defer", or encryption failed). */
export class AtRestDeferred extends Error {
  override name = 'AtRestDeferred';
  constructor(
    readonly result: 'no_certificate' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

/** The policy decision: an account listed, a member of a group listed, or an account of a domain listed. */
export function covers(s: Pick<AtRestSettings, 'accounts' | 'groups' | 'domains'>, address: string, groups: readonly string[]): boolean {
  const a = address.toLowerCase();
  if (s.accounts.includes(a) || s.domains.includes(domainOf(a))) return true;
  return groups.some((g) => s.groups.includes(g));
}

// Shared with outbound encryption (policy/dlp): one place reads the header of a message to seal.
export { alreadyEncrypted, outerHeader };

export class AtRest {
  constructor(
    private readonly settings: AtRestSettings,
    private readonly deps: AtRestDeps,
  ) {}

  get cipher(): AtRestCipher {
    return this.settings.cipher;
  }

  /** Whether the account is covered (one directory read when groups are configured). */
  async covered(address: string): Promise<boolean> {
    if (covers(this.settings, address, [])) return true;
    if (this.settings.groups.length === 0) return false;
    return covers(this.settings, address, await this.deps.directory.groupsOf(address.toLowerCase()));
  }

  /**
   * What to append for this recipient. Throws AtRestDeferred (defer the
   * recipient) when the policy says to wait for a certificate or encryption
   * failed; other errors (the store) propagate and also defer.
   */
  async prepare(address: string, queued: { blobId: string; size: number }, now: number): Promise<AtRestChoice> {
    if (!(await this.covered(address))) return { ...queued, result: null };
    // A learned certificate is vouched for only by a CA and a From field: mail at rest goes to the ones an
    // administrator imported (or the CA issued); importing a learned one makes it count.
    const certs = (await this.deps.certificates.valid(address, now)).filter((c) => c.source !== 'learned').slice(0, MAX_CERTIFICATES);
    const raw = await this.deps.blobs.get(queued.blobId);
    if (alreadyEncrypted(raw)) return { ...queued, result: 'already' };
    if (certs.length === 0) {
      if (this.settings.missingCertificate === 'defer') throw new AtRestDeferred('no_certificate', 'encryption at rest: no valid certificate for the recipient yet');
      return { ...queued, result: 'no_certificate' };
    }
    let sealed: Uint8Array;
    try {
      const entity = await this.deps.encrypt(raw, certs.map((c) => c.der), this.settings.cipher, this.settings.budgetMs);
      sealed = sealedMessage(raw, entity, this.settings.outerFields);
    } catch (e) {
      throw new AtRestDeferred('failed', `encryption at rest failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const ref = await this.deps.blobs.put(sealed);
    return { blobId: ref.id, size: ref.size, result: 'encrypted' };
  }
}

/** The settings of a parsed [encryption_at_rest] section (config keys in snake_case). */
export function atRestSettings(c: {
  accounts: readonly string[];
  groups: readonly string[];
  domains: readonly string[];
  outer_fields: readonly string[];
  cipher: AtRestCipher;
  missing_certificate: 'deliver' | 'defer';
  budget_ms: number;
}): AtRestSettings {
  return {
    accounts: c.accounts.map((a) => a.toLowerCase()),
    groups: [...c.groups],
    domains: c.domains.map((d) => d.toLowerCase()),
    outerFields: [...c.outer_fields],
    cipher: c.cipher,
    missingCertificate: c.missing_certificate,
    budgetMs: c.budget_ms,
  };
}
