/**
 * The trust anchors of [policy.smime], read once at start: the file must hold
 * at least one readable CA certificate, so a typo in the path or a broken
 * bundle stops start with a plain sentence instead of marking every signature
 * `untrusted` in silence.
 */
import { readFile } from 'node:fs/promises';
import { parseCertificates } from '../../crypto/smime/index.js';

export class TrustAnchorsError extends Error {
  override name = 'TrustAnchorsError';
}

const MAX_ANCHORS_BYTES = 4 * 1024 * 1024;

/** The PEM text of the anchors file ('' when none is configured); throws TrustAnchorsError when it is unusable. */
export async function readTrustAnchors(path: string | undefined): Promise<string> {
  if (path === undefined) return '';
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_ANCHORS_BYTES) throw new Error('larger than 4 MiB');
    text = buf.toString('latin1');
  } catch (e) {
    throw new TrustAnchorsError(`[policy.smime] trust_anchors ${path}: ${(e as Error).message}`);
  }
  try {
    parseCertificates(text);
  } catch (e) {
    throw new TrustAnchorsError(`[policy.smime] trust_anchors ${path}: not a PEM file of certificates (${(e as Error).message})`);
  }
  return text;
}
