/**
 * What the administration pages share when they act: a refusal that lands in
 * the audit log, and a store error (unknown account, group that exists) shown
 * as a clear answer that changed nothing.
 */
import { PosternError } from '../../core/errors.js';
import { audit, htmlError, type ConsoleDeps, type Ctx } from './context.js';

/** 403 for an action the rules forbid, audited as `action` with result "refused" and the reason. */
export async function refuse(c: Ctx, d: ConsoleDeps, actor: string, action: string, subject: string, reason: string, data: Record<string, unknown> = {}): Promise<Response> {
  await audit(d, actor, action, subject, { ...data, result: 'refused', reason });
  return htmlError(c, 403, 'Refused', reason);
}

/** 400 for input the page cannot take; nothing changed, so nothing is audited. */
export const badInput = (c: Ctx, text: string): Response => htmlError(c, 400, 'Bad request', text);

/** The answer to a store's refusal (NOT_FOUND: 404, EXISTS: 400); anything else is a fault and is thrown on. */
export function storeRefusal(c: Ctx, e: unknown): Response {
  const known = e instanceof PosternError && (e.code === 'NOT_FOUND' || e.code === 'EXISTS');
  if (!known) throw e;
  const detail = e.message.replace(/^[^:]*: /, '');
  return e.code === 'NOT_FOUND' ? htmlError(c, 404, 'Not found', detail) : badInput(c, detail);
}
