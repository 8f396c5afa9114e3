/**
 * APPEND literals draw on the process-wide memory budget that SMTP DATA uses:
 * when it is spent, APPEND gets a temporary NO [UNAVAILABLE] before the
 * client sends the literal, and every literal's bytes are given back when
 * its command ends or the client goes away.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../src/net/memory-budget.js';
import { startHarness, type Harness, type TestUser } from './harness.js';
import { RawClient, rawLogin } from './rawclient.js';

const KIB = 1024;
let h: Harness;
let user: TestUser;
let budget: MemoryBudget;
const clients: RawClient[] = [];

beforeAll(async () => {
  h = await startHarness();
  user = await h.addUser('budget');
  budget = new MemoryBudget(64 * KIB);
  h.deps.memoryBudget = budget; // read by each session when a literal is announced
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await h?.close();
});

async function loggedIn(): Promise<RawClient> {
  const c = await RawClient.tls(h.ports.tls, h.ca);
  clients.push(c);
  await c.line();
  expect(await rawLogin(c, user.address, user.password)).toMatch(/^L1 OK/);
  return c;
}

const message = (size: number): string => {
  const head = 'From: a@example.test\r\nSubject: budget\r\n\r\n';
  return head + 'x'.repeat(size - head.length);
};

/** Waits (bounded) until the budget's use satisfies `ok`. */
async function budgetUntil(ok: (used: number) => boolean): Promise<number> {
  for (let i = 0; i < 400 && !ok(budget.used); i++) await new Promise((r) => setTimeout(r, 25));
  return budget.used;
}

describe('memory budget for IMAP APPEND', () => {
  it('refuses a literal that does not fit with NO [UNAVAILABLE], takes one that does, and ends at zero', async () => {
    const a = await loggedIn();
    a.write(`A1 APPEND INBOX {${40 * KIB}}\r\n`);
    expect(await a.line()).toMatch(/^\+ /);
    a.write(message(20 * KIB)); // half of the literal: the reservation is held meanwhile
    expect(await budgetUntil((u) => u >= 40 * KIB)).toBe(40 * KIB);

    const b = await loggedIn();
    const refused = await b.command('B1', `APPEND INBOX {${40 * KIB}}`);
    expect(refused.at(-1)).toMatch(/^B1 NO \[UNAVAILABLE\] /);
    expect((await b.command('B2', 'NOOP')).at(-1)).toMatch(/^B2 OK/);

    a.write('x'.repeat(20 * KIB) + '\r\n');
    expect((await a.until((l) => l.startsWith('A1 '))).at(-1)).toMatch(/^A1 OK \[APPENDUID /);
    expect(budget.used).toBe(0);

    // Now the same literal fits.
    b.write(`B3 APPEND INBOX {${40 * KIB}}\r\n`);
    expect(await b.line()).toMatch(/^\+ /);
    b.write(message(40 * KIB) + '\r\n');
    expect((await b.until((l) => l.startsWith('B3 '))).at(-1)).toMatch(/^B3 OK/);
    expect(budget.used).toBe(0);
  });

  it('counts the literals of other commands too', async () => {
    const a = await loggedIn();
    a.write(`A1 APPEND INBOX {${50 * KIB}}\r\n`);
    expect(await a.line()).toMatch(/^\+ /);
    expect(await budgetUntil((u) => u >= 50 * KIB)).toBe(50 * KIB);
    const b = await loggedIn();
    expect((await b.command('S0', 'SELECT INBOX')).at(-1)).toMatch(/^S0 OK/);
    expect((await b.command('S1', `SEARCH TEXT {${20 * KIB}}`)).at(-1)).toMatch(/^S1 NO \[UNAVAILABLE\] /);
    a.close();
    expect(await budgetUntil((u) => u === 0)).toBe(0);
    b.write(`S2 SEARCH TEXT {${20 * KIB}}\r\n`);
    expect(await b.line()).toMatch(/^\+ /);
    b.write('x'.repeat(20 * KIB) + '\r\n');
    expect((await b.until((l) => l.startsWith('S2 '))).at(-1)).toMatch(/^S2 OK/);
    expect(budget.used).toBe(0);
  });

  it('gives the bytes back when the client goes away mid-literal', async () => {
    const c = await loggedIn();
    c.write(`C1 APPEND INBOX {${30 * KIB}}\r\n`);
    expect(await c.line()).toMatch(/^\+ /);
    c.write('x'.repeat(KIB));
    expect(await budgetUntil((u) => u > 0)).toBe(30 * KIB);
    c.close();
    expect(await budgetUntil((u) => u === 0)).toBe(0);
  });
});
