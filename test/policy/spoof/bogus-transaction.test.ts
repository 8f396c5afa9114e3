import { describe, expect, it } from 'vitest';
import { fraudPhrases } from '../../../src/policy/spoof/phrases.js';
import { basicHeaders, inbound, message, results, run } from './helpers.js';

const cats = (text: string) => fraudPhrases(text).map((f) => f.category);

describe('bogus-transaction phrases', () => {
  it('finds payment changes, urgent transfers and gift cards in English and German', () => {
    expect(cats('Please note our bank details have changed, kindly use the new IBAN below.')).toContain('payment-change');
    expect(cats('Update payment details for invoice 4711')).toEqual(['payment-change']);
    expect(cats('Unsere Bankverbindung hat sich geändert, bitte nur noch auf das neue Konto überweisen.')).toContain('payment-change');
    expect(cats('I need you to process an urgent wire transfer today.')).toContain('urgent-transfer');
    expect(cats('Bitte veranlassen Sie dringend eine Überweisung an unseren Lieferanten.')).toEqual(['urgent-transfer']);
    expect(cats('Buy 5 Google Play gift cards and send me pictures of the codes.')).toEqual(['gift-cards']);
    expect(cats('Kannst du mir schnell Geschenkkarten kaufen?')).toEqual(['gift-cards']);
  });

  it('needs the words close together', () => {
    expect(cats('We changed our office hours.')).toEqual([]);
    const far = `Our plans changed. ${'filler words go here '.repeat(10)} Our IBAN is on the invoice.`;
    expect(cats(far)).toEqual([]);
    expect(cats('Thank you, your payment was received today.')).toEqual([]);
    expect(cats('Welcome! Here are your new account details and your username.')).toEqual([]);
    expect(cats('Willkommen, Ihr neues Konto ist bereit.')).toEqual([]);
    expect(cats('What is new in Swift 6: the language changed a lot.')).toEqual([]);
    expect(cats('Please make this payment urgently, the supplier is waiting.')).toEqual(['urgent-transfer']);
    expect(cats('The conference is urgent in tone. Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod payment.')).toEqual([]);
  });
});

describe('bogus-transaction', () => {
  const body = 'Dear colleague,\r\nour bank account has changed. Please update your records with our new IBAN.\r\n';

  it('flags an outside request and one from a lookalike', () => {
    const raw = message(basicHeaders('Supplier <ap@supplier.test>'), body);
    const f = run(raw, inbound('ap@supplier.test'), undefined, 'bogus-transaction');
    expect(results(f)).toEqual(['bogus-transaction=payment-change']);
    expect(f[0]!.origin).toBe('outside');
  });

  it('reads the subject and HTML bodies', () => {
    const raw = message([...basicHeaders('x@vendor.test').filter((h) => !h.startsWith('Subject')), 'Subject: =?utf-8?q?Dringend=3A_=C3=9Cberweisung_heute?=', 'Content-Type: text/html; charset=utf-8'], '<html><body><p>Hallo</p></body></html>\r\n');
    expect(results(run(raw, inbound('x@vendor.test'), undefined, 'bogus-transaction'))).toEqual(['bogus-transaction=urgent-transfer']);
    const html = message([...basicHeaders('x@vendor.test'), 'Content-Type: text/html'], '<html><body><b>Gift</b> <i>cards</i>: please <a href="#">buy</a> them<script>var iban="x"</script></body></html>\r\n');
    expect(results(run(html, inbound('x@vendor.test'), undefined, 'bogus-transaction'))).toEqual(['bogus-transaction=gift-cards']);
  });

  it('never flags a logged-in sender of ours, and leaves list mail alone unless the sender is a lookalike', () => {
    const own = message(basicHeaders('ap@example.test'), body);
    expect(run(own, inbound('ap@example.test', { listener: 'submission', authUser: 'ap@example.test' }), undefined, 'bogus-transaction')).toEqual([]);
    const list = message(basicHeaders('news@bank.test', ['List-Id: <news.bank.test>']), body);
    expect(run(list, inbound('news@bank.test'), undefined, 'bogus-transaction')).toEqual([]);
    const spoofList = message(basicHeaders('news@examp1e.test', ['List-Id: <news.examp1e.test>']), body);
    expect(results(run(spoofList, inbound('news@examp1e.test'), undefined, 'bogus-transaction'))).toEqual(['bogus-transaction=payment-change']);
  });

  it('does not flag ordinary mail', () => {
    const raw = message(basicHeaders('friend@vendor.test'), 'See you at the meeting on Friday. The payment terms are in the contract.\r\n');
    expect(run(raw, inbound('friend@vendor.test'), undefined, 'bogus-transaction')).toEqual([]);
  });
});
