import { describe, expect, it } from 'vitest';
import { attr, decodeEntities, readXml } from './xml.js';

function events(xml: string): string[] {
  const out: string[] = [];
  readXml(xml, {
    open: (n, a, sc) => out.push(`<${n}${a}${sc ? '/' : ''}>`),
    close: (n) => out.push(`</${n}>`),
    text: (s) => out.push(s),
    done: () => false,
  });
  return out;
}

describe('readXml', () => {
  it('reports elements and text, skipping prolog, DOCTYPE, comments; CDATA as text', () => {
    expect(events('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><a k="1>2"><!-- c --><b/>t&amp;&e;<![CDATA[<raw>]]></a>')).toEqual([
      ']>',
      '<a k="1>2">',
      '<b/>',
      '</b>',
      't&&e;',
      '<raw>',
      '</a>',
    ]);
  });

  it('decodes the XML entities and character references only', () => {
    expect(decodeEntities('&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#xD800;&nbsp;&')).toBe('<>&"\'AB&#xD800;&nbsp;&');
  });

  it('reads attributes in either quote', () => {
    expect(attr(` r="A1" t='s' x="a&amp;b"`, 't')).toBe('s');
    expect(attr(` r="A1" x="a&amp;b"`, 'x')).toBe('a&b');
    expect(attr(` r="A1"`, 't')).toBeNull();
  });

  it('stops when the handler is done', () => {
    let n = 0;
    readXml('<a>1</a><a>2</a><a>3</a>', { open: () => n++, close: () => undefined, text: () => undefined, done: () => n >= 2 });
    expect(n).toBe(2);
  });
});
