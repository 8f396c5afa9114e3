import { describe, expect, it } from 'vitest';
import { labelScanner } from './label.js';

const scan = labelScanner({
  headers: [
    { name: 'X-Classification', values: ['confidential', 'secret'] },
    { name: 'msip_labels', values: ['Confidential'] },
  ],
  subjectTags: ['[Confidential]'],
});

describe('labels', () => {
  it('finds a header value, names compared case-insensitively', () => {
    expect(scan([{ name: 'x-classification', value: 'Company SECRET' }], 'hello')).toEqual([
      { value: 'x-classification: SECRET', index: 8, length: 6, confidence: 'high' },
    ]);
  });

  it('finds a Microsoft Information Protection label', () => {
    const msip =
      'MSIP_Label_3c9b0f5a-1d2e-4f6a-8b7c-9d0e1f2a3b4c_Enabled=true; MSIP_Label_3c9b0f5a-1d2e-4f6a-8b7c-9d0e1f2a3b4c_Name=Confidential; MSIP_Label_3c9b0f5a-1d2e-4f6a-8b7c-9d0e1f2a3b4c_SiteId=x';
    expect(scan([{ name: 'msip_labels', value: msip }], '').map((h) => h.value)).toEqual(['msip_labels: Confidential']);
  });

  it('finds a subject tag', () => {
    expect(scan([], 'Re: [CONFIDENTIAL] Q3 numbers').map((h) => h.value)).toEqual(['Subject: [CONFIDENTIAL]']);
  });

  it.each([
    ['another header carrying the value', [{ name: 'X-Mailer', value: 'confidential mailer' }], 'hi'],
    ['the label header with another value', [{ name: 'X-Classification', value: 'public' }], 'hi'],
    ['the subject word without the tag brackets', [], 'Confidential report'],
    ['an msip label with another name', [{ name: 'msip_labels', value: 'MSIP_Label_x_Name=General;' }], ''],
  ])('ignores %s', (_name, headers, subject) => {
    expect(scan(headers, subject)).toEqual([]);
  });
});
