import { describe, expect, it } from 'vitest';
import { queueIdOf, useHarness, type Harness } from '../support/harness.js';
import { plainToken, RawClient } from '../support/raw.js';
import { smtplib } from '../support/smtplib.js';

let h: Harness;
useHarness({ deliver: false }, (x) => (h = x));

let n = 0;
async function asAlice(from: string, headers: string, to = 'bob@example.test') {
  const file = await h.writeFile(`m-${++n}.eml`, `${headers}Subject: t\r\n\r\nbody\r\n`);
  return smtplib({
    port: h.ports.submissions, mode: 'ssl', ca: h.caFile,
    logins: [{ user: h.users.alice.address, password: h.users.alice.password }],
    from, to: [to], msgFile: file,
  });
}


describe('submission sender rules', () => {
  it('sends from the own address and from an alias that points only at the account', async () => {
    expect((await asAlice('alice@example.test', 'From: Alice <alice@example.test>\r\n')).data?.[0]).toBe(250);
    expect((await asAlice('alice.alias@example.test', 'From: alice.alias@example.test\r\n')).data?.[0]).toBe(250);
  });

  it("refuses someone else's envelope sender with 553, including a shared alias", async () => {
    for (const from of ['bob@example.test', 'sales@example.test', 'ceo@bank.test']) {
      const r = await asAlice(from, 'From: alice@example.test\r\n');
      expect(r.mail?.[0]).toBe(553);
      expect(r.mail?.[1]).toMatch(/^5\.7\.1 /);
    }
  });

  it("refuses a From header naming someone else with 550 5.7.1 after DATA", async () => {
    const cases = [
      'From: Bob <bob@example.test>\r\n',
      'From: alice@example.test, bob@example.test\r\n',
      'From: <alice@example.test> bob@example.test\r\n',
      'From: team: alice@example.test, ceo@bank.test;\r\n',
      'From: alice@example.test\r\nSender: bob@example.test\r\n',
      'From: undisclosed-recipients:;\r\n',
    ];
    for (const headers of cases) {
      const r = await asAlice('alice@example.test', headers);
      expect(r.mail?.[0]).toBe(250);
      expect(r.data?.[0], headers).toBe(550);
      expect(r.data?.[1], headers).toMatch(/^5\.7\.1 /);
    }
  });

  it('requires exactly one From header', async () => {
    for (const headers of ['To: bob@example.test\r\n', 'From: alice@example.test\r\nFrom: alice@example.test\r\n']) {
      const r = await asAlice('alice@example.test', headers);
      expect(r.data?.[0]).toBe(550);
      expect(r.data?.[1]).toMatch(/^5\.6\.0 /);
    }
  });

  it('refuses the null sender', async () => {
    const c = await RawClient.submissionTls(h.ports.submission, h.caPem);
    expect((await c.cmd(`AUTH PLAIN ${plainToken(h.users.alice.address, h.users.alice.password)}`))?.code).toBe(235);
    const r = await c.cmd('MAIL FROM:<>');
    expect(r?.code).toBe(553);
    c.close();
  });

  it('queues a remote recipient for the outbound agent', async () => {
    const r = await asAlice('alice@example.test', 'From: alice@example.test\r\n', 'Friend@Remote.TEST');
    expect(r.data?.[0]).toBe(250);
    const recipients = await h.store.meta.queue.listRecipients(queueIdOf(r.data![1]));
    expect(recipients.map((x) => [x.transport, x.address, x.state])).toEqual([['remote', 'friend@remote.test', 'queued']]);
    const message = await h.store.meta.queue.getMessage(queueIdOf(r.data![1]));
    expect(message).toMatchObject({ sender: 'alice@example.test', source: 'submission', authUser: 'alice@example.test' });
  });

  it('still refuses unknown users of local domains', async () => {
    const r = await asAlice('alice@example.test', 'From: alice@example.test\r\n', 'nobody@example.test');
    expect(r.rcpt?.[0]?.[0]).toBe(550);
  });
});
