/**
 * What the attachment policy needs to know about a message, found in a pool
 * worker: each file (MIME attachment or archive entry) with its name, its
 * declared type and its true type by magic bytes (file-type, plus disk
 * images and executables checked here), and the archive findings. Bounded:
 * at most MAX_FILES files are described.
 */
import { fileTypeFromBuffer } from 'file-type';
import { extractParts, limitsFrom, type Finding } from './parts.js';
import { diskImageKind, executableKind } from './static/magic.js';

export interface AttachmentFact {
  readonly path: string;
  readonly filename: string | null;
  readonly declaredType: string | null;
  /** The true type's short name ("exe", "pdf", "docm", "iso"...), null when unknown. */
  readonly trueType: string | null;
  readonly size: number;
  readonly encrypted: boolean;
}

export interface AttachmentFacts {
  readonly files: AttachmentFact[];
  readonly findings: Finding[];
}

const MAX_FILES = 2000;
const NATIVE = new Set(['exe', 'elf', 'macho']);

export async function trueTypeOf(bytes: Uint8Array): Promise<string | null> {
  const exe = executableKind(bytes);
  if (exe) return exe === 'pe' ? 'exe' : exe;
  const disk = diskImageKind(bytes);
  if (disk) return disk;
  try {
    const ext = (await fileTypeFromBuffer(bytes))?.ext ?? null;
    // file-type calls anything starting "MZ" an exe; executables are judged above, by their full header.
    return ext !== null && NATIVE.has(ext) ? null : ext;
  } catch {
    return null; // a malformed container: its name is still checked
  }
}

export async function attachmentFacts(raw: Uint8Array, limits: unknown): Promise<AttachmentFacts> {
  const x = extractParts(raw, limitsFrom(limits));
  const files: AttachmentFact[] = [];
  for (const p of x.parts) {
    if (files.length >= MAX_FILES) break;
    // Message bodies are text, not files; one with a file's magic is described all the same.
    const trueType = p.encrypted ? null : await trueTypeOf(p.bytes);
    if (!p.attachment && p.archiveDepth === 0 && trueType === null) continue;
    files.push({ path: p.path, filename: p.filename, declaredType: p.declaredType, trueType, size: p.bytes.length, encrypted: p.encrypted });
  }
  return { files, findings: x.findings };
}
