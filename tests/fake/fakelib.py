"""fakelib.py - what the fake campaign-tool servers of bounced's tests share.

A FakeServer is a threaded HTTP/1.1 server (keep-alive, Content-Length on
every answer) bound to 127.0.0.1 only.  It keeps a call log of every
request it answers, can be told to be slow or to fail (latency, an HTTP
status for the next N requests or a seeded fraction of them, Retry-After,
connections dropped without an answer), and has a small control API under
/__fake/ that is never logged:

  GET    /__fake/calls      the call log (JSON list)
  DELETE /__fake/calls      clear it
  GET    /__fake/config     the failure-injection settings
  POST   /__fake/config     change them (JSON object, see configure())
  GET    /__fake/data       the fake's data (subclasses)
  POST   /__fake/data       replace it (subclasses)
  GET    /__fake/health     {"status":"ok","name":...,"port":...}
  POST   /__fake/shutdown   answer, then stop the server

It runs either in-process (start()/stop()/port/calls()/received()) or as a program
(run_main(): prints "READY <port>" on stdout once it listens, stops on
SIGTERM/SIGINT or /__fake/shutdown).  Subclasses implement handle().

Error policy: bad requests are answered (400, 411, 413, ...), never raised;
an exception in handle() becomes a 500 with the traceback in the call log.
Only the constructor and configure() raise (ValueError) on bad settings.
"""
import argparse
import json
import random
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

HOST = '127.0.0.1'
MAX_BODY = 1 << 20          # bodies over 1 MiB are refused with 413
MAX_DRAIN = 16 << 20       # larger ones are not read before the 413
MAX_CALLS = 100000          # oldest call-log entries are dropped past this
CONTROL = '/__fake/'

CONFIG_DEFAULTS = {
    'latency_ms': 0,        # sleep this long before answering any request
    'fail_status': 503,     # status answered by injected failures
    'fail_body': 'text',    # their body: 'text' (one line) or 'html' (a page)
    'fail_count': 0,        # answer the next N requests with fail_status
    'fail_rate': 0.0,       # answer this fraction of requests with it
    'retry_after': None,    # Retry-After seconds sent with injected 429/503
    'drop': 0,              # close the next N connections without answering
    'match': None,          # inject only into requests containing this text
    # more than one injection at once: a list of {"match": TEXT,
    # "status": CODE, "count": N}, each answering its next N matching
    # requests with CODE (looked at before the settings above)
    'fail_rules': [],
}


class HttpError(Exception):
    """An answer decided while reading the request (status, message)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    """One request as a handler sees it."""

    def __init__(self, method, target, headers, body, client):
        split = urlsplit(target)
        self.method = method
        self.target = target
        self.path = split.path
        self.raw_query = split.query
        self.query_pairs = parse_qsl(split.query, keep_blank_values=True)
        self.query = dict(self.query_pairs)      # last value wins, like PHP
        self.headers = headers                   # lower-case name -> value
        self.body = body
        self.client = client

    def header(self, name, default=None):
        """The value of header NAME (any case), or DEFAULT."""
        return self.headers.get(name.lower(), default)

    def text(self):
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode('utf-8', 'replace')


class Response:
    """One answer: status, body bytes, content type, extra headers."""

    def __init__(self, status, body=b'', content_type='text/plain; charset=utf-8',
                 headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode('utf-8')
        self.content_type = content_type
        self.headers = dict(headers or {})


def json_response(status, obj, headers=None):
    """A JSON answer."""
    return Response(status, json.dumps(obj).encode('utf-8'),
                    'application/json; charset=utf-8', headers)


def text_response(status, text, content_type='text/plain; charset=utf-8'):
    """A text answer."""
    return Response(status, text, content_type)


def html_error_page(status):
    """An HTML error page of about 5 KiB: head with title, style and
    script, a body with a heading, a paragraph and a long trace."""
    frames = ''.join('<li>#%d /srv/app/vendor/framework/src/Http/Kernel.php'
                     '(%d): Kernel->handle(Request)</li>\n' % (i, 100 + i)
                     for i in range(50))
    return ('<!DOCTYPE html>\r\n<html lang="en">\r\n<head>\r\n'
            '<meta charset="utf-8">\r\n'
            '<title>%d Injected\r\n   Failure</title>\r\n'
            '<style>body{font:14px sans-serif}h1{color:#b00}</style>\r\n'
            '<script>window.trace = "\\u0007";</script>\r\n'
            '</head>\r\n<body>\r\n<h1>Whoops, something went wrong</h1>\r\n'
            '<p>The server could not complete the request &amp; logged '
            'it.</p>\r\n<ol>\r\n%s</ol>\r\n</body>\r\n</html>\r\n'
            % (status, frames))


class _HTTPServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a client that went away (killed by a test) is not an error
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self):
        # skip HTTPServer's getfqdn(), which may wait on DNS
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'bounced-fake/1'
    disable_nagle_algorithm = True  # headers and body are two writes
    timeout = 30            # idle keep-alive connections close after this

    def setup(self):
        super().setup()
        self.server.fake._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, False)

    def log_message(self, format, *args):   # noqa: A002 (base class name)
        pass

    def version_string(self):
        return self.server_version

    def handle_expect_100(self):
        # never invite a body that will be refused: answer 413 instead
        try:
            if int(self.headers.get('Content-Length', '0')) > MAX_BODY:
                return True
        except ValueError:
            return True
        return super().handle_expect_100()

    def _any(self):
        self.server.fake._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _any


def _read_chunked(rfile):
    """A chunked body, bounded by MAX_BODY."""
    out = bytearray()
    while True:
        line = rfile.readline(1026)
        if not line.endswith(b'\n'):
            raise HttpError(400, 'bad chunk size line')
        try:
            size = int(line.split(b';', 1)[0].strip(), 16)
        except ValueError:
            raise HttpError(400, 'bad chunk size line') from None
        if size < 0 or len(out) + size > MAX_BODY:
            raise HttpError(413, 'request body over %d bytes' % MAX_BODY)
        if size == 0:
            break
        data = rfile.read(size)
        if len(data) != size or rfile.readline(3) not in (b'\r\n', b'\n'):
            raise HttpError(400, 'truncated chunk')
        out += data
    for _ in range(100):                        # trailers, then a blank line
        line = rfile.readline(8194)
        if line in (b'\r\n', b'\n', b''):
            return bytes(out)
    raise HttpError(400, 'too many trailer lines')


def read_body(handler, need_length=True):
    """The request body of HANDLER; raises HttpError (the connection must
    then be closed, the body may be unread).  A POST or PUT without
    Content-Length (nor chunked) is refused with 411 when NEED_LENGTH."""
    te = handler.headers.get('Transfer-Encoding')
    cl = handler.headers.get('Content-Length')
    if te is not None:
        if te.strip().lower() != 'chunked':
            raise HttpError(501, 'unsupported Transfer-Encoding %r' % te)
        return _read_chunked(handler.rfile)
    if cl is None:
        if need_length and handler.command in ('POST', 'PUT'):
            raise HttpError(411, 'Content-Length required')
        return b''
    if not cl.strip().isdigit():
        raise HttpError(400, 'bad Content-Length %r' % cl)
    n = int(cl)
    if n > MAX_BODY:
        # drain a moderately large body (unless the client waits for
        # 100-continue) so that the client reads the 413, not a reset
        if n <= MAX_DRAIN and handler.headers.get('Expect') is None:
            while n > 0:
                chunk = handler.rfile.read(min(n, 65536))
                if not chunk:
                    break
                n -= len(chunk)
        raise HttpError(413, 'request body over %d bytes' % MAX_BODY)
    data = handler.rfile.read(n)
    if len(data) != n:
        raise HttpError(400, 'body shorter than Content-Length')
    return data


def _check_config(key, value):
    """VALUE checked and normalised for setting KEY; raises ValueError."""
    def number(lo, hi, kind):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError('%s must be a number' % key)
        if kind is int and value != int(value):
            raise ValueError('%s must be an integer' % key)
        if not lo <= value <= hi:
            raise ValueError('%s must be in %s..%s' % (key, lo, hi))
        return kind(value)

    if key == 'latency_ms':
        return number(0, 60000, float)
    if key == 'fail_body':
        if value not in ('text', 'html'):
            raise ValueError("fail_body must be 'text' or 'html'")
        return value
    if key == 'fail_status':
        return number(100, 599, int)
    if key in ('fail_count', 'drop'):
        return number(0, 10 ** 9, int)
    if key == 'fail_rate':
        return number(0, 1, float)
    if key == 'retry_after':
        return None if value is None else number(0, 86400, int)
    if key == 'match':
        if value is not None and not isinstance(value, str):
            raise ValueError('match must be a string or null')
        return value or None
    if key == 'fail_rules':
        if not isinstance(value, list) or len(value) > 16:
            raise ValueError('fail_rules must be a list of at most 16 rules')
        rules = []
        for r in value:
            if (not isinstance(r, dict) or set(r) != {'match', 'status',
                                                      'count'} or
                    not isinstance(r['match'], str) or not r['match'] or
                    not isinstance(r['status'], int) or
                    not 100 <= r['status'] <= 599 or
                    not isinstance(r['count'], int) or r['count'] < 0):
                raise ValueError('a fail rule is {"match": TEXT, "status": '
                                 'CODE, "count": N}')
            rules.append(dict(r))
        return rules
    raise ValueError('unknown setting %r' % key)


class FakeServer:
    """Base of the fakes.  Subclasses set NAME and implement handle(),
    and get_data()/set_data() when they hold data."""

    NAME = 'fake'
    EXTRA_CONFIG = {}       # subclass settings: name -> default

    def __init__(self, host=HOST, port=0, log_path=None, seed=0, **config):
        if host != HOST:
            raise ValueError('the fakes listen on %s only, not %r' % (HOST, host))
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError('bad port %r' % (port,))
        self.host = host
        self._want_port = port
        self._log_path = log_path
        self._log_file = None
        self._lock = threading.RLock()
        self._calls = []
        self._received = 0
        self._seq = 0
        self._seed = seed
        self._rng = random.Random(seed)
        self._cfg = dict(CONFIG_DEFAULTS, **self.EXTRA_CONFIG)
        self._httpd = None
        self._thread = None
        self._conns = set()
        self._done = threading.Event()
        self.configure(**config)

    # ---- life cycle --------------------------------------------------
    def start(self):
        """Listen and serve in a background thread; returns self."""
        if self._log_path:
            self._log_file = open(self._log_path, 'a', encoding='utf-8')
        self._httpd = _HTTPServer((self.host, self._want_port), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        name='%s-server' % self.NAME,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, close open connections and the log file."""
        with self._lock:
            httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            with self._lock:
                conns = list(self._conns)
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                if self._log_file:
                    self._log_file.close()
                    self._log_file = None
        self._done.set()

    def wait(self, timeout=None):
        """Wait until the server has stopped; True when it has."""
        return self._done.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        """The port listened on (known after start())."""
        return self._httpd.server_address[1] if self._httpd else None

    @property
    def url(self):
        """http://127.0.0.1:PORT"""
        return 'http://%s:%d' % (self.host, self.port)

    def _track(self, conn, add):
        with self._lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    # ---- call log and settings ---------------------------------------
    def calls(self):
        """A copy of the call log (list of dicts, oldest first)."""
        with self._lock:
            return json.loads(json.dumps(self._calls))

    def received(self):
        """How many requests were read so far (control ones aside),
        answered or still being answered: a test waits on this for
        requests under way at a slow fake."""
        with self._lock:
            return self._received

    def clear_calls(self):
        """Empty the call log."""
        with self._lock:
            self._calls = []

    def config(self):
        """The current failure-injection settings."""
        with self._lock:
            return dict(self._cfg, seed=self._seed)

    def configure(self, **settings):
        """Change settings (CONFIG_DEFAULTS keys, EXTRA_CONFIG keys, seed,
        reset=True for all defaults); raises ValueError, changing nothing."""
        new = {}
        reset = settings.pop('reset', False)
        seed = settings.pop('seed', None)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError('seed must be an integer')
        for k, v in settings.items():
            if k in self.EXTRA_CONFIG:
                new[k] = self.check_extra_config(k, v)
            else:
                new[k] = _check_config(k, v)
        with self._lock:
            if reset:
                self._cfg = dict(CONFIG_DEFAULTS, **self.EXTRA_CONFIG)
            self._cfg.update(new)
            if seed is not None:
                self._seed = seed
                self._rng = random.Random(seed)

    def check_extra_config(self, key, value):
        """Subclasses: VALUE checked for their setting KEY."""
        raise ValueError('unknown setting %r' % key)

    def setting(self, key):
        """The current value of one setting."""
        with self._lock:
            return self._cfg[key]

    # ---- subclass hooks ----------------------------------------------
    def handle(self, req, entry):
        """Answer REQ (a Request) with a Response; may add keys to ENTRY,
        the call-log entry of this request."""
        return json_response(404, {'status': 'error', 'error': 'not found'})

    def failure_response(self, status):
        """The answer of an injected failure: one line of text, or (setting
        fail_body 'html') an error page of about 5 KiB as a proxy or PHP
        sends it, whose <title> is "STATUS Injected Failure"."""
        if self.setting('fail_body') == 'html':
            return text_response(status, html_error_page(status),
                                 'text/html; charset=utf-8')
        return text_response(status, 'injected failure %d\n' % status)

    def get_data(self):
        """The fake's data as JSON-able object."""
        return {}

    def set_data(self, obj):
        """Replace the fake's data; raises ValueError on a bad shape."""
        raise ValueError('this fake holds no data')

    # ---- serving -----------------------------------------------------
    def _injection(self, req):
        """None, 'drop' or an HTTP status for this request."""
        with self._lock:
            cfg = self._cfg
            seen = '%s %s\n%s' % (req.method, req.target, req.text())
            for r in cfg['fail_rules']:
                if r['count'] > 0 and r['match'] in seen:
                    r['count'] -= 1
                    return r['status']
            if cfg['match'] and cfg['match'] not in seen:
                return None
            if cfg['drop'] > 0:
                cfg['drop'] -= 1
                return 'drop'
            if cfg['fail_count'] > 0:
                cfg['fail_count'] -= 1
                return cfg['fail_status']
            if cfg['fail_rate'] > 0 and self._rng.random() < cfg['fail_rate']:
                return cfg['fail_status']
        return None

    def _log(self, entry):
        with self._lock:
            self._seq += 1
            entry['seq'] = self._seq
            self._calls.append(entry)
            if len(self._calls) > MAX_CALLS:
                del self._calls[:len(self._calls) - MAX_CALLS]
            if self._log_file:
                self._log_file.write(json.dumps(entry) + '\n')
                self._log_file.flush()

    @staticmethod
    def _headers(handler):
        out = {}
        for k, v in handler.headers.items():
            k = k.lower()
            out[k] = out[k] + ', ' + v if k in out else v
        return out

    @staticmethod
    def _write(handler, resp):
        handler.send_response(resp.status)
        for k, v in resp.headers.items():
            handler.send_header(k, str(v))
        if resp.status in (204, 304):       # no body, no Content-Length
            resp.body = b''
        else:
            handler.send_header('Content-Type', resp.content_type)
            handler.send_header('Content-Length', str(len(resp.body)))
        if handler.close_connection:
            handler.send_header('Connection', 'close')
        handler.end_headers()
        handler.wfile.write(resp.body)
        handler.wfile.flush()

    def _serve(self, handler):
        t0 = time.time()
        headers = self._headers(handler)
        control = urlsplit(handler.path).path.startswith(CONTROL)
        try:
            body = read_body(handler, need_length=not control)
            err = None
        except HttpError as e:
            body, err = b'', e
            handler.close_connection = True
        req = Request(handler.command, handler.path, headers, body,
                      handler.client_address[0])
        if control:
            resp, after = (text_response(err.status, err.message + '\n'), None) \
                if err else self._control(req)
            self._write(handler, resp)
            if after:
                threading.Thread(target=after, daemon=True).start()
            return
        with self._lock:
            self._received += 1
        entry = {'time': t0, 'method': req.method, 'path': req.path,
                 'target': req.target, 'query': req.query, 'headers': headers,
                 'body': req.text(), 'parsed': None, 'status': None}
        if err:
            resp = text_response(err.status, err.message + '\n')
        else:
            latency = self.setting('latency_ms')
            inj = self._injection(req)
            if latency:
                time.sleep(latency / 1000.0)
            if inj == 'drop':
                entry.update(dropped=True,
                             duration_ms=round((time.time() - t0) * 1000, 3))
                handler.close_connection = True
                self._log(entry)
                return
            if inj is not None:
                resp = self.failure_response(inj)
                entry['injected'] = True
                ra = self.setting('retry_after')
                if ra is not None and inj in (429, 503):
                    resp.headers['Retry-After'] = str(ra)
            else:
                try:
                    resp = self.handle(req, entry)
                except Exception:                       # noqa: BLE001
                    entry['error'] = traceback.format_exc()
                    resp = text_response(500, 'fake crashed\n')
        entry['status'] = resp.status
        entry['duration_ms'] = round((time.time() - t0) * 1000, 3)
        self._log(entry)                # before answering: tests see it at once
        self._write(handler, resp)

    def _control(self, req):
        """(Response, action to run after answering) for a /__fake/ route."""
        what = req.path[len(CONTROL):].strip('/')
        m = req.method
        ok = {'status': 'ok'}
        try:
            if what == 'calls' and m == 'GET':
                return json_response(200, self.calls()), None
            if what == 'calls' and m == 'DELETE':
                self.clear_calls()
                return json_response(200, ok), None
            if what == 'config' and m == 'GET':
                return json_response(200, self.config()), None
            if what == 'config' and m == 'POST':
                obj = json.loads(req.body or b'{}')
                if not isinstance(obj, dict):
                    raise ValueError('a JSON object is expected')
                self.configure(**obj)
                return json_response(200, self.config()), None
            if what == 'data' and m == 'GET':
                return json_response(200, self.get_data()), None
            if what == 'data' and m == 'POST':
                self.set_data(json.loads(req.body or b'null'))
                return json_response(200, ok), None
            if what in ('', 'health') and m == 'GET':
                return json_response(200, {'status': 'ok', 'name': self.NAME,
                                           'port': self.port}), None
            if what == 'shutdown' and m in ('POST', 'GET'):
                return json_response(200, ok), self.stop
        except (ValueError, TypeError) as e:
            return json_response(400, {'status': 'error', 'error': str(e)}), None
        if what in ('calls', 'config', 'data', 'health', 'shutdown', ''):
            return json_response(405, {'status': 'error',
                                       'error': 'method not allowed'}), None
        return json_response(404, {'status': 'error',
                                   'error': 'no control route %r' % what}), None

    # ---- command line ------------------------------------------------
    @classmethod
    def add_arguments(cls, ap):
        """Subclasses: add their options to argparse parser AP."""

    @classmethod
    def kwargs_from_args(cls, args):
        """Subclasses: constructor keywords from their options."""
        return {}

    def load_data_file(self, path):
        """Replace the data with the JSON of file PATH."""
        with open(path, encoding='utf-8') as f:
            self.set_data(json.load(f))


def common_arguments(ap):
    """The options every fake takes."""
    ap.add_argument('--host', default=HOST, help='must be 127.0.0.1')
    ap.add_argument('--port', type=int, default=0, help='0 = any free port')
    ap.add_argument('--log', metavar='FILE', help='append calls as JSON lines')
    ap.add_argument('--data', metavar='FILE', help='JSON data to start with')
    ap.add_argument('--seed', type=int, default=0, help='seed of fail-rate')
    ap.add_argument('--latency-ms', type=float, default=0)
    ap.add_argument('--fail-status', type=int, default=503)
    ap.add_argument('--fail-body', choices=('text', 'html'), default='text')
    ap.add_argument('--fail-count', type=int, default=0)
    ap.add_argument('--fail-rate', type=float, default=0.0)
    ap.add_argument('--retry-after', type=int, default=None)
    ap.add_argument('--drop', type=int, default=0)
    ap.add_argument('--match', default=None,
                    help='inject failures only into requests containing this')


def run_main(cls, argv=None):
    """Run fake class CLS as a program: parse ARGV, listen, print
    "READY <port>", serve until SIGTERM/SIGINT or /__fake/shutdown."""
    ap = argparse.ArgumentParser(prog=cls.NAME, description=cls.__doc__)
    common_arguments(ap)
    cls.add_arguments(ap)
    args = ap.parse_args(argv)
    if args.host != HOST:
        ap.error('--host must be %s (the fakes never listen elsewhere)' % HOST)
    try:
        fake = cls(port=args.port, log_path=args.log, seed=args.seed,
                   latency_ms=args.latency_ms, fail_status=args.fail_status,
                   fail_body=args.fail_body,
                   fail_count=args.fail_count, fail_rate=args.fail_rate,
                   retry_after=args.retry_after, drop=args.drop,
                   match=args.match, **cls.kwargs_from_args(args))
        if args.data:
            fake.load_data_file(args.data)
    except (ValueError, OSError) as e:
        ap.error(str(e))
    return serve(fake, cls.NAME, args.port, fake.wait)


def serve(fake, name, port, done=None):
    """Start FAKE (the program NAME, asked for PORT), print "READY
    <port>", serve until SIGTERM/SIGINT or DONE(timeout) is true, stop;
    the program's exit code (1: it could not listen)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        fake.start()
    except OSError as e:
        print('%s: cannot listen on %s:%d: %s' % (name, HOST, port, e),
              file=sys.stderr)
        return 1
    print('READY %d' % fake.port, flush=True)
    while not (done(0.1) if done else stop.wait(0.1)) and not stop.is_set():
        pass
    fake.stop()
    return 0
