import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, stripOwnReceived, queueIdOf, type Harness } from '../support/harness.js';
import { killAll } from '../support/procs.js';
import { smtplib } from '../support/smtplib.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => killAll());
afterAll(async () => {
  killAll();
  await h?.close();
});

// A line starting with "." (dot-stuffed on the wire), 8-bit bytes and a long body line.
function message(subject: string, from = 'alice@example.test'): Buffer {
  return Buffer.concat([
    Buffer.from(`From: Alice <${from}>\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <${subject.replace(/ /g, '.')}@example.test>\r\n\r\n`),
    Buffer.from('.a line that starts with a dot\r\n..two dots\r\n'),
    Buffer.from([0xc3, 0xa9, 0x0d, 0x0a]),
    Buffer.from('x'.repeat(900) + '\r\nend\r\n'),
  ]);
}

describe('Python smtplib delivers through submission', () => {
  for (const [mode, mech] of [['starttls', 'PLAIN'], ['ssl', 'LOGIN']] as const) {
    it(`over ${mode === 'ssl' ? 'implicit TLS (465)' : 'STARTTLS (587)'} with AUTH ${mech}, byte for byte`, async () => {
      const msg = message(`smtplib ${mode}`);
      const file = await h.writeFile(`smtplib-${mode}.eml`, msg);
      const before = (await h.inbox(h.users.bob)).length;
      const r = await smtplib({
        port: mode === 'ssl' ? h.ports.submissions : h.ports.submission,
        mode,
        ca: h.caFile,
        logins: [{ user: h.users.alice.address, password: h.users.alice.password, mech }],
        from: h.users.alice.address,
        to: [h.users.bob.address],
        msgFile: file,
      });
      expect(r.error).toBeUndefined();
      expect(r.auth?.[0]?.[0]).toBe(235);
      if (mode === 'starttls') {
        // AUTH is offered only once the session is encrypted.
        expect(Object.keys(r.features ?? {})).toContain('starttls');
        expect(Object.keys(r.features ?? {})).not.toContain('auth');
        expect(r.features_tls?.auth?.trim()).toBe('SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN LOGIN');
        expect(Object.keys(r.features_tls ?? {})).not.toContain('starttls');
      } else {
        expect(r.features?.auth?.trim()).toBe('SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN LOGIN');
      }
      expect((r.features_tls?.size ?? r.features?.size)?.trim()).toBe(String(1024 * 1024));
      expect(r.data?.[0]).toBe(250);
      const queueId = queueIdOf(r.data?.[1] ?? '');
      const inbox = await h.waitForInbox(h.users.bob, before + 1);
      const stored = await h.blob(inbox[inbox.length - 1]!.blobId);
      expect(stripOwnReceived(stored, queueId).equals(msg)).toBe(true);
      const received = stored.subarray(0, stored.length - msg.length).toString('latin1');
      expect(received).toMatch(/^Received: from client\.example\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby mail\.example\.test \(postern\) with ESMTPSA id /);
      expect(received).toMatch(/\r\n\t\(using TLSv1\.[23] with cipher [A-Z0-9_-]+\)\r\n\tfor <bob@example\.test>; \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n$/);
      const accepted = h.logs.find((l) => l.msg === 'message accepted' && l.queueId === queueId);
      expect(accepted).toMatchObject({ sender: 'alice@example.test', rcpts: 1, size: stored.length });
      expect(JSON.stringify(h.logs)).not.toContain(h.users.alice.password);
    });
  }
});
