#!/usr/bin/env python3
"""webhook.py - a fake webhook receiver for bounced's tests.

Takes POST on any path with a JSON body and records it (path, headers,
parsed JSON) as an event, readable at GET /__fake/data ({"events": [...]})
and in the call log.  With --secret S every request must carry
X-Bounced-Signature: sha256=<lower-case hex HMAC-SHA256 of the raw body
keyed with S>, else it is answered 401.  Accepted events are answered with
--status (default 200; setting "status" of /__fake/config at run time).

Error policy: 405 for other methods, 400 for a body that is not JSON,
401 for a missing or wrong signature; nothing is recorded for those.
"""
import hashlib
import hmac
import json
import threading

try:
    from . import fakelib
except ImportError:                     # run as a program from tests/fake/
    import fakelib

SIG_HEADER = 'X-Bounced-Signature'


def sign(secret, body):
    """The X-Bounced-Signature value of BODY (bytes) under SECRET."""
    return 'sha256=' + hmac.new(secret.encode('utf-8'), body,
                                hashlib.sha256).hexdigest()


class WebhookFake(fakelib.FakeServer):
    """Fake webhook receiver."""

    NAME = 'webhook'
    EXTRA_CONFIG = {'status': 200}

    def __init__(self, secret=None, status=200, **kw):
        self.secret = secret or None
        self._dlock = threading.Lock()
        self._events = []
        super().__init__(status=status, **kw)

    def check_extra_config(self, key, value):
        if key == 'status':
            if isinstance(value, bool) or not isinstance(value, int) or \
                    not 200 <= value <= 599:
                raise ValueError('status must be an integer in 200..599')
            return value
        return super().check_extra_config(key, value)

    def get_data(self):
        with self._dlock:
            return {'events': json.loads(json.dumps(self._events))}

    def set_data(self, obj):
        if not isinstance(obj, dict) or not isinstance(obj.get('events', []), list):
            raise ValueError('data must be {"events": [...]}')
        with self._dlock:
            self._events = list(obj.get('events', []))

    def events(self):
        """The JSON bodies received so far, oldest first."""
        return [e['json'] for e in self.get_data()['events']]

    def events_of(self, prefix):
        """The JSON bodies whose "event" starts with PREFIX ('incident.',
        'alert.raised'), oldest first."""
        return [e for e in self.events()
                if isinstance(e, dict) and
                str(e.get('event', '')).startswith(prefix)]

    def handle(self, req, entry):
        if req.method != 'POST':
            return fakelib.json_response(405, {'error': 'POST only'},
                                         {'Allow': 'POST'})
        if self.secret is not None:
            got = req.header(SIG_HEADER, '')
            ok = hmac.compare_digest(got.encode('utf-8', 'replace'),
                                     sign(self.secret, req.body).encode())
            entry['signature_ok'] = ok
            if not ok:
                return fakelib.json_response(401, {'error': 'bad signature'})
        try:
            obj = json.loads(req.body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            return fakelib.json_response(400, {'error': 'body is not JSON'})
        entry['parsed'] = obj
        with self._dlock:
            self._events.append({'path': req.path, 'headers': req.headers,
                                 'json': obj})
        status = self.setting('status')
        if status == 204:
            return fakelib.Response(204, b'', 'application/json')
        return fakelib.json_response(status, {'status': 'ok'} if status < 300
                                     else {'error': 'configured %d' % status})

    @classmethod
    def add_arguments(cls, ap):
        ap.add_argument('--secret', help='HMAC-SHA256 secret of the signature')
        ap.add_argument('--status', type=int, default=200,
                        help='status answered to accepted events')

    @classmethod
    def kwargs_from_args(cls, args):
        return {'secret': args.secret, 'status': args.status}


if __name__ == '__main__':
    raise SystemExit(fakelib.run_main(WebhookFake))
