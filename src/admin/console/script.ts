/**
 * The console's only script, served from /console/static/console.js (the CSP
 * allows script-src 'self' and nothing inline). It drives WebAuthn: asks the
 * server for options, calls navigator.credentials, and posts the result back
 * with the page's CSRF token. No library, nothing loaded from elsewhere.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  function b64u(buf) {
    var s = '', b = new Uint8Array(buf);
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  }
  function unb64u(str) {
    var s = atob(str.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((str.length + 3) % 4));
    var b = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return b.buffer;
  }
  function post(url, body) {
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || ('HTTP ' + r.status)); return j; }); });
  }
  function ids(list) {
    return (list || []).map(function (c) { return { id: unb64u(c.id), type: c.type, transports: c.transports }; });
  }
  function register(csrf) {
    return post('/console/webauthn/register-options', { csrf: csrf }).then(function (o) {
      o.challenge = unb64u(o.challenge);
      o.user.id = unb64u(o.user.id);
      o.excludeCredentials = ids(o.excludeCredentials);
      return navigator.credentials.create({ publicKey: o });
    }).then(function (c) {
      var r = c.response;
      return post('/console/webauthn/register-verify', { csrf: csrf, response: {
        id: c.id, rawId: b64u(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(),
        authenticatorAttachment: c.authenticatorAttachment || undefined,
        response: { clientDataJSON: b64u(r.clientDataJSON), attestationObject: b64u(r.attestationObject), transports: r.getTransports ? r.getTransports() : [] } } });
    });
  }
  function login(csrf) {
    return post('/console/webauthn/auth-options', { csrf: csrf }).then(function (o) {
      o.challenge = unb64u(o.challenge);
      o.allowCredentials = ids(o.allowCredentials);
      return navigator.credentials.get({ publicKey: o });
    }).then(function (c) {
      var r = c.response;
      return post('/console/webauthn/auth-verify', { csrf: csrf, response: {
        id: c.id, rawId: b64u(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(),
        authenticatorAttachment: c.authenticatorAttachment || undefined,
        response: { clientDataJSON: b64u(r.clientDataJSON), authenticatorData: b64u(r.authenticatorData), signature: b64u(r.signature),
          userHandle: r.userHandle ? b64u(r.userHandle) : undefined } } });
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    var forms = document.querySelectorAll('form[data-webauthn]');
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener('submit', function (ev) {
        ev.preventDefault();
        var f = ev.currentTarget, out = f.querySelector('.status');
        var csrf = f.querySelector('input[name=csrf]').value;
        if (!window.PublicKeyCredential) { out.textContent = 'This browser has no WebAuthn.'; return; }
        out.textContent = 'Touch your security key…';
        (f.getAttribute('data-webauthn') === 'register' ? register(csrf) : login(csrf))
          .then(function (j) { location.assign(j.next); })
          .catch(function (e) { out.textContent = 'Failed: ' + e.message; });
      });
    }
  });
})();
`;
