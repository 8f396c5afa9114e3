# One connection per call, from a chosen loopback source address, trying the
# given passwords in order with Python's own clients (imaplib, poplib,
# smtplib). Prints one JSON list: "ok", "no: <reply>" or "closed" per try.
import imaplib, json, os, poplib, smtplib, socket, ssl, sys

cfg = json.loads(os.environ['LOGIN_CFG'])
ctx = ssl.create_default_context(cafile=cfg['ca'])
ctx.check_hostname = False
src = (cfg['src'], 0)
out = []

def imap():
    class C(imaplib.IMAP4_SSL):
        def _create_socket(self, timeout):
            return ctx.wrap_socket(socket.create_connection((self.host, self.port), 20, source_address=src))
    c = C('127.0.0.1', cfg['port'], ssl_context=ctx)
    for p in cfg['passwords']:
        try:
            c.login(cfg['user'], p)
            out.append('ok')
            c.logout()
            return
        except imaplib.IMAP4.abort:
            out.append('closed')
            return
        except imaplib.IMAP4.error as e:
            out.append('no: ' + str(e))
            c.state = 'NONAUTH'
        except (OSError, EOFError):
            out.append('closed')
            return
    try:
        c.noop()
    except Exception:
        out.append('closed')

def pop3():
    class C(poplib.POP3_SSL):
        def _create_socket(self, timeout):
            return ctx.wrap_socket(socket.create_connection((self.host, self.port), 20, source_address=src))
    c = C('127.0.0.1', cfg['port'], context=ctx)
    for p in cfg['passwords']:
        try:
            c.user(cfg['user'])
            c.pass_(p)
            out.append('ok')
            c.quit()
            return
        except poplib.error_proto as e:
            out.append('no: ' + e.args[0].decode('latin1'))
        except (OSError, EOFError):
            out.append('closed')
            return

def smtp():
    s = smtplib.SMTP_SSL('127.0.0.1', cfg['port'], context=ctx, timeout=20, source_address=src)
    s.ehlo('client.example.test')
    for p in cfg['passwords']:
        try:
            # One mechanism per try: login() would retry with LOGIN after a failed PLAIN.
            s.user, s.password = cfg['user'], p
            code, resp = s.auth('PLAIN', s.auth_plain, initial_response_ok=True)
            out.append('ok')
            s.quit()
            return
        except smtplib.SMTPAuthenticationError as e:
            out.append('no: %d %s' % (e.smtp_code, e.smtp_error.decode('latin1')))
        except (smtplib.SMTPServerDisconnected, OSError):
            out.append('closed')
            return

try:
    {'imap': imap, 'pop3': pop3, 'smtp': smtp}[cfg['proto']]()
except (OSError, EOFError, smtplib.SMTPServerDisconnected) as e:
    out.append('closed')
print(json.dumps(out))
