/**
 * The commands of an authenticated session (RFC 5804 sections 2.3-2.12) over
 * the store's sieve role. The account is the logged-in one, never a name from
 * the client. Every change is logged and recorded as a `sieve.script` event.
 */
import {
  sieveNo,
  sieveOk,
  sieveScriptBody,
  sieveScriptList,
  utf8Text,
  type ManageSieveCommand,
} from '../codec/managesieve/index.js';
import type { Logger } from '../metrics/logger.js';
import { checkScriptName } from '../store/backends/sieve-rows.js';
import { SIEVE_LIMITS } from '../store/types.js';
import type { ManageSieveDeps } from './types.js';

export interface ScriptOwner {
  readonly accountId: number;
  readonly address: string;
}

export type ScriptCommand = Extract<ManageSieveCommand, { cmd: 'HAVESPACE' | 'PUTSCRIPT' | 'LISTSCRIPTS' | 'SETACTIVE' | 'GETSCRIPT' | 'DELETESCRIPT' | 'RENAMESCRIPT' | 'CHECKSCRIPT' }>;

const SCRIPT_COMMANDS = new Set(['HAVESPACE', 'PUTSCRIPT', 'LISTSCRIPTS', 'SETACTIVE', 'GETSCRIPT', 'DELETESCRIPT', 'RENAMESCRIPT', 'CHECKSCRIPT']);

export const isScriptCommand = (c: ManageSieveCommand): c is ScriptCommand => SCRIPT_COMMANDS.has(c.cmd);

const MAXSIZE = { atom: 'QUOTA/MAXSIZE' };
const MAXSCRIPTS = { atom: 'QUOTA/MAXSCRIPTS' };
const NONEXISTENT = { atom: 'NONEXISTENT' };
export const TOO_LARGE = sieveNo(`Script too large (at most ${SIEVE_LIMITS.maxScriptBytes} bytes)`, MAXSIZE);

/** Why a name cannot be a script name, or null. */
function badName(name: string): string | null {
  try {
    checkScriptName(name);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The store's RangeError as the RFC 5804 answer. */
function refused(e: unknown): Buffer {
  if (!(e instanceof RangeError)) throw e;
  if (/scripts$/.test(e.message)) return sieveNo(e.message, MAXSCRIPTS);
  if (/bytes$/.test(e.message)) return sieveNo(e.message, MAXSIZE);
  return sieveNo(e.message);
}

/** The script's text when it is UTF-8 and passes the validator; otherwise the NO to send. */
function checked(deps: ManageSieveDeps, script: Buffer): { text: string } | { reply: Buffer } {
  if (script.length > SIEVE_LIMITS.maxScriptBytes) return { reply: TOO_LARGE };
  const text = utf8Text(script);
  if (text === null) return { reply: sieveNo('Script is not valid UTF-8') };
  const error = deps.validate?.(text) ?? null;
  if (error !== null) return { reply: sieveNo(error.slice(0, 1000)) };
  return { text };
}

export async function scriptCommand(c: ScriptCommand, deps: ManageSieveDeps, owner: ScriptOwner, log: Logger): Promise<Buffer | Buffer[]> {
  const sieve = deps.sieve;
  const id = owner.accountId;
  const changed = (action: string, data: Record<string, unknown>) => {
    log.info({ action, ...data }, 'sieve script changed');
    deps.events?.record('sieve.script', owner.address, { action, ...data });
  };
  switch (c.cmd) {
    case 'HAVESPACE': {
      const bad = badName(c.name);
      if (bad) return sieveNo(bad);
      if (c.size > SIEVE_LIMITS.maxScriptBytes) return sieveNo(`Script too large (at most ${SIEVE_LIMITS.maxScriptBytes} bytes)`, MAXSIZE);
      const list = await sieve.list(id);
      if (list.length >= SIEVE_LIMITS.maxScripts && !list.some((s) => s.name === c.name)) return sieveNo(`At most ${SIEVE_LIMITS.maxScripts} scripts`, MAXSCRIPTS);
      return sieveOk('Putscript would succeed');
    }
    case 'PUTSCRIPT': {
      const bad = badName(c.name);
      if (bad) return sieveNo(bad);
      const r = checked(deps, c.script);
      if ('reply' in r) return r.reply;
      try {
        await sieve.put(id, c.name, r.text, deps.clock.now());
      } catch (e) {
        return refused(e);
      }
      changed('put', { name: c.name, size: c.script.length });
      return sieveOk('Script stored');
    }
    case 'CHECKSCRIPT': {
      const r = checked(deps, c.script);
      return 'reply' in r ? r.reply : sieveOk('Script is valid');
    }
    case 'LISTSCRIPTS':
      return [sieveScriptList(await sieve.list(id)), sieveOk('Listscripts completed')];
    case 'GETSCRIPT': {
      const s = await sieve.get(id, c.name);
      if (!s) return sieveNo('No such script', NONEXISTENT);
      return [sieveScriptBody(Buffer.from(s.text, 'utf8')), sieveOk('Getscript completed')];
    }
    case 'SETACTIVE': {
      // An empty name deactivates every script (RFC 5804 section 2.8).
      const name = c.name === '' ? null : c.name;
      if (!(await sieve.setActive(id, name))) return sieveNo('No such script', NONEXISTENT);
      changed(name === null ? 'deactivate' : 'activate', name === null ? {} : { name });
      return sieveOk(name === null ? 'No script active' : 'Script activated');
    }
    case 'DELETESCRIPT': {
      const r = await sieve.delete(id, c.name);
      if (r === 'missing') return sieveNo('No such script', NONEXISTENT);
      if (r === 'active') return sieveNo('The active script cannot be deleted; deactivate it first', { atom: 'ACTIVE' });
      changed('delete', { name: c.name });
      return sieveOk('Script deleted');
    }
    case 'RENAMESCRIPT': {
      const bad = badName(c.to);
      if (bad) return sieveNo(bad);
      let r: 'renamed' | 'missing' | 'exists';
      try {
        r = await sieve.rename(id, c.from, c.to, deps.clock.now());
      } catch (e) {
        return refused(e);
      }
      if (r === 'missing') return sieveNo('No such script', NONEXISTENT);
      if (r === 'exists') return sieveNo('A script with that name exists', { atom: 'ALREADYEXISTS' });
      changed('rename', { name: c.to, from: c.from });
      return sieveOk('Script renamed');
    }
  }
}
