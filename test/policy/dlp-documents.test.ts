/**
 * The document cases through the whole classifier with the default
 * rules: a 50-page PDF and a DOCX, each with one card number deep inside,
 * attached to a message, are caught by `payment-cards`, and the card appears
 * only masked. The files are made by real producers (reportlab, python-docx).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyMessage } from '../../src/policy/dlp/classify.js';
import { DEFAULT_CONTENT_LIMITS } from '../../src/policy/dlp/extract/index.js';
import { message, pythonFile } from '../../src/policy/dlp/extract/testing/make.js';
import { buildRules } from '../../src/policy/dlp/rules/load.js';
import { DEFAULT_RULES_TOML } from '../../src/policy/dlp/rules/default.js';

const CARD = '5555 5555 5555 4444';
const DIGITS = CARD.replace(/ /g, '');

const PDF50 = `
from reportlab.pdfgen import canvas
c = canvas.Canvas(OUT)
for p in range(1, 51):
    for j in range(35):
        c.drawString(72, 760 - j * 20, 'Line %d of page %d: revenue grew in every region this quarter.' % (j, p))
    if p == 41:
        c.drawString(72, 40, 'Payment card on file: ${CARD}')
    c.showPage()
c.save()
`;

const DOCX = `
import docx
d = docx.Document()
for i in range(200):
    d.add_paragraph('Paragraph %d of the supplier contract: terms, conditions and schedules.' % i)
    if i == 163:
        d.add_paragraph('Corporate card for travel: ${CARD}')
d.save(OUT)
`;

let pdf: Uint8Array;
let docx: Uint8Array;
const rules = buildRules(DEFAULT_RULES_TOML, []);

beforeAll(() => {
  pdf = pythonFile(PDF50, 'report.pdf');
  docx = pythonFile(DOCX, 'contract.docx');
});

async function cardsIn(name: string, type: string, bytes: Uint8Array) {
  const b64 = Buffer.from(bytes).toString('base64').replace(/.{1,76}/g, '$&\r\n');
  const body = `--b\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n--b\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}--b--\r\n`;
  const raw = message(['From: a@example.org', 'To: b@example.net', 'Subject: Quarterly numbers', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"'], body);
  const c = await classifyMessage(raw, rules, DEFAULT_CONTENT_LIMITS);
  expect(JSON.stringify(c)).not.toContain(DIGITS);
  expect(JSON.stringify(c)).not.toContain(CARD);
  return c.matches.find((m) => m.rule === 'payment-cards');
}

describe('documents with one card number deep inside, default rules', () => {
  it('a 50-page PDF', async () => {
    const m = await cardsIn('report.pdf', 'application/pdf', pdf);
    expect(m?.detectors[0]?.samples).toEqual([{ masked: '5555 **** **** 4444', source: 'attachment:2/report.pdf' }]);
  });

  it('a DOCX of 200 paragraphs', async () => {
    const m = await cardsIn('contract.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', docx);
    expect(m?.detectors[0]?.samples).toEqual([{ masked: '5555 **** **** 4444', source: 'attachment:2/contract.docx' }]);
  });

  it('the same PDF without the card page is clean', async () => {
    const clean = pythonFile(PDF50.replace("if p == 41:", "if p == 999:"), 'clean.pdf');
    expect(await cardsIn('clean.pdf', 'application/pdf', clean)).toBeUndefined();
  });
});
