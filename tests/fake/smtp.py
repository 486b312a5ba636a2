#!/usr/bin/env python3
"""smtp.py - a fake SMTP server for bounced's tests (RFC 5321 as far as a
submission client needs it).

Speaks EHLO/HELO, STARTTLS (RFC 3207, with the test-only certificate
smtp-test.crt / smtp-test.key beside this file), AUTH PLAIN and LOGIN
(RFC 4954, when a user is configured), MAIL FROM, RCPT TO, DATA (with
dot-stuffing undone, RFC 5321 4.5.2), RSET, NOOP, VRFY, QUIT.  Every
accepted message is recorded: envelope sender, recipients, the raw data,
whether the connection was under TLS and who had authenticated.

Failure injection, like the HTTP fakes: fail_code (e.g. 451 or 554) at
fail_at ('GREETING' at connect time, 'MAIL', 'RCPT' or 'DATA', the latter answered after the final
dot) for the next fail_count transactions.  require_tls refuses MAIL
before STARTTLS (530); with a user set, MAIL before AUTH is refused (530).
refuse_rcpts names recipients a relay does not know: RCPT TO of one of
them is answered 550 5.1.1 as Postfix answers an unknown local user, and
the transaction goes on with the others (RFC 5321 3.3: DATA is accepted
when one recipient was).

Listens on 127.0.0.1 only.  In-process: SmtpFake(...).start()/stop() or
a context manager; messages() gives the recorded ones.  As a program:
prints "READY <port>" once it listens, serves until SIGTERM/SIGINT, and
appends every accepted message to --log as one JSON line.

Error policy: protocol errors are answered with SMTP codes (500, 501,
503, 530, 535, 552, 554), never raised; only the constructor and
configure() raise ValueError on bad settings.
"""
import argparse
import base64
import binascii
import json
import os
import socketserver
import ssl
import threading
import time

try:
    from . import fakelib
except ImportError:
    import fakelib

HOST = '127.0.0.1'
HERE = os.path.dirname(os.path.abspath(__file__))
CERT = os.path.join(HERE, 'smtp-test.crt')   # test-only, self-signed
KEY = os.path.join(HERE, 'smtp-test.key')
MAX_LINE = 4096                 # bytes of a command line (RFC 5321: 512)
MAX_DATA = 10 << 20             # bytes of a message; more is 552
TIMEOUT = 30                    # seconds a client may stay silent
FAIL_POINTS = ('GREETING', 'MAIL', 'RCPT', 'DATA')


class _Conn:
    """The state of one connection."""

    def __init__(self):
        self.helo = None
        self.tls = False
        self.auth = None            # the user name once authenticated
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpts = []


class _Handler(socketserver.StreamRequestHandler):
    """One SMTP connection."""

    def setup(self):
        self.request.settimeout(TIMEOUT)
        super().setup()

    def finish(self):
        try:
            super().finish()
        except (OSError, ssl.SSLError):
            pass
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.close()     # the server closes only the plain one

    # ---- I/O -----------------------------------------------------------
    def reply(self, code, text):
        """One reply; TEXT may be a list (multi-line reply)."""
        lines = text if isinstance(text, list) else [text]
        out = ''.join('%d%s%s\r\n' % (code, '-' if i < len(lines) - 1 else ' ',
                                      l) for i, l in enumerate(lines))
        self.wfile.write(out.encode('ascii', 'replace'))
        self.wfile.flush()
        self.fake._note(self.conn_log, 'S', out.rstrip('\r\n'))

    def read_line(self):
        """A line without its CRLF, None at EOF, b'' + flag when too long."""
        line = self.rfile.readline(MAX_LINE + 2)
        if not line:
            return None
        if not line.endswith(b'\n'):
            # too long: drain the rest of it
            while line and not line.endswith(b'\n'):
                line = self.rfile.readline(MAX_LINE + 2)
            return False
        return line.rstrip(b'\r\n')

    # ---- the conversation ----------------------------------------------
    def handle(self):
        self.fake = self.server.fake
        self.conn = _Conn()
        self.conn_log = self.fake._new_connection()
        fail = self.fake._injection('GREETING')
        if fail:    # a relay refusing the client at connect time
            self.reply(*fail)
            return
        self.reply(220, '%s ESMTP fake ready' % self.fake.hostname)
        while True:
            try:
                line = self.read_line()
            except (OSError, ssl.SSLError):
                return
            if line is None:
                return
            if line is False:
                self.reply(500, '5.5.2 line too long')
                continue
            text = line.decode('utf-8', 'replace')
            verb, _, arg = text.partition(' ')
            verb = verb.upper()
            self.fake._note(self.conn_log, 'C',
                            verb + (' (credentials)' if verb == 'AUTH' else
                                    (' ' + arg if arg else '')))
            fn = getattr(self, 'smtp_' + verb, None)
            if fn is None:
                self.reply(500, '5.5.2 command not recognised')
                continue
            try:
                if fn(arg.strip()) == 'quit':
                    return
            except (OSError, ssl.SSLError):
                return

    def smtp_EHLO(self, arg):
        if not arg:
            return self.reply(501, '5.5.4 EHLO needs a domain')
        self.conn.helo = arg
        self.conn.reset()
        ext = ['%s greets %s' % (self.fake.hostname, arg),
               'SIZE %d' % MAX_DATA, '8BITMIME', 'ENHANCEDSTATUSCODES']
        if self.fake.starttls and not self.conn.tls:
            ext.append('STARTTLS')
        if self.fake.user is not None:
            ext.append('AUTH PLAIN LOGIN')
        ext.append('HELP')
        self.reply(250, ext)

    def smtp_HELO(self, arg):
        if not arg:
            return self.reply(501, '5.5.4 HELO needs a domain')
        self.conn.helo = arg
        self.conn.reset()
        self.reply(250, self.fake.hostname)

    def smtp_STARTTLS(self, arg):
        if not self.fake.starttls or self.conn.tls:
            return self.reply(502, '5.5.1 STARTTLS not available')
        if arg:
            return self.reply(501, '5.5.4 STARTTLS takes no argument')
        if not self.conn.helo:
            return self.reply(503, '5.5.1 EHLO first')
        self.reply(220, '2.0.0 ready to start TLS')
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.fake.cert, self.fake.key)
        try:
            conn = ctx.wrap_socket(self.request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.fake._note(self.conn_log, 'E', 'TLS handshake: %s' % e)
            raise
        self.request = self.connection = conn
        self.rfile = conn.makefile('rb')
        self.wfile = conn.makefile('wb')
        # RFC 3207: the client starts over with EHLO
        self.conn = _Conn()
        self.conn.tls = True
        self.conn_log['tls'] = True

    def _auth_ok(self, user, password):
        if user == self.fake.user and password == self.fake.password:
            self.conn.auth = user
            self.conn_log['auth'] = user
            return self.reply(235, '2.7.0 authentication successful')
        self.conn_log['auth_failed'] = self.conn_log.get('auth_failed', 0) + 1
        return self.reply(535, '5.7.8 authentication credentials invalid')

    def _challenge(self, prompt):
        """Send 334 PROMPT, return the decoded answer or None ('*' or bad)."""
        self.reply(334, base64.b64encode(prompt.encode()).decode()
                   if prompt else '')
        line = self.read_line()
        if not line or line == b'*':
            return None
        try:
            return base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            return None

    def smtp_AUTH(self, arg):
        if self.fake.user is None:
            return self.reply(502, '5.5.1 AUTH not available')
        if not self.conn.helo:
            return self.reply(503, '5.5.1 EHLO first')
        if self.conn.auth is not None:
            return self.reply(503, '5.5.1 already authenticated')
        mech, _, initial = arg.partition(' ')
        mech = mech.upper()
        if mech == 'PLAIN':
            if initial and initial != '=':
                try:
                    raw = base64.b64decode(initial, validate=True)
                except (binascii.Error, ValueError):
                    return self.reply(501, '5.5.2 bad base64')
            else:
                raw = self._challenge('')
                if raw is None:
                    return self.reply(501, '5.5.2 authentication cancelled')
            parts = raw.split(b'\0')
            if len(parts) != 3:
                return self.reply(501, '5.5.2 bad PLAIN response')
            return self._auth_ok(parts[1].decode('utf-8', 'replace'),
                                 parts[2].decode('utf-8', 'replace'))
        if mech == 'LOGIN':
            if initial:
                try:
                    user = base64.b64decode(initial, validate=True)
                except (binascii.Error, ValueError):
                    return self.reply(501, '5.5.2 bad base64')
            else:
                user = self._challenge('Username:')
            if user is None:
                return self.reply(501, '5.5.2 authentication cancelled')
            password = self._challenge('Password:')
            if password is None:
                return self.reply(501, '5.5.2 authentication cancelled')
            return self._auth_ok(user.decode('utf-8', 'replace'),
                                 password.decode('utf-8', 'replace'))
        return self.reply(504, '5.5.4 mechanism not supported')

    @staticmethod
    def _path(arg, keyword):
        """The address of 'KEYWORD:<addr> params', or None."""
        if not arg.upper().startswith(keyword):
            return None
        rest = arg[len(keyword):].strip()
        if not rest.startswith('<') or '>' not in rest:
            return None
        return rest[1:rest.index('>')]

    def smtp_MAIL(self, arg):
        if not self.conn.helo:
            return self.reply(503, '5.5.1 EHLO first')
        if self.conn.mail_from is not None:
            return self.reply(503, '5.5.1 nested MAIL command')
        if self.fake.require_tls and not self.conn.tls:
            return self.reply(530, '5.7.0 must issue a STARTTLS command first')
        if self.fake.user is not None and self.conn.auth is None:
            return self.reply(530, '5.7.0 authentication required')
        addr = self._path(arg, 'FROM:')
        if addr is None:
            return self.reply(501, '5.5.4 syntax: MAIL FROM:<address>')
        fail = self.fake._injection('MAIL')
        if fail:
            return self.reply(*fail)
        self.conn.mail_from = addr
        self.conn.rcpts = []
        self.reply(250, '2.1.0 ok')

    def smtp_RCPT(self, arg):
        if self.conn.mail_from is None:
            return self.reply(503, '5.5.1 need MAIL before RCPT')
        addr = self._path(arg, 'TO:')
        if not addr:
            return self.reply(501, '5.5.4 syntax: RCPT TO:<address>')
        if len(self.conn.rcpts) >= 100:
            return self.reply(452, '4.5.3 too many recipients')
        fail = self.fake._injection('RCPT')
        if fail:
            return self.reply(*fail)
        if addr.lower() in self.fake.refuse_rcpts:
            return self.reply(550, '5.1.1 <%s>: Recipient address rejected: '
                              'User unknown in local recipient table' % addr)
        self.conn.rcpts.append(addr)
        self.reply(250, '2.1.5 ok')

    def smtp_DATA(self, arg):
        if arg:
            return self.reply(501, '5.5.4 DATA takes no argument')
        if self.conn.mail_from is None or not self.conn.rcpts:
            return self.reply(503, '5.5.1 need RCPT before DATA')
        self.reply(354, 'end data with <CR><LF>.<CR><LF>')
        chunks, size, too_big = [], 0, False
        while True:
            line = self.rfile.readline(1 << 16)
            if not line:
                return 'quit'
            if line in (b'.\r\n', b'.\n'):
                break
            if line.startswith(b'.'):
                line = line[1:]         # undo dot-stuffing
            size += len(line)
            if size > MAX_DATA:
                too_big = True
            elif not too_big:
                chunks.append(line)
        mail_from, rcpts = self.conn.mail_from, self.conn.rcpts
        self.conn.reset()
        if too_big:
            return self.reply(552, '5.3.4 message too big')
        fail = self.fake._injection('DATA')
        if fail:
            return self.reply(*fail)
        if self.fake.refuse_content and \
                self.fake.refuse_content in b''.join(chunks):
            return self.reply(554, '5.7.1 message content rejected')
        seq = self.fake._record(mail_from, rcpts, b''.join(chunks),
                                self.conn.tls, self.conn.auth,
                                self.conn.helo)
        if self.fake.on_message:
            self.fake.on_message(seq)
        self.reply(250, '2.0.0 ok: queued as %d' % seq)

    def smtp_RSET(self, arg):
        self.conn.reset()
        self.reply(250, '2.0.0 ok')

    def smtp_NOOP(self, arg):
        self.reply(250, '2.0.0 ok')

    def smtp_VRFY(self, arg):
        self.reply(252, '2.5.0 cannot verify, will attempt delivery')

    def smtp_QUIT(self, arg):
        self.reply(221, '2.0.0 bye')
        return 'quit'


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpFake:
    """Fake SMTP server on 127.0.0.1 (see the module's doc)."""

    NAME = 'smtp'

    def __init__(self, port=0, user=None, password=None, starttls=True,
                 require_tls=False, cert=CERT, key=KEY, fail_code=None,
                 fail_at='MAIL', fail_count=0, hostname='fake-smtp.test',
                 log_path=None, on_message=None, refuse_content=None,
                 refuse_rcpts=()):
        if (user is None) != (password is None):
            raise ValueError('user and password go together')
        if require_tls and not starttls:
            raise ValueError('require_tls needs starttls')
        self.user, self.password = user, password
        self.starttls, self.require_tls = bool(starttls), bool(require_tls)
        self.cert, self.key = cert, key
        self.hostname = hostname
        self._port = port
        self._lock = threading.Lock()
        self._messages = []
        self._connections = []
        self._seq = 0
        self._log_file = open(log_path, 'a', encoding='utf-8') \
            if log_path else None
        self._server = None
        self._thread = None
        self._fail = {}
        # called (in-process use) once a message is recorded, before the
        # client is told 250: what the test does there comes before the
        # client knows the message went
        self.on_message = on_message
        # a content filter: a message holding these bytes is refused at
        # DATA with 554, every time
        self.refuse_content = refuse_content
        # recipients the relay does not know (550 5.1.1 at RCPT)
        self.refuse_rcpts = frozenset(a.lower() for a in refuse_rcpts)
        self.configure(fail_code=fail_code, fail_at=fail_at,
                       fail_count=fail_count)

    # ---- settings ------------------------------------------------------
    def configure(self, fail_code=None, fail_at='MAIL', fail_count=0):
        """Answer FAIL_CODE at FAIL_AT for the next FAIL_COUNT
        transactions (fail_code None or fail_count 0: no failures)."""
        if fail_code is not None and (isinstance(fail_code, bool) or
                                      not isinstance(fail_code, int) or
                                      not 400 <= fail_code <= 599):
            raise ValueError('fail_code must be an SMTP code 400..599')
        if fail_at not in FAIL_POINTS:
            raise ValueError('fail_at must be one of %s' % (FAIL_POINTS,))
        if isinstance(fail_count, bool) or not isinstance(fail_count, int) \
                or fail_count < 0:
            raise ValueError('fail_count must be an integer >= 0')
        with self._lock:
            self._fail = {'code': fail_code, 'at': fail_at,
                          'count': fail_count if fail_code else 0}

    def _injection(self, point):
        """(code, text) when this transaction must fail at POINT."""
        with self._lock:
            f = self._fail
            if f['count'] <= 0 or f['at'] != point:
                return None
            f['count'] -= 1
            code = f['code']
        cls = '4.0.0' if code < 500 else '5.0.0'
        return code, '%s injected failure at %s' % (cls, point)

    # ---- records -------------------------------------------------------
    def _new_connection(self):
        s = {'tls': False, 'auth': None, 'transcript': []}
        with self._lock:
            self._connections.append(s)
        return s

    def _note(self, conn, who, line):
        with self._lock:
            if len(conn['transcript']) < 1000:
                conn['transcript'].append('%s: %s' % (who, line))

    def _record(self, mail_from, rcpts, data, tls, auth, helo):
        with self._lock:
            self._seq += 1
            m = {'seq': self._seq, 'time': time.time(),
                 'mail_from': mail_from, 'rcpts': list(rcpts), 'data': data,
                 'tls': tls, 'auth': auth, 'helo': helo}
            self._messages.append(m)
            if self._log_file:
                j = dict(m, data=data.decode('utf-8', 'replace'))
                self._log_file.write(json.dumps(j) + '\n')
                self._log_file.flush()
            return self._seq

    def messages(self):
        """The accepted messages, oldest first: dicts with mail_from,
        rcpts, data (bytes as received, CRLF kept, dot-stuffing undone),
        tls, auth (user name or None), helo, seq, time."""
        with self._lock:
            return [dict(m, rcpts=list(m['rcpts'])) for m in self._messages]

    def connections(self):
        """Every connection: tls, auth, transcript ('C: ...' / 'S: ...'
        lines; AUTH arguments are not recorded)."""
        with self._lock:
            return [dict(s, transcript=list(s['transcript']))
                    for s in self._connections]

    def clear(self):
        with self._lock:
            self._messages.clear()
            self._connections.clear()

    # ---- serving -------------------------------------------------------
    @property
    def port(self):
        return self._server.server_address[1] if self._server else None

    @property
    def url(self):
        return 'smtp://%s:%d' % (HOST, self.port)

    def start(self):
        self._server = _Server((HOST, self._port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(prog='smtp', description=__doc__.split('\n')[0])
    ap.add_argument('--host', default=HOST, help='must be 127.0.0.1')
    ap.add_argument('--port', type=int, default=0, help='0 = any free port')
    ap.add_argument('--log', metavar='FILE',
                    help='append accepted messages as JSON lines')
    ap.add_argument('--user', help='require AUTH with this user')
    ap.add_argument('--password', help='and this password')
    ap.add_argument('--no-starttls', action='store_true',
                    help='do not offer STARTTLS')
    ap.add_argument('--require-tls', action='store_true',
                    help='refuse MAIL before STARTTLS')
    ap.add_argument('--cert', default=CERT)
    ap.add_argument('--key', default=KEY)
    ap.add_argument('--fail-code', type=int)
    ap.add_argument('--fail-at', default='MAIL', choices=FAIL_POINTS)
    ap.add_argument('--fail-count', type=int, default=0)
    ap.add_argument('--hostname', default='fake-smtp.test')
    args = ap.parse_args(argv)
    if args.host != HOST:
        ap.error('--host must be %s (the fakes never listen elsewhere)' % HOST)
    try:
        fake = SmtpFake(port=args.port, user=args.user, password=args.password,
                        starttls=not args.no_starttls,
                        require_tls=args.require_tls, cert=args.cert,
                        key=args.key, fail_code=args.fail_code,
                        fail_at=args.fail_at, fail_count=args.fail_count,
                        hostname=args.hostname, log_path=args.log)
    except (ValueError, OSError) as e:
        ap.error(str(e))
    return fakelib.serve(fake, 'smtp', args.port)


if __name__ == '__main__':
    raise SystemExit(main())
