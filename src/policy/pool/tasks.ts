/**
 * The fixed registry of tasks a policy worker runs: one line per task.
 * Only these names can run; the pool's `run()` takes a TaskName, and the
 * worker refuses any other name it is sent.
 */
import { SELFTEST_TASKS } from './selftest.js';
import { batchTask } from './batch-task.js';
import type { TaskFn } from './task.js';
import { addBanner } from '../spoof/banner.js';
import { extractFacts } from '../spoof/facts.js';
import { extractReports } from '../dmarc-report/extract.js';
import { verifySender } from '../auth/verify.js';
import type { AuthInput } from '../auth/types.js';
import { MemoryResolver } from '../../net/dns/memory.js';
import { materialize, staticScan } from '../av/static/task.js';
import { attachmentFacts } from '../av/attachment-facts.js';
import { classifyMessage } from '../dlp/classify.js';
import type { ContentLimits, RulesSpec } from '../dlp/types.js';
import { encryptData, pkcs7MimeEntity } from '../../crypto/smime/index.js';
import { inspectSmime } from '../smime/inspect.js';

/** The message bytes of a task's input; anything else is an empty message (the task then finds nothing). */
function rawOf(input: unknown): Uint8Array {
  const raw = typeof input === 'object' && input !== null ? (input as { raw?: unknown }).raw : undefined;
  return raw instanceof Uint8Array ? raw : new Uint8Array(0);
}

/** Every task but the batch, which runs these. */
const ITEM_TASKS = {
  ...SELFTEST_TASKS,
  'spoof.facts': async (input) => extractFacts(rawOf(input)),
  'spoof.banner': async (input) => addBanner(rawOf(input), String((input as { text?: unknown }).text ?? '')),
  'dmarc.extract': async (input) => extractReports(rawOf(input)),
  // Without a resolver every name is unknown: SPF and DKIM find nothing rather than reaching out.
  'auth.verify': async (input, env) => verifySender({ ...(input as AuthInput), raw: rawOf(input) }, env.resolver ?? new MemoryResolver()),
  // Both in one task: the message crosses to the thread once and its facts come along for the spoof stage.
  'auth.inspect': async (input, env) => {
    const raw = rawOf(input);
    const outcome = await verifySender({ ...(input as AuthInput), raw }, env.resolver ?? new MemoryResolver());
    return { outcome, facts: extractFacts(raw) };
  },
  // [malware static/yara, attachments]: parts and archives are opened only here, in the worker.
  'av.static': async (input) => staticScan(rawOf(input), (input as { limits?: unknown }).limits),
  'av.materialize': async (input) => materialize(rawOf(input), (input as { dir?: unknown }).dir, (input as { limits?: unknown }).limits),
  'attachments.facts': async (input) => attachmentFacts(rawOf(input), (input as { limits?: unknown }).limits),
  // [policy.dlp]: the rules come from the main thread (checked there); matched values are masked before they return.
  'dlp.classify': async (input) => {
    const o = input as { rules: RulesSpec; limits: ContentLimits };
    return classifyMessage(rawOf(input), o.rules, o.limits);
  },
  // [policy.smime]: the anchors' PEM comes from the main thread (checked there at start); `at` is the arrival time.
  'smime.verify': async (input) => {
    const o = input as { anchors?: unknown; at?: unknown };
    return inspectSmime(rawOf(input), typeof o.anchors === 'string' ? o.anchors : '', typeof o.at === 'number' ? o.at : Date.now());
  },
  // [encryption_at_rest] and the DLP action "encrypt": the whole message becomes the enveloped content (decryption gives it back byte for byte).
  'smime.encrypt': async (input) => {
    const o = input as { certs?: unknown; cipher?: unknown };
    const certs = Array.isArray(o.certs) ? o.certs.filter((c): c is Uint8Array => c instanceof Uint8Array) : [];
    if (certs.length === 0) throw new Error('smime.encrypt needs at least one recipient certificate');
    const cipher = o.cipher === 'aes-256-cbc' ? 'aes-256-cbc' : 'aes-256-gcm';
    return pkcs7MimeEntity(encryptData(rawOf(input), { recipients: certs.map((certificate) => ({ certificate })), cipher }), cipher === 'aes-256-gcm' ? 'authEnveloped-data' : 'enveloped-data');
  },
} satisfies Record<string, TaskFn>;

export const TASKS = {
  ...ITEM_TASKS,
  // Several stages' tasks over one message in one round trip (batch-task.ts).
  'policy.batch': batchTask(ITEM_TASKS),
} satisfies Record<string, TaskFn>;

/** A task a batch item may name. */
export type ItemTaskName = keyof typeof ITEM_TASKS;

export type TaskName = keyof typeof TASKS;
