/**
 * What the sender asked of delivery status notifications (RFC 3461), as kept
 * in a queue entry's `meta.dsn`: RET and ENVID from MAIL, NOTIFY and ORCPT
 * per recipient (keyed by the final, lower-cased address, so every mailbox an
 * alias reaches carries its RCPT's request). Absent when the client gave no
 * DSN parameter; a recipient without NOTIFY gets the default (failures and
 * delays, RFC 3461 4.1).
 */

export type NotifyOn = 'SUCCESS' | 'FAILURE' | 'DELAY';

export interface RcptDsn {
  /** Empty: NOTIFY=NEVER. Absent: no NOTIFY given. */
  readonly notify?: readonly NotifyOn[];
  /** The ORCPT address (decoded), without its "rfc822;" type. */
  readonly orcpt?: string;
  /** The ORCPT address type ("rfc822"). */
  readonly orcptType?: string;
}

export interface DsnRequest {
  readonly ret?: 'FULL' | 'HDRS';
  readonly envid?: string;
  readonly rcpts?: Readonly<Record<string, RcptDsn>>;
}

const MAX_TEXT = 500;
const NOTIFY_ON = new Set(['SUCCESS', 'FAILURE', 'DELAY']);

/** The request kept in a queue entry's meta; anything malformed is left out (meta is JSON from the store). */
export function dsnOf(meta: Readonly<Record<string, unknown>>): DsnRequest {
  const d = meta.dsn;
  if (!d || typeof d !== 'object') return {};
  const o = d as Record<string, unknown>;
  const rcpts: Record<string, RcptDsn> = {};
  if (o.rcpts && typeof o.rcpts === 'object') {
    for (const [addr, v] of Object.entries(o.rcpts as Record<string, unknown>)) {
      if (!v || typeof v !== 'object') continue;
      const r = v as Record<string, unknown>;
      rcpts[addr] = {
        ...(Array.isArray(r.notify) ? { notify: r.notify.filter((n): n is NotifyOn => typeof n === 'string' && NOTIFY_ON.has(n)) } : {}),
        ...(typeof r.orcpt === 'string' ? { orcpt: r.orcpt.slice(0, MAX_TEXT) } : {}),
        ...(typeof r.orcptType === 'string' ? { orcptType: r.orcptType.slice(0, 32) } : {}),
      };
    }
  }
  return {
    ...(o.ret === 'FULL' || o.ret === 'HDRS' ? { ret: o.ret } : {}),
    ...(typeof o.envid === 'string' ? { envid: o.envid.slice(0, MAX_TEXT) } : {}),
    rcpts,
  };
}

/** The recipient's request (address compared lower-case). */
export function rcptDsn(req: DsnRequest, address: string): RcptDsn {
  return req.rcpts?.[address.toLowerCase()] ?? {};
}

/** Whether a notice of this kind is wanted: NOTIFY lists it, or NOTIFY is absent and it is a failure or a delay. */
export function wants(r: RcptDsn, on: NotifyOn): boolean {
  return r.notify ? r.notify.includes(on) : on !== 'SUCCESS';
}

/**
 * The request from the MAIL and RCPT parameters as smtp-server parsed them
 * (xtext already decoded, syntax checked): `rcpts` maps each RCPT's final
 * addresses to that RCPT's arguments. Null when no DSN parameter was given.
 */
export function dsnFromEnvelope(
  mail: { ret?: string | null; envid?: string | null } | undefined,
  rcpts: readonly { finals: readonly string[]; args: Readonly<Record<string, unknown>> }[],
): DsnRequest | null {
  const out: Record<string, RcptDsn> = {};
  for (const { finals, args } of rcpts) {
    const notify = typeof args.NOTIFY === 'string' ? args.NOTIFY.toUpperCase().split(',') : null;
    const orcpt = typeof args.ORCPT === 'string' ? args.ORCPT : null;
    const semi = orcpt ? orcpt.indexOf(';') : -1;
    if (!notify && semi < 1) continue;
    const r: RcptDsn = {
      ...(notify ? { notify: notify.filter((n): n is NotifyOn => NOTIFY_ON.has(n)) } : {}),
      ...(orcpt && semi > 0 ? { orcptType: orcpt.slice(0, semi).toLowerCase(), orcpt: orcpt.slice(semi + 1, semi + 1 + MAX_TEXT) } : {}),
    };
    for (const f of finals) out[f.toLowerCase()] = r;
  }
  const ret = mail?.ret === 'FULL' || mail?.ret === 'HDRS' ? mail.ret : null;
  const envid = typeof mail?.envid === 'string' && mail.envid !== '' ? mail.envid : null;
  if (!ret && !envid && Object.keys(out).length === 0) return null;
  return { ...(ret ? { ret } : {}), ...(envid ? { envid } : {}), rcpts: out };
}
