/**
 * What bytes are, by their first bytes: executables (PE, ELF, Mach-O), OLE
 * compound files, disk images; and what a file name claims. Bounded reads
 * only (a few offsets), safe on any input.
 */

const u32le = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

export type ExecutableKind = 'pe' | 'elf' | 'macho';

/** PE (MZ with a "PE\0\0" header where e_lfanew points), ELF, or Mach-O (thin or fat). */
export function executableKind(b: Uint8Array): ExecutableKind | null {
  if (b.length < 8) return null;
  if (b[0] === 0x4d && b[1] === 0x5a && b.length >= 0x40) {
    const pe = u32le(b, 0x3c);
    if (pe + 4 <= b.length && b[pe] === 0x50 && b[pe + 1] === 0x45 && b[pe + 2] === 0 && b[pe + 3] === 0) return 'pe';
    return null;
  }
  if (b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return 'elf';
  const m = u32be(b, 0);
  if (m === 0xfeedface || m === 0xfeedfacf || m === 0xcefaedfe || m === 0xcffaedfe) return 'macho';
  // 0xCAFEBABE is also a Java class file; there bytes 4..7 are its version (45 and up), in a fat binary the count of architectures.
  if (m === 0xcafebabe && u32be(b, 4) > 0 && u32be(b, 4) < 20) return 'macho';
  return null;
}

const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

export function isOle(b: Uint8Array): boolean {
  return b.length >= 512 && OLE.every((x, i) => b[i] === x);
}

const VBA_STREAM = Buffer.from('_VBA_PROJECT', 'utf16le');

/** An OLE document (.doc, .xls) carrying a VBA project: its directory names the _VBA_PROJECT stream. */
export function oleHasMacros(b: Uint8Array): boolean {
  return isOle(b) && Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(VBA_STREAM) >= 0;
}

/** ISO 9660 ("CD001" at sector 16) or a VHD/VHDX (cookie at the start or the footer): disk images that mount with a click. */
export function diskImageKind(b: Uint8Array): 'iso' | 'vhd' | 'vhdx' | null {
  const at = (off: number, s: string) => off >= 0 && off + s.length <= b.length && Buffer.from(b.buffer, b.byteOffset + off, s.length).toString('latin1') === s;
  if (at(0x8001, 'CD001')) return 'iso';
  if (at(0, 'vhdxfile')) return 'vhdx';
  if (at(0, 'conectix') || at(b.length - 512, 'conectix')) return 'vhd';
  return null;
}

const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The extensions of a file name, last first, lower-cased: "Invoice.PDF .exe. "
 * gives ["exe", "pdf"]. Bidi controls are removed (U+202E turns "fdp.exe"
 * into what reads as "exe.pdf") and so are trailing dots and spaces, which
 * Windows ignores. Folders of an archive entry name are dropped.
 */
export function extensionsOf(name: string): string[] {
  const base = (name.split(/[/\\]/).pop() ?? '').replace(BIDI, '').replace(/[.\s]+$/, '');
  const pieces = base.split('.');
  if (pieces.length < 2) return [];
  return pieces
    .slice(1)
    .map((p) => p.trim().toLowerCase())
    .reverse();
}

/** A file name as it may appear in a reply or a log: printable ASCII, no quotes, at most 80 characters. */
export function displayName(name: string): string {
  const clean = name.replace(BIDI, '').replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'");
  return clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
}
