/**
 * ZIP access for extraction through the malware stage's bounded reader
 * (av/zip.ts): the same ratio floor, and every inflated byte charged to the
 * message's one budget, so an archive that the malware walker refuses is
 * refused here too. Breaches become findings, never throws.
 */
import { readZipDirectory, readZipEntry, type ZipListing } from '../../av/zip.js';
import type { Collector } from './collector.js';

/** An entry this small may compress better than maxRatio (a page of zeros, a repetitive log): the av walker's floor. */
const RATIO_FLOOR = 1024 * 1024;

/** The entries of an archive (at most what the entry budget allows, plus one), or null with a finding. */
export function listZip(c: Collector, data: Uint8Array, source: string): ZipListing[] | null {
  const dir = readZipDirectory(data, Math.max(0, c.limits.maxEntries - c.entries));
  if (!dir.ok) {
    c.find('unreadable', source, dir.error);
    return null;
  }
  return dir.entries;
}

/** One entry's bytes charged to the budget, or null with a finding ('archive-limit' past a size limit). */
export function readEntry(c: Collector, data: Uint8Array, e: ZipListing, source: string): Uint8Array | null {
  const r = readZipEntry(data, e, { remaining: c.byteRoom, maxRatio: c.limits.maxRatio, ratioFloor: RATIO_FLOOR });
  if (!r.ok) {
    c.find(r.bomb ? 'archive-limit' : 'unreadable', source, r.error);
    return null;
  }
  c.bytes += r.data.length;
  return r.data;
}
