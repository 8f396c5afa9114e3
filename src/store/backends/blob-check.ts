import type { DecodeResult } from '../../crypto/blockcodec.js';
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
