/**
 * The static checks, over the extracted parts (in the worker): macro-enabled
 * Office documents, executables disguised by name or declared type, HTML
 * smuggling, and the archive findings that are detections in themselves.
 * Each check reads bounded input with bounded patterns.
 */
import type { Extracted, ExtractedPart } from '../parts.js';
import { executableKind, extensionsOf, oleHasMacros } from './magic.js';

export interface StaticDetection {
  readonly signature: string;
  readonly part: string;
}

/** Extensions a native executable may rightly carry. */
const EXECUTABLE_EXTENSIONS = new Set([
  'exe', 'dll', 'scr', 'com', 'sys', 'cpl', 'ocx', 'drv', 'efi', 'msi', 'mui', 'node', 'pif',
  'so', 'o', 'ko', 'bin', 'elf', 'out', 'run', 'axf', 'dylib', 'bundle', 'app',
]);
/** Declared types that do not claim to be something harmless. */
const EXECUTABLE_TYPES = new Set([
  'application/octet-stream', 'application/x-msdownload', 'application/x-msdos-program', 'application/x-dosexec',
  'application/x-executable', 'application/x-elf', 'application/x-sharedlib', 'application/x-mach-binary',
  'application/x-mach-o-executable', 'application/vnd.microsoft.portable-executable', 'application/x-ms-dos-executable',
  'application/exe', 'application/x-exe', 'application/x-winexe', 'application/binary', 'application/x-binary',
]);
export const MACRO_EXTENSIONS = new Set(['docm', 'dotm', 'xlsm', 'xltm', 'xlam', 'xlsb', 'pptm', 'potm', 'ppsm', 'ppam', 'sldm']);
const HTML_EXTENSIONS = new Set(['htm', 'html', 'xhtml', 'shtml', 'hta', 'svg', 'mht', 'mhtml']);

/** HTML is read up to this many bytes: smuggled payloads are large, but a scan must stay cheap. */
const MAX_HTML = 8 * 1024 * 1024;
/** Base64 this long in one page is a payload, not an inline icon. */
const LARGE_BASE64 = 32 * 1024;
/** Base64 runs shorter than this are ignored (words, identifiers). */
const MIN_RUN = 100;

/** The archive a part sits in ("2/a.zip!x/vbaProject.bin" → "2/a.zip"), or null for a MIME part. */
function archiveOf(path: string): string | null {
  const i = path.lastIndexOf('!');
  return i < 0 ? null : path.slice(0, i);
}

export function disguisedExecutable(p: ExtractedPart): boolean {
  if (executableKind(p.bytes) === null) return false;
  const ext = p.filename ? extensionsOf(p.filename)[0] : undefined;
  if (ext !== undefined && !EXECUTABLE_EXTENSIONS.has(ext)) return true;
  return p.declaredType !== null && !EXECUTABLE_TYPES.has(p.declaredType);
}

function looksLikeHtml(p: ExtractedPart): boolean {
  const ext = p.filename ? extensionsOf(p.filename)[0] : undefined;
  if (ext !== undefined && HTML_EXTENSIONS.has(ext)) return true;
  if (!p.attachment) return false; // a message body's HTML runs no script in a mail client
  if (p.declaredType === 'text/html' || p.declaredType === 'application/xhtml+xml') return true;
  const head = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, Math.min(p.bytes.byteLength, 1024)).toString('latin1').trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<script');
}

/** Characters of base64 in runs of at least MIN_RUN, one linear pass (no regex backtracking on long runs). */
export function base64Volume(text: string): number {
  let total = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b64 = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d;
    if (b64) run++;
    else {
      if (run >= MIN_RUN) total += run;
      run = 0;
    }
  }
  return run >= MIN_RUN ? total + run : total;
}

const SCRIPT = /<script\b/i;
const BLOB = /new\s{0,20}Blob\s{0,20}\(/;
const OBJECT_URL = /createObjectURL|msSaveOrOpenBlob|msSaveBlob/;
const DOWNLOAD = /\.download\s{0,20}=|\bdownload\s{0,20}=|setAttribute\s{0,20}\(\s{0,20}["']download["']|msSaveOrOpenBlob|msSaveBlob/i;
const CLICK = /\.click\s{0,20}\(\s{0,20}\)|dispatchEvent\s{0,20}\(/;
const DATA_URI = /data:application\/[a-z0-9.+-]{1,100};base64,/i;
const ATOB = /\batob\s{0,20}\(/;

/** An HTML file whose script builds a file (Blob or data: URI) and triggers its download, or decodes a large base64 payload. */
export function htmlSmuggling(p: ExtractedPart): boolean {
  if (!looksLikeHtml(p)) return false;
  const text = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, Math.min(p.bytes.byteLength, MAX_HTML)).toString('latin1');
  const script = SCRIPT.test(text);
  if (script && BLOB.test(text) && OBJECT_URL.test(text) && (DOWNLOAD.test(text) || CLICK.test(text))) return true;
  if (script && DATA_URI.test(text) && (DOWNLOAD.test(text) || CLICK.test(text))) return true;
  return ATOB.test(text) && base64Volume(text) >= LARGE_BASE64;
}

/** Every static detection in the extracted message, each (signature, part) once, at most `max`. */
export function staticChecks(x: Extracted, max = 100): StaticDetection[] {
  const seen = new Set<string>();
  const out: StaticDetection[] = [];
  const hit = (signature: string, part: string): void => {
    const key = `${signature}\0${part}`;
    if (seen.has(key) || out.length >= max) return;
    seen.add(key);
    out.push({ signature, part });
  };
  for (const f of x.findings) if (f.kind !== 'archive-unreadable') hit(f.kind, f.part);
  for (const p of x.parts) {
    const ext = p.filename ? extensionsOf(p.filename)[0] : undefined;
    const archive = archiveOf(p.path);
    if (archive !== null && /(^|\/)vbaproject\.bin$/i.test(p.filename ?? '')) hit('macro-office-document', archive);
    if (p.encrypted) continue;
    if ((ext !== undefined && MACRO_EXTENSIONS.has(ext)) || oleHasMacros(p.bytes)) hit('macro-office-document', p.path);
    if (disguisedExecutable(p)) hit('disguised-executable', p.path);
    if (htmlSmuggling(p)) hit('html-smuggling', p.path);
  }
  return out;
}
