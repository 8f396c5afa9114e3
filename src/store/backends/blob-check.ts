import { verifyBlob, type DecodeResult } from '../../crypto/blockcodec.js';
import { PosternError } from '../../core/errors.js';
import type { IntegrityEvent } from '../types.js';

/**
 * What every blob backend does with a decoded container: a result is sound
 * only if it decoded and its digest is the blob's id; single-bit repairs are
 * written back and reported, anything worse is reported as uncorrectable and
 * the bytes are withheld.
 */
export async function settleBlob(
  id: string,
  r: DecodeResult,
  writeBack: (container: Uint8Array) => Promise<void>,
  report: (e: IntegrityEvent) => void,
): Promise<DecodeResult> {
  const sound = r.ok && r.sha256 === id;
  if (sound && r.corrections.length > 0 && r.repaired) {
    await writeBack(r.repaired);
    for (const c of r.corrections) report({ kind: 'corrected', blobId: id, block: c.block, bit: c.bit, area: c.area });
  }
  if (!sound) {
    const why = r.damage.map((d) => `block ${d.block}: ${d.reason}`).join('; ') || 'digest does not match the blob id';
    report({ kind: 'uncorrectable', blobId: id, detail: why });
  }
  return sound ? r : { ...r, ok: false, data: null, repaired: null };
}

/** A blob id: the SHA-256 of its bytes, 64 lower-case hex digits (so it can name a file or key a row safely). */
export const BLOB_ID_RE = /^[0-9a-f]{64}$/;

/** Throws NOT_FOUND for anything that is not a blob id. */
export function checkBlobId(id: string): void {
  if (!BLOB_ID_RE.test(id)) throw new PosternError('NOT_FOUND', `malformed blob id ${JSON.stringify(id)}`);
}

/** A container to store as blob `id` (a restore): it must verify, carry that digest and need no repair; INTEGRITY otherwise. */
export function checkContainerOf(id: string, container: Uint8Array): void {
  const r = verifyBlob(container);
  if (!r.ok || r.sha256 !== id || r.corrections.length > 0) {
    throw new PosternError('INTEGRITY', `container for blob ${id} does not verify`);
  }
}
