/**
 * The console's page frame: server-rendered HTML, every text escaped, one
 * stylesheet and one script served from /console/static (the CSP allows only
 * 'self'), no inline script or style.
 */
import { escapeHtml as e } from '../report/escape.js';
import type { Session } from './sessions.js';

export { e as escapeHtml };

export interface NavItem {
  readonly href: string;
  readonly label: string;
}

/** A POST form with the session's CSRF token as a hidden field. */
export function form(s: Session, action: string, inner: string, attrs = ''): string {
  return `<form method="post" action="${e(action)}"${attrs ? ` ${attrs}` : ''}><input type="hidden" name="csrf" value="${e(s.csrf)}">${inner}</form>`;
}

export function page(title: string, s: Session | null, body: string, nav: readonly NavItem[] = []): string {
  const who =
    s && s.stage === 'full' && s.address
      ? `<div class="who">${e(s.address)} <small>(${e(s.roles.join(', '))})</small> ${form(s, '/console/logout', '<button type="submit">Log out</button>', 'class="inline"')}</div>`
      : '';
  const links = nav.map((n) => `<a href="${e(n.href)}">${e(n.label)}</a>`).join(' ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${e(title)} — postern</title>`,
    '<link rel="stylesheet" href="/console/static/console.css">',
    '<script src="/console/static/console.js" defer></script>',
    '</head><body>',
    `<header><strong>postern</strong> <nav>${links}</nav>${who}</header>`,
    `<main><h1>${e(title)}</h1>${body}</main>`,
    '</body></html>',
  ].join('');
}

// The report's charts colour their legend with inline styles, which the console's CSP does not allow: same colours here.
const LEGEND = ['#2a7f62', '#c0392b', '#2c6fbb', '#d68910', '#7d3c98', '#5d6d7e', '#17a589', '#a04000']
  .map((c, i) => `.legend .key:nth-of-type(${i + 1}) i{background:${c}}`)
  .join('');

export const CSS = `${LEGEND}
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1f3a4d;color:#fff}
header a{color:#cfe3f1;margin-right:1em}header .who{margin-left:auto}
main{max-width:64em;margin:1em auto;padding:0 1em}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0}td,th{padding:.25em .7em;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
form.inline{display:inline}label{display:block;margin:.5em 0}label.inline{display:inline;margin:0 .4em 0 0}input[type=text],input[type=password]{width:20em;padding:.3em}
button{padding:.3em .9em}.error{color:#b00;font-weight:bold}.ok{color:#070}.muted{color:#666}
figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}svg text{font:11px sans-serif;fill:#444}
.legend{font-size:12px}.key i{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .8em;background:#999}
code{background:#f3f3f3;padding:0 .2em;word-break:break-all}td.when{white-space:nowrap}.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;padding:.6em 1em;min-width:12em}
.card b{font-size:1.5em;display:block}`;
