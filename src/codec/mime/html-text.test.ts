import { describe, expect, it } from 'vitest';
import { htmlToText } from './html-text.js';

describe('htmlToText', () => {
  it('keeps text, decodes entities, separates blocks and cells, joins inline formatting', () => {
    expect(htmlToText('<div>a &lt; b &amp;&amp; c&#x20AC;&#8364;&euro;&eacute;&unknown;</div>', 1000)).toBe('\na < b && c€€€é&unknown;\n');
    expect(htmlToText('1 < 2 and 3 > 2<br>4111<span>1111</span><i>1111</i>1111', 1000)).toBe('1 < 2 and 3 > 2\n4111111111111111');
    expect(htmlToText('<table><tr><th>Name</th><th>Card</th></tr><tr><td>A</td><td>4111</td></tr></table>', 1000)).toBe('\n\n\tName\tCard\n\n\tA\t4111\n\n');
  });

  it('drops scripts, styles, comments, the head and declarations', () => {
    expect(htmlToText('<!DOCTYPE html><html><head><title>t</title><style>a{}</style></head><body><!-- c -->x<SCRIPT>y()</SCRIPT>z</body></html>', 1000)).toBe('  xz  ');
  });

  it('stops at max characters', () => {
    expect(htmlToText(`<p>${'a'.repeat(100)}</p>`, 10)).toBe('\naaaaaaaaa');
  });
});
