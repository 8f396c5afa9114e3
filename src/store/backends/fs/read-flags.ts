/**
 * How blob files are opened for reading: without touching their access time
 * (O_NOATIME). Under the usual `relatime` mount option the first read of a
 * file after it was written, and one a day after that, rewrites its inode:
 * a first SEARCH over 100,000 messages or a scrub of the store dirtied every
 * inode it read (CPU in the kernel now, writeback later) for a time nothing
 * in postern looks at. Only the file's owner (or CAP_FOWNER) may ask for it;
 * anyone else gets EPERM, so after one EPERM reads open plainly.
 */
import { constants, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const PLAIN = constants.O_RDONLY;
/** O_NOATIME is Linux's; elsewhere the constant is absent and reads open plainly. */
let flags = PLAIN | (constants.O_NOATIME ?? 0);

function refused(e: unknown): boolean {
  return flags !== PLAIN && (e as NodeJS.ErrnoException)?.code === 'EPERM';
}

/** A file descriptor for reading `file`, its access time left alone where allowed. */
export function openForReadSync(file: string): number {
  try {
    return openSync(file, flags);
  } catch (e) {
    if (!refused(e)) throw e;
    flags = PLAIN;
    return openSync(file, flags);
  }
}

/** A whole file, opened as openForReadSync opens it. */
export async function readWholeFile(file: string): Promise<Buffer> {
  let fh: FileHandle;
  try {
    fh = await open(file, flags);
  } catch (e) {
    if (!refused(e)) throw e;
    flags = PLAIN;
    fh = await open(file, flags);
  }
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
