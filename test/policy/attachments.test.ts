/**
 * The attachment policy in a real postern process: swaks (a client nobody
 * here wrote) attaches files over SMTP to the MX. An executable named
 * invoice.pdf.exe is refused in-line with 550 5.7.1 naming the file, so is a
 * script inside a zip, and an ordinary PDF is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { swaks } from '../support/swaks.js';

let inst: Installation;
let server: ServerProcess;

const last = (r: { replies: string[] }) => r.replies.filter((l) => /^\d{3}[ -]/.test(l)).slice(-2)[0] ?? '';

function pe(): Buffer {
  const b = Buffer.alloc(2048);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  return b;
}

async function sendWith(name: string, type: string, bytes: Uint8Array) {
  const file = path.join(inst.dir, `attach-${name.replace(/[^a-z0-9.]/gi, '_')}`);
  writeFileSync(file, bytes);
  return swaks([
    '--port', String(inst.ports.mx),
    '--from', 'billing@partner.test',
    '--to', 'alice@example.test',
    '--header', `Subject: ${name}`,
    '--body', 'Please find the file attached.',
    '--attach-type', type,
    '--attach-name', name,
    '--attach', `@${file}`,
  ]);
}

beforeAll(async () => {
  inst = await makeInstallation('example.test', '[policy.spoof]\nenabled = false\n');
  const r = cli(inst, ['user', 'add', 'alice@example.test'], 'correct horse battery staple\n');
  expect(r.status, r.stderr).toBe(0);
  server = await startServer(inst);
}, 120_000);

afterAll(async () => {
  await server?.kill();
  inst?.cleanup();
});

describe('attachment policy over real SMTP', () => {
  it('refuses invoice.pdf.exe in-line, naming the file', async () => {
    const r = await sendWith('invoice.pdf.exe', 'application/pdf', pe());
    expect(last(r)).toBe('550 5.7.1 Attachment "invoice.pdf.exe" refused by policy (double-extension)');
  });

  it('refuses a script inside a zip and accepts an ordinary PDF', async () => {
    const z = zipSync({ 'scan/invoice.pdf.js': Buffer.from('WScript.Echo("hi")') });
    expect(last(await sendWith('scans.zip', 'application/zip', z))).toMatch(/^550 5\.7\.1 Attachment "scan\/invoice\.pdf\.js" refused/);
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    expect(last(await sendWith('report.pdf', 'application/pdf', pdf))).toMatch(/^250 /);
  });
});
