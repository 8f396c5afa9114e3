import { describe, expect, it } from 'vitest';
import { isCardNumber, luhn, scanCards } from './cards.js';

// What each hit covers in the text (its value is the digits alone).
const values = (text: string): string[] => scanCards(text).map((h) => text.slice(h.index, h.index + h.length));

describe('payment cards', () => {
  it.each([
    ['Visa', 'ref 4111111111111111 ok', '4111111111111111'],
    ['Visa 13 digits', 'ref 4222222222222.', '4222222222222'],
    ['Visa grouped by spaces', 'no. 4111 1111 1111 1111 end', '4111 1111 1111 1111'],
    ['Visa grouped by dashes', 'no. 4012-8888-8888-1881 end', '4012-8888-8888-1881'],
    ['Mastercard 5x', '(5555555555554444)', '5555555555554444'],
    ['Mastercard 2-series', 'x 2223003122003222 x', '2223003122003222'],
    ['Amex', 'x 378282246310005 x', '378282246310005'],
    ['Amex 4-6-5', 'x 3782 822463 10005 x', '3782 822463 10005'],
    ['Discover', 'x 6011111111111117 x', '6011111111111117'],
    ['JCB', 'x 3530111333300000 x', '3530111333300000'],
    ['Diners 14 digits', 'x 30569309025904 x', '30569309025904'],
    ['UnionPay', 'x 6200000000000005 x', '6200000000000005'],
    ['inside a longer grouped run', 'Pos 12 4111 1111 1111 1111 done', '4111 1111 1111 1111'],
    ['followed by a short number', 'paid with 4111111111111111 12 25', '4111111111111111'],
    ['at the edge of two pieces', 'ref 12-4111111111111111 55', '4111111111111111'],
    ['grouped, then a CVV', 'card 4111 1111 1111 1111 123', '4111 1111 1111 1111'],
  ])('finds %s', (_name, text, want) => {
    expect(values(text)).toEqual([want]);
  });

  it.each([
    ['an order number failing Luhn', 'Order 4111111111111112 shipped'],
    ['a Luhn-valid number outside every issuer range', 'Ref 1234567812345670'],
    ['a Mastercard prefix with a Visa-only length', 'x 5555555555554 x'],
    ['a Visa prefix with a length Visa does not issue (14)', 'x 41111111111114 x'],
    ['a UPS tracking number', 'Tracking 1Z999AA10123456784'],
    ['an international phone number', 'Call +49 6221 1234 5678 or +44 20 7946 0958'],
    ['a US phone number', 'Call (415) 555-2671 or 415-555-2671'],
    ['a millisecond timestamp', 'ts=1733325209123'],
    ['a compact date-time', 'at 20241204153000'],
    ['an ISO date-time', 'at 2024-12-04 15:30:00'],
    ['a 20-digit run containing a card', 'id 41111111111111110000'],
    ['mixed separators', 'no 4111-1111 1111-1111'],
    ['a Luhn-valid 19 digits that is not card-shaped', 'order 4111111111111112 555-123-4567'],
    ['a decimal', 'amount 0.4111111111111111'],
    ['an invoice code', 'ref INV4111111111111111 or 4111111111111111A'],
    ['the digits of a compact IBAN', 'FR1420041010050500013M02606 and DE44500105175407324931'],
    ['one digit repeated', 'x 8888888888888888 x'],
  ])('ignores %s', (_name, text) => {
    expect(values(text)).toEqual([]);
  });

  it('is high with a card word nearby, medium without', () => {
    expect(scanCards('Your Visa card: 4111 1111 1111 1111, thanks')[0]?.confidence).toBe('high');
    expect(scanCards('Kreditkarte 5555555555554444')[0]?.confidence).toBe('high');
    expect(scanCards('4111111111111111 CVV 123')[0]?.confidence).toBe('high');
    expect(scanCards('Reference number 4111111111111111 for your order')[0]?.confidence).toBe('medium');
  });

  it('reports where the number is', () => {
    const text = 'abc 4111 1111 1111 1111 def';
    const [hit] = scanCards(text);
    expect(hit && text.slice(hit.index, hit.index + hit.length)).toBe('4111 1111 1111 1111');
  });

  it('gives the digits alone as the value, so one card written two ways is one value', () => {
    expect(scanCards('4111 1111 1111 1111 and 4111-1111-1111-1111').map((h) => h.value)).toEqual([
      '4111111111111111',
      '4111111111111111',
    ]);
  });

  it('caps the hits', () => {
    expect(scanCards('4111111111111111 '.repeat(1500))).toHaveLength(1000);
  });

  it('checks Luhn and issuers', () => {
    expect(luhn('79927398713')).toBe(true);
    expect(luhn('79927398710')).toBe(false);
    expect(isCardNumber('4111111111111111')).toBe(true);
    expect(isCardNumber('0000000000000000')).toBe(false);
  });
});
