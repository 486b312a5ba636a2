"""test_fakes.py - the fake servers of tests/fake/ tested by themselves,
over HTTP with the standard library only, before any C client uses them.

MailWizz: the four signature vectors of the reference, signed requests
accepted and tampered / stale / wrongly keyed ones refused, the v2 key,
method rules, the endpoints and the state changes they make.  The requests
here are signed by a second, independent implementation of the v1
signature (quote_plus), so the fake is checked against it and against the
reference vectors.  Interspire: what the real xml.php does with each
request (parameters by name, empty results as FAILED without a message,
<listids> forms, users' lists, skipcheck, ILIKE, failed-login bans, the
6.1.0 and 6.5.1 layouts), escaping of '&' and "'".  Webhook: the HMAC signature.  fakelib: latency, fail_count,
fail_rate with a seed, drop, Retry-After, the call log and its file, the
body limit, keep-alive, 127.0.0.1 only, the program mode (READY line,
/__fake/shutdown).
"""
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from fake import interspire, mailwizz, webhook   # noqa: E402

FAKE_DIR = os.path.join(TESTS, 'fake')
PUB, PRIV, V2KEY = 'PUBKEY123', 'PRIVKEY456', 'v2-key-789'

L1, L2, L3 = 'ab123cd456ef7', 'ab223cd456ef7', 'ab323cd456ef7'
CAMP = 'cc123cd456ef7'
JOHN = 'john+x@doe.com'
MW_DATA = {
    'lists': [
        {'list_uid': L1, 'name': 'news', 'display_name': 'News',
         'subscribers': [
             {'subscriber_uid': 'zz123cd456ef7', 'email': JOHN,
              'status': 'confirmed'},
             {'subscriber_uid': 'zz123cd456ef8', 'email': 'a&b@example.com',
              'status': 'confirmed'},
             {'subscriber_uid': 'zz123cd456ef9', 'email': 'spam@example.com',
              'status': 'confirmed'}]},
        {'list_uid': L2, 'name': 'offers',
         'subscribers': [
             {'subscriber_uid': 'zz223cd456ef7', 'email': 'John+X@doe.com',
              'status': 'confirmed'},
             {'subscriber_uid': 'zz223cd456ef8', 'email': 'gone@example.com',
              'status': 'unsubscribed'}]},
        {'list_uid': L3, 'name': 'other',
         'subscribers': [
             {'subscriber_uid': 'zz323cd456ef7', 'email': JOHN,
              'status': 'unconfirmed'}]},
    ],
    'campaigns': [{'campaign_uid': CAMP, 'name': 'November', 'list_uid': L1}],
}


# ---- an independent MailWizz v1 signer --------------------------------
def php_enc(s):
    """PHP urlencode() by other means: quote_plus encodes all but
    A-Za-z0-9_.-~ and PHP also encodes ~."""
    return urllib.parse.quote_plus(str(s), safe='').replace('~', '%7E')


def php_query(d):
    return '&'.join(php_enc(k) + '=' + php_enc(v)
                    for k, v in sorted(d.items(), key=lambda kv: kv[0].encode()))


def v1_sign(method, url, get, fields, ts, remote='', pub=PUB, priv=PRIV):
    """(signed string, signature) of a v1 request."""
    full = url + ('?' + php_query(get) if get else '')
    q = {'X-MW-PUBLIC-KEY': pub, 'X-MW-REMOTE-ADDR': remote,
         'X-MW-TIMESTAMP': str(ts)}
    q.update(fields or {})
    s = '%s %s%s%s' % (method, full, '&' if '?' in full else '?', php_query(q))
    return s, hmac.new(priv.encode(), s.encode(), hashlib.sha1).hexdigest()


def hreq(port, method, target, body=None, headers=None, conn=None):
    """(status, headers with lower-case names, body bytes) of one request."""
    c = conn or http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    try:
        if isinstance(body, str):
            body = body.encode()
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        if conn is None:
            c.close()


def http_json(port, method, target, obj=None):
    body = None if obj is None else json.dumps(obj)
    st, _, data = hreq(port, method, target, body,
                       {'Content-Type': 'application/json'} if body else None)
    return st, json.loads(data)


def start_program(script, *args):
    """(Popen, port) of a fake run as a program; waits for READY."""
    p = subprocess.Popen([sys.executable, os.path.join(FAKE_DIR, script),
                          '--port', '0'] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    killer = threading.Timer(10, p.kill)
    killer.start()
    try:
        line = p.stdout.readline()
    finally:
        killer.cancel()
    if not line.startswith('READY '):
        p.kill()
        _, err = p.communicate()
        raise AssertionError('%s did not start: %r %s' % (script, line, err))
    return p, int(line.split()[1])


def stop_program(p, port):
    """Stop a fake program through /__fake/shutdown; its exit code."""
    try:
        hreq(port, 'POST', '/__fake/shutdown', b'')
    except OSError:
        pass
    try:
        return p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None
    finally:
        p.stdout.close()
        p.stderr.close()


# ---- MailWizz ----------------------------------------------------------
class MailWizzSignatureVectors(unittest.TestCase):
    """The four published test vectors of the v1 request signature."""

    URL = 'https://mw.example.com/api'
    TS = 1700000000
    VECTORS = [
        ('GET', '/lists', {'page': '1', 'per_page': '10'}, None, '',
         'GET https://mw.example.com/api/lists?page=1&per_page=10&X-MW-PUBLIC-KEY'
         '=PUBKEY123&X-MW-REMOTE-ADDR=&X-MW-TIMESTAMP=1700000000',
         '95388acce7d87ea53e44e9a14c7c43077d0fd595'),
        ('PUT', '/lists/subscribers/unsubscribe-by-email-from-all-lists', None,
         {'EMAIL': 'john+x@doe.com'}, '',
         'PUT https://mw.example.com/api/lists/subscribers/unsubscribe-by-email-'
         'from-all-lists?EMAIL=john%2Bx%40doe.com&X-MW-PUBLIC-KEY=PUBKEY123&'
         'X-MW-REMOTE-ADDR=&X-MW-TIMESTAMP=1700000000',
         '25ea1bb68396a19a95e059580d3bfb64a0068d1f'),
        ('POST', '/campaigns/cc123cd456ef7/bounces', None,
         {'message': 'Mailbox full', 'bounce_type': 'soft',
          'subscriber_uid': 'zz123cd456ef7'}, '10.0.0.1',
         'POST https://mw.example.com/api/campaigns/cc123cd456ef7/bounces?X-MW-'
         'PUBLIC-KEY=PUBKEY123&X-MW-REMOTE-ADDR=10.0.0.1&X-MW-TIMESTAMP='
         '1700000000&bounce_type=soft&message=Mailbox+full&subscriber_uid='
         'zz123cd456ef7',
         '619236e678d216832b92a48bfebbc6fc5f39f9b1'),
        ('DELETE', '/lists/ab123cd456ef7/subscribers/zz123cd456ef7', None, None,
         '',
         'DELETE https://mw.example.com/api/lists/ab123cd456ef7/subscribers/'
         'zz123cd456ef7?X-MW-PUBLIC-KEY=PUBKEY123&X-MW-REMOTE-ADDR=&'
         'X-MW-TIMESTAMP=1700000000',
         '53d340f7b99eb29c03950d030997634ffb804d4a'),
    ]

    def test_vectors(self):
        for method, path, get, fields, remote, string, sig in self.VECTORS:
            with self.subTest(method=method):
                s = mailwizz.signed_string(method, self.URL + path, get, PUB,
                                           self.TS, remote, fields)
                self.assertEqual(s, string)
                self.assertEqual(mailwizz.signature(PRIV, s), sig)
                self.assertEqual(v1_sign(method, self.URL + path, get, fields,
                                         self.TS, remote), (string, sig))

    def test_php_urlencode(self):
        self.assertEqual(mailwizz.php_urlencode('a b~*@+&=/é_.-Z9'),
                         'a+b%7E%2A%40%2B%26%3D%2F%C3%A9_.-Z9')
        self.assertEqual(mailwizz.php_build_query({'b': '1', 'B': '2', 'a': ''}),
                         'B=2&a=&b=1')


class MailWizzTest(unittest.TestCase):
    """The MailWizz fake in-process, v1 and v2 keys both configured."""

    @classmethod
    def setUpClass(cls):
        cls.fake = mailwizz.MailWizzFake(public_key=PUB, private_key=PRIV,
                                         api_key=V2KEY).start()
        cls.port = cls.fake.port

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.set_data(json.loads(json.dumps(MW_DATA)))
        self.fake.configure(reset=True)
        self.fake.clear_calls()

    def call(self, method, path, get=None, fields=None, ts=None, remote='',
             sign_fields=None, headers=None, override=True, conn=None):
        """A v1-signed request; (status, JSON answer)."""
        ts = int(time.time()) if ts is None else ts
        url = 'http://127.0.0.1:%d/api/%s' % (self.port, path)
        _, sig = v1_sign(method, url, get, sign_fields if sign_fields is not None
                         else fields, ts, remote)
        h = {'X-MW-PUBLIC-KEY': PUB, 'X-MW-TIMESTAMP': str(ts),
             'X-MW-SIGNATURE': sig}
        if remote:
            h['X-MW-REMOTE-ADDR'] = remote
        if override and method in ('PUT', 'DELETE'):
            h['X-HTTP-Method-Override'] = method
        body = php_query(fields) if fields else None
        if body:
            h['Content-Type'] = 'application/x-www-form-urlencoded'
        h.update(headers or {})
        target = '/api/%s%s' % (path, '?' + php_query(get) if get else '')
        st, _, data = hreq(self.port, method, target, body, h, conn)
        return st, json.loads(data)

    def status_of(self, list_uid, subscriber_uid):
        for lst in self.fake.get_data()['lists']:
            for s in lst['subscribers']:
                if lst['list_uid'] == list_uid and s['subscriber_uid'] == subscriber_uid:
                    return s['status']
        return None

    def assertError(self, answer, status, want_status, text=None):
        st, obj = answer
        self.assertEqual(st, want_status, obj)
        self.assertEqual(obj['status'], 'error')
        if text is not None:
            self.assertIn(text, json.dumps(obj['error']))

    def test_signed_get_accepted(self):
        st, obj = self.call('GET', 'lists', {'page': '1', 'per_page': '10'})
        self.assertEqual(st, 200, obj)
        self.assertEqual(obj['status'], 'success')
        self.assertEqual(obj['data']['count'], 3)
        self.assertEqual(obj['data']['current_page'], 1)
        self.assertIsNone(obj['data']['next_page'])
        self.assertEqual([r['general']['list_uid'] for r in obj['data']['records']],
                         [L1, L2, L3])
        self.assertEqual(obj['data']['records'][0]['general']['display_name'], 'News')
        call = self.fake.calls()[-1]
        self.assertEqual(call['api'], 'v1')
        self.assertTrue(call['signed_string'].startswith(
            'GET http://127.0.0.1:%d/api/lists?page=1&per_page=10&X-MW-' % self.port))

    def test_remote_addr_is_signed(self):
        st, _ = self.call('GET', 'lists', remote='10.0.0.1')
        self.assertEqual(st, 200)
        # signed as empty but sent: refused
        ts = int(time.time())
        _, sig = v1_sign('GET', 'http://127.0.0.1:%d/api/lists' % self.port,
                         None, None, ts, '')
        st, _, _ = hreq(self.port, 'GET', '/api/lists', None, {
            'X-MW-PUBLIC-KEY': PUB, 'X-MW-TIMESTAMP': str(ts),
            'X-MW-SIGNATURE': sig, 'X-MW-REMOTE-ADDR': '10.0.0.2'})
        self.assertEqual(st, 400)

    def test_tampered_rejected(self):
        self.assertError(self.call('PUT', 'lists/subscribers/unsubscribe-by-email-'
                                   'from-all-lists', fields={'EMAIL': JOHN},
                                   sign_fields={'EMAIL': 'other@doe.com'}),
                         None, 400, 'signature')
        self.assertEqual(self.status_of(L1, 'zz123cd456ef7'), 'confirmed')
        self.assertError(self.call('GET', 'lists', headers={'X-MW-SIGNATURE': '0' * 40}),
                         None, 400, 'signature')
        self.assertError(self.call('GET', 'lists', headers={'X-MW-PUBLIC-KEY': 'OTHER'}),
                         None, 400)
        st, _, data = hreq(self.port, 'GET', '/api/lists')
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)['status'], 'error')
        # GET parameters are signed in the URL
        ts = int(time.time())
        _, sig = v1_sign('GET', 'http://127.0.0.1:%d/api/lists' % self.port,
                         {'page': '1'}, None, ts)
        st, _, _ = hreq(self.port, 'GET', '/api/lists?page=2', None, {
            'X-MW-PUBLIC-KEY': PUB, 'X-MW-TIMESTAMP': str(ts), 'X-MW-SIGNATURE': sig})
        self.assertEqual(st, 400)

    def test_stale_timestamp_rejected(self):
        self.assertError(self.call('GET', 'lists', ts=int(time.time()) - 1000),
                         None, 400, 'expired')
        self.assertEqual(self.call('GET', 'lists', ts=int(time.time()) - 800)[0], 200)

    def test_v2_key(self):
        st, _, data = hreq(self.port, 'GET', '/api/lists', None,
                           {'X-API-KEY': V2KEY})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data)['data']['count'], 3)
        self.assertEqual(self.fake.calls()[-1]['api'], 'v2')
        st, _, data = hreq(self.port, 'GET', '/api/lists', None,
                           {'X-API-KEY': 'wrong'})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)['status'], 'error')

    def test_method_rules(self):
        path = 'lists/subscribers/unsubscribe-by-email-from-all-lists'
        # a POST carrying only the override header is refused
        self.assertError(self.call('POST', path, fields={'EMAIL': JOHN},
                                   headers={'X-HTTP-Method-Override': 'PUT'}),
                         None, 400)
        self.assertError(self.call('GET', path, get={'EMAIL': JOHN}), None, 400)
        self.assertEqual(self.status_of(L1, 'zz123cd456ef7'), 'confirmed')
        # the real method, with or without the override header, works
        self.assertEqual(self.call('PUT', path, fields={'EMAIL': JOHN},
                                   override=False)[0], 200)
        self.assertEqual(self.call('PUT', path, fields={'EMAIL': JOHN})[0], 200)

    def test_unknown_route(self):
        self.assertError(self.call('GET', 'nosuch/thing'), None, 404)
        st, h, data = hreq(self.port, 'GET', '/other/lists', None, {'X-API-KEY': V2KEY})
        self.assertEqual(st, 404)
        self.assertTrue(h['content-type'].startswith('application/json'))
        self.assertEqual(json.loads(data)['status'], 'error')

    def test_search_and_unsubscribe(self):
        st, obj = self.call('GET', 'lists/subscribers/search-by-email-in-all-lists',
                            {'EMAIL': JOHN})
        self.assertEqual(st, 200, obj)
        recs = obj['data']['records']
        self.assertEqual(obj['data']['count'], 3)
        self.assertEqual([(r['list']['list_uid'], r['status']) for r in recs],
                         [(L1, 'confirmed'), (L2, 'confirmed'), (L3, 'unconfirmed')])
        self.assertEqual(recs[0]['subscriber_uid'], 'zz123cd456ef7')
        self.assertEqual(recs[0]['list']['display_name'], 'News')
        self.assertEqual(set(recs[0]), {'subscriber_uid', 'email', 'status', 'source',
                                        'ip_address', 'list', 'date_added'})
        st, obj = self.call('PUT', 'lists/%s/subscribers/zz123cd456ef7/unsubscribe' % L1)
        self.assertEqual((st, obj), (200, {'status': 'success'}))
        st, obj = self.call('GET', 'lists/%s/subscribers/zz123cd456ef7' % L1)
        self.assertEqual(st, 200)
        self.assertEqual((obj['data']['record']['EMAIL'],
                          obj['data']['record']['status']), (JOHN, 'unsubscribed'))
        st, obj = self.call('GET', 'lists/%s/subscribers/search-by-email' % L2,
                            {'EMAIL': JOHN})
        self.assertEqual((st, obj['data']['subscriber_uid'], obj['data']['status']),
                         (200, 'zz223cd456ef7', 'confirmed'))
        self.assertError(self.call('GET', 'lists/%s/subscribers/search-by-email' % L2,
                                   {'EMAIL': 'nobody@doe.com'}), None, 404)
        self.assertError(self.call('GET', 'lists/nosuchlist1234/subscribers/search-'
                                   'by-email', {'EMAIL': JOHN}), None, 404)
        st, obj = self.call('PUT', 'lists/subscribers/unsubscribe-by-email-from-all-lists',
                            fields={'EMAIL': JOHN})
        self.assertEqual((st, obj['status']), (200, 'success'))
        self.assertEqual(self.status_of(L2, 'zz223cd456ef7'), 'unsubscribed')
        # every membership, whatever its status (saveStatus of each)
        self.assertEqual(self.status_of(L3, 'zz323cd456ef7'), 'unsubscribed')
        self.assertEqual(self.call('PUT', 'lists/subscribers/unsubscribe-by-email-from-'
                                   'all-lists', fields={'EMAIL': 'none@doe.com'})[0], 200)
        self.assertError(self.call('PUT', 'lists/subscribers/unsubscribe-by-email-'
                                   'from-all-lists', fields={'EMAIL': 'not an address'}),
                         None, 422)
        st, obj = self.call('GET', 'lists/subscribers/search-by-email-in-all-lists',
                            {'EMAIL': 'a&b@example.com'})
        self.assertEqual([r['subscriber_uid'] for r in obj['data']['records']],
                         ['zz123cd456ef8'])

    def test_addresses_as_typed_and_collated(self):
        # kept as typed, a Unicode domain too; found by "=" under a
        # collation that ignores case and accents, never by the ASCII form
        typed, ascii_form = 'Hans@Bücher.de', 'hans@xn--bcher-kva.de'
        self.fake.set_data({'lists': [
            {'list_uid': L1, 'subscribers': [
                {'subscriber_uid': 'su111aa111aa1', 'email': typed}]},
            {'list_uid': L2, 'subscribers': [
                {'subscriber_uid': 'su222bb222bb2', 'email': ascii_form}]},
            {'list_uid': L3, 'subscribers': [
                {'subscriber_uid': 'su333cc333cc3',
                 'email': 'hans@bucher.de'}]}]})
        path = 'lists/subscribers/search-by-email-in-all-lists'

        def found(email):
            st, obj = self.call('GET', path, {'EMAIL': email})
            self.assertEqual(st, 200, obj)
            return [(r['subscriber_uid'], r['email'])
                    for r in obj['data']['records']]
        self.assertEqual(found(ascii_form), [('su222bb222bb2', ascii_form)])
        self.assertEqual(found('HANS@bücher.de'),
                         [('su111aa111aa1', typed),
                          ('su333cc333cc3', 'hans@bucher.de')])
        self.assertEqual(found('hans@bucher.de'),
                         [('su111aa111aa1', typed),
                          ('su333cc333cc3', 'hans@bucher.de')])
        st, obj = self.call('GET', 'lists/%s/subscribers/search-by-email' % L1,
                            {'EMAIL': ascii_form})
        self.assertEqual(st, 404, obj)
        # the validator checks a Unicode domain in its ASCII form; a
        # UTF-8 local part, or a domain IDNA refuses, stays refused
        for bad in ('hänsel@bücher.de', 'hans@bü..cher.de'):
            self.assertError(self.call('GET', path, {'EMAIL': bad}), None, 422)
        st, obj = self.call('PUT', 'lists/subscribers/unsubscribe-by-email-'
                            'from-all-lists', fields={'EMAIL': ascii_form})
        self.assertEqual(st, 200, obj)
        self.assertEqual([self.status_of(L, u) for L, u in
                          ((L1, 'su111aa111aa1'), (L2, 'su222bb222bb2'),
                           (L3, 'su333cc333cc3'))],
                         ['confirmed', 'unsubscribed', 'confirmed'])

    def test_bounce_201_then_422(self):
        path = 'campaigns/%s/bounces' % CAMP
        soft = {'message': 'Mailbox full', 'bounce_type': 'soft',
                'subscriber_uid': 'zz123cd456ef7'}
        st, obj = self.call('POST', path, fields=soft, remote='10.0.0.1')
        self.assertEqual(st, 201, obj)
        rec = obj['data']['record']
        self.assertEqual((rec['bounce_type'], rec['message'], rec['subscriber']),
                         ('soft', 'Mailbox full',
                          {'subscriber_uid': 'zz123cd456ef7', 'email': JOHN}))
        self.assertEqual(self.status_of(L1, 'zz123cd456ef7'), 'confirmed')
        self.assertError(self.call('POST', path, fields=soft), None, 422,
                         'This subscriber has already been marked as bounced!')
        # a hard bounce blacklists
        st, obj = self.call('POST', path, fields={
            'message': '550 5.1.1 user unknown', 'bounce_type': 'hard',
            'subscriber_uid': 'zz123cd456ef8'})
        self.assertEqual(st, 201)
        self.assertEqual(self.status_of(L1, 'zz123cd456ef8'), 'blacklisted')
        # the server files block-like messages as internal (no blacklisting)
        st, obj = self.call('POST', path, fields={
            'message': '554 blocked by Spamhaus', 'bounce_type': 'hard',
            'subscriber_uid': 'zz123cd456ef9'})
        self.assertEqual((st, obj['data']['record']['bounce_type']), (201, 'internal'))
        self.assertEqual(self.status_of(L1, 'zz123cd456ef9'), 'confirmed')
        data = self.fake.get_data()
        self.assertEqual([(b['subscriber_uid'], b['bounce_type']) for b in data['bounces']],
                         [('zz123cd456ef7', 'soft'), ('zz123cd456ef8', 'hard'),
                          ('zz123cd456ef9', 'internal')])
        self.assertEqual(data['blacklist'], ['a&b@example.com'])
        # validation and missing objects
        fresh = dict(soft, subscriber_uid='zz323cd456ef7')
        self.assertError(self.call('POST', path, fields=dict(fresh, bounce_type='bad')),
                         None, 422, 'Invalid bounce type')
        self.assertError(self.call('POST', path, fields=dict(
            soft, subscriber_uid='zz999cd456ef7')), None, 404)
        self.assertError(self.call('POST', 'campaigns/cc999cd456ef7/bounces',
                                   fields=soft), None, 404)

    def test_bounce_refused_by_the_bounce_log(self):
        # Campaign_bouncesController::actionCreate(): a type off the list
        # (an extension's filter) is 422 with a text; CampaignBounceLog
        # save() refused is 422 with shortErrors->getAll(): an object by
        # attribute, or [] when nothing said why; in the controller's
        # order, after "already marked"; nothing recorded, nobody
        # blacklisted
        path = 'campaigns/%s/bounces' % CAMP
        hard = {'message': 'user unknown', 'bounce_type': 'hard',
                'subscriber_uid': 'zz123cd456ef7'}
        for settings, want in (
                ({'bounce_types': ['internal', 'soft']},
                 'Invalid bounce type!'),
                ({'bounce_save_errors': {'message': 'Message is too long.'}},
                 {'message': 'Message is too long.'}),
                ({'bounce_save_errors': {}}, []),
                ({'bounce_save_errors': []}, [])):
            data = json.loads(json.dumps(MW_DATA))
            data['settings'] = settings
            self.fake.set_data(data)
            st, obj = self.call('POST', path, fields=hard)
            self.assertEqual((st, obj), (422, {'status': 'error',
                                               'error': want}))
            self.assertEqual(self.fake.get_data()['bounces'], [])
            self.assertEqual(self.status_of(L1, 'zz123cd456ef7'),
                             'confirmed')
            self.assertEqual(self.fake.get_data()['blacklist'], [])
        # the subscriber's bounce of the campaign is said first
        data['bounces'] = [{'campaign_uid': CAMP,
                            'subscriber_uid': 'zz123cd456ef7'}]
        self.fake.set_data(data)
        self.assertError(self.call('POST', path, fields=hard), None, 422,
                         'already been marked')
        for bad in ({'bounce_types': 'hard'},
                    {'bounce_save_errors': {'message': 1}},
                    {'bounce_save_errors': 'no'}):
            data['settings'] = bad
            with self.assertRaises(ValueError):
                self.fake.set_data(data)

    def test_bounce_subscriber_by_uid_alone(self):
        # the subscriber is looked up by its uid alone: one of another
        # list than the campaign's is taken, and a hard bounce of a
        # subscriber that is not confirmed blacklists nobody
        path = 'campaigns/%s/bounces' % CAMP
        st, obj = self.call('POST', path, fields={
            'message': '550 5.1.1 user unknown', 'bounce_type': 'hard',
            'subscriber_uid': 'zz323cd456ef7'})
        self.assertEqual(st, 201, obj)
        self.assertEqual(obj['data']['record']['subscriber']['email'], JOHN)
        self.assertEqual(self.status_of(L3, 'zz323cd456ef7'), 'unconfirmed')
        self.assertEqual(self.status_of(L1, 'zz123cd456ef7'), 'confirmed')
        self.assertEqual(self.fake.get_data()['blacklist'], [])
        # the first blacklisting turns every confirmed subscriber with the
        # address into blacklisted, others stay as they were
        st, obj = self.call('POST', path, fields={
            'message': 'user unknown', 'bounce_type': 'hard',
            'subscriber_uid': 'zz223cd456ef7'})
        self.assertEqual(st, 201, obj)
        self.assertEqual(self.status_of(L2, 'zz223cd456ef7'), 'blacklisted')
        self.assertEqual(self.status_of(L1, 'zz123cd456ef7'), 'blacklisted')
        self.assertEqual(self.status_of(L3, 'zz323cd456ef7'), 'unconfirmed')

    def test_bounce_message_cut_and_defaults(self):
        path = 'campaigns/%s/bounces' % CAMP
        st, obj = self.call('POST', path, fields={
            'message': '<b>x</b>' + 'y' * 300, 'bounce_type': 'soft',
            'subscriber_uid': 'zz123cd456ef7'})
        self.assertEqual(st, 201, obj)
        self.assertEqual(obj['data']['record']['message'], 'x' + 'y' * 249 + '...')
        # no type: internal; no message: "BOUNCED BACK"
        st, obj = self.call('POST', path, fields={
            'subscriber_uid': 'zz223cd456ef7'})
        self.assertEqual((st, obj['data']['record']['bounce_type'],
                          obj['data']['record']['message']),
                         (201, 'internal', 'BOUNCED BACK'))
        # "unsolicited mail", "block", "RBL" refile as internal
        st, obj = self.call('POST', path, fields={
            'message': '550 rejected: unsolicited mail', 'bounce_type': 'hard',
            'subscriber_uid': 'zz123cd456ef8'})
        self.assertEqual(obj['data']['record']['bounce_type'], 'internal')
        self.assertEqual(self.status_of(L1, 'zz123cd456ef8'), 'confirmed')

    def test_blacklist_without_new_records(self):
        data = json.loads(json.dumps(MW_DATA))
        data['settings'] = {'blacklist_new_records': False}
        self.fake.set_data(data)
        st, _ = self.call('POST', 'campaigns/%s/bounces' % CAMP, fields={
            'message': 'user unknown', 'bounce_type': 'hard',
            'subscriber_uid': 'zz223cd456ef7'})
        self.assertEqual(st, 201)
        self.assertEqual(self.status_of(L2, 'zz223cd456ef7'), 'blacklisted')
        self.assertEqual(self.status_of(L1, 'zz123cd456ef7'), 'confirmed')
        self.assertEqual(self.fake.get_data()['blacklist'], [])

    def test_search_limit_and_archived_lists(self):
        data = json.loads(json.dumps(MW_DATA))
        data['lists'][1]['status'] = 'archived'
        data['lists'] += [{'list_uid': 'lx%011d' % i, 'subscribers': [
            {'email': JOHN}]} for i in range(120)]
        self.fake.set_data(data)
        st, obj = self.call('GET', 'lists/subscribers/search-by-email-in-all-lists',
                            {'EMAIL': JOHN, 'page': '2'})
        self.assertEqual(st, 200)
        recs = obj['data']['records']
        self.assertEqual((len(recs), obj['data']['count'],
                          obj['data']['total_pages'], obj['data']['next_page']),
                         (100, 100, 1, None))
        self.assertNotIn(L2, [r['list']['list_uid'] for r in recs])
        self.assertEqual(recs[0]['list']['list_uid'], L1)
        # unsubscribing from all lists reaches the archived list too
        self.call('PUT', 'lists/subscribers/unsubscribe-by-email-from-all-lists',
                  fields={'EMAIL': 'John+X@doe.com'})
        self.assertEqual(self.status_of(L2, 'zz223cd456ef7'), 'unsubscribed')
        # ... but loadListByUid() finds no archived list: its subscriber
        # cannot be read or unsubscribed by ids (404)
        st, _ = self.call('GET', 'lists/%s/subscribers/zz223cd456ef7' % L2)
        self.assertEqual(st, 404)
        st, _ = self.call('PUT', 'lists/%s/subscribers/zz223cd456ef7/'
                          'unsubscribe' % L2)
        self.assertEqual(st, 404)

    def test_masked_emails_and_locale(self):
        data = json.loads(json.dumps(MW_DATA))
        data['settings'] = {'mask_emails': True, 'locale': 'en_US'}
        data['campaigns'][0]['send_at'] = '2026-11-24 08:05:00'
        self.fake.set_data(data)
        self.assertEqual(mailwizz.mask_email('john@doe.com'), 'j**n@d*e.com')
        self.assertEqual(mailwizz.mask_email('a@mail.example.org'),
                         '*@m**********e.org')
        st, obj = self.call('POST', 'campaigns/%s/bounces' % CAMP, fields={
            'message': 'x', 'bounce_type': 'soft',
            'subscriber_uid': 'zz123cd456ef7'})
        self.assertEqual(obj['data']['record']['subscriber']['email'],
                         mailwizz.mask_email(JOHN))
        self.assertIn('*', mailwizz.mask_email(JOHN))
        st, obj = self.call('GET', 'lists/%s/subscribers/zz123cd456ef7' % L1)
        self.assertEqual(obj['data']['record']['EMAIL'], mailwizz.mask_email(JOHN))
        # the search by address answers the address as stored
        st, obj = self.call('GET', 'lists/subscribers/search-by-email-in-all-lists',
                            {'EMAIL': JOHN})
        self.assertEqual(obj['data']['records'][0]['email'], JOHN)
        st, obj = self.call('GET', 'campaigns/%s' % CAMP)
        self.assertEqual(obj['data']['record']['send_at'], '11/24/26, 8:05 AM')
        data['settings'] = {'locale': 'de_DE'}
        self.fake.set_data(data)
        st, obj = self.call('GET', 'campaigns/%s' % CAMP)
        self.assertEqual(obj['data']['record']['send_at'], '24.11.26 08:05')

    def test_denied_ip(self):
        data = json.loads(json.dumps(MW_DATA))
        data['settings'] = {'denied_ip': True}
        self.fake.set_data(data)
        self.assertError(self.call('GET', 'lists'), None, 400, 'IP address')

    def test_track_unsubscribe_delete_campaign(self):
        st, obj = self.call('POST', 'campaigns/%s/track-unsubscribe/zz123cd456ef7' % CAMP,
                            fields={'ip_address': '10.1.2.3', 'reason': 'FBL'})
        self.assertEqual((st, obj), (200, {'status': 'success'}))
        self.assertEqual(self.status_of(L1, 'zz123cd456ef7'), 'unsubscribed')
        self.assertEqual(self.fake.get_data()['track_unsubscribes'][0]['reason'], 'FBL')
        self.assertEqual(self.call('DELETE', 'lists/%s/subscribers/zz123cd456ef7'
                                   % L1)[0], 200)
        self.assertIsNone(self.status_of(L1, 'zz123cd456ef7'))
        self.assertError(self.call('DELETE', 'lists/%s/subscribers/zz123cd456ef7' % L1),
                         None, 404)
        st, obj = self.call('GET', 'campaigns/%s' % CAMP)
        self.assertEqual((st, obj['data']['record']['campaign_uid'],
                          obj['data']['record']['list']['list_uid']), (200, CAMP, L1))
        self.assertError(self.call('GET', 'campaigns/cc999cd456ef7'), None, 404)

    def test_body_limit_and_keepalive(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        try:
            for _ in range(3):
                st, obj = self.call('GET', 'lists', conn=conn)
                self.assertEqual(st, 200)
            self.assertEqual(len(self.fake.calls()), 3)
        finally:
            conn.close()
        st, h, _ = hreq(self.port, 'POST', '/api/campaigns/%s/bounces' % CAMP,
                        b'x' * ((1 << 20) + 1),
                        {'Content-Type': 'application/x-www-form-urlencoded'})
        self.assertEqual(st, 413)
        self.assertEqual(h['connection'], 'close')


# ---- fakelib through a MailWizz program --------------------------------
class FakeProgramTest(unittest.TestCase):
    """The MailWizz fake as a program: READY line, --data, --log, failure
    injection at run time, the call log."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.log = os.path.join(cls.tmp.name, 'calls.jsonl')
        data = os.path.join(cls.tmp.name, 'data.json')
        with open(data, 'w') as f:
            json.dump(MW_DATA, f)
        cls.proc, cls.port = start_program('mailwizz.py', '--api-key', V2KEY,
                                           '--data', data, '--log', cls.log,
                                           '--seed', '7')

    @classmethod
    def tearDownClass(cls):
        cls.rc = stop_program(cls.proc, cls.port)
        cls.tmp.cleanup()

    def setUp(self):
        self.assertEqual(http_json(self.port, 'POST', '/__fake/config',
                                   {'reset': True})[0], 200)
        self.assertEqual(hreq(self.port, 'DELETE', '/__fake/calls')[0], 200)

    def get(self, path='lists', conn=None):
        return hreq(self.port, 'GET', '/api/' + path, None, {'X-API-KEY': V2KEY},
                    conn)

    def test_data_and_log_file(self):
        st, _, data = self.get('lists/%s/subscribers/zz123cd456ef7' % L1)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data)['data']['record']['EMAIL'], JOHN)
        with open(self.log) as f:
            last = json.loads(f.readlines()[-1])
        self.assertEqual((last['method'], last['path'], last['status']),
                         ('GET', '/api/lists/%s/subscribers/zz123cd456ef7' % L1, 200))
        st, obj = http_json(self.port, 'GET', '/__fake/data')
        self.assertEqual([x['list_uid'] for x in obj['lists']], [L1, L2, L3])
        st, obj = http_json(self.port, 'POST', '/__fake/data',
                            {'lists': [{'list_uid': L1}]})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(self.get()[2])['data']['count'], 1)
        st, obj = http_json(self.port, 'POST', '/__fake/data', {'lists': [{}]})
        self.assertEqual(st, 400)
        self.assertEqual(http_json(self.port, 'POST', '/__fake/data', MW_DATA)[0], 200)

    def test_fail_count_and_retry_after(self):
        st, cfg = http_json(self.port, 'POST', '/__fake/config',
                            {'fail_status': 503, 'fail_count': 2, 'retry_after': 7})
        self.assertEqual((st, cfg['fail_count']), (200, 2))
        for _ in range(2):
            st, h, data = self.get()
            self.assertEqual((st, h.get('retry-after')), (503, '7'))
            self.assertEqual(json.loads(data)['status'], 'error')
        self.assertEqual(self.get()[0], 200)
        http_json(self.port, 'POST', '/__fake/config',
                  {'fail_status': 429, 'fail_count': 1, 'match': 'campaigns/'})
        self.assertEqual(self.get()[0], 200)                 # does not match
        self.assertEqual(self.get('campaigns/%s' % CAMP)[0], 429)
        self.assertEqual(self.get('campaigns/%s' % CAMP)[0], 200)
        st, obj = http_json(self.port, 'POST', '/__fake/config', {'fail_rate': 2})
        self.assertEqual(st, 400)
        st, obj = http_json(self.port, 'POST', '/__fake/config', {'nosuch': 1})
        self.assertEqual(st, 400)

    def test_fail_rate_is_seeded(self):
        runs = []
        for _ in range(2):
            http_json(self.port, 'POST', '/__fake/config',
                      {'fail_rate': 0.5, 'seed': 42})
            runs.append([self.get()[0] for _ in range(16)])
        self.assertEqual(runs[0], runs[1])
        self.assertEqual(set(runs[0]), {200, 503})

    def test_latency(self):
        http_json(self.port, 'POST', '/__fake/config', {'latency_ms': 250})
        t0 = time.monotonic()
        self.assertEqual(self.get()[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        http_json(self.port, 'POST', '/__fake/config', {'latency_ms': 0})
        t0 = time.monotonic()
        self.get()
        self.assertLess(time.monotonic() - t0, 0.25)

    def test_drop(self):
        http_json(self.port, 'POST', '/__fake/config', {'drop': 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.get()
        self.assertEqual(self.get()[0], 200)

    def test_call_log(self):
        self.get()
        hreq(self.port, 'PUT', '/api/lists/subscribers/unsubscribe-by-email-from-'
             'all-lists', 'EMAIL=nobody%40doe.com',
             {'X-API-KEY': V2KEY, 'Content-Type': 'application/x-www-form-urlencoded'})
        self.get('nosuch')
        st, calls = http_json(self.port, 'GET', '/__fake/calls')
        self.assertEqual(st, 200)
        self.assertEqual([(c['method'], c['status']) for c in calls],
                         [('GET', 200), ('PUT', 200), ('GET', 404)])
        put = calls[1]
        self.assertEqual(put['parsed'], {'EMAIL': 'nobody@doe.com'})
        self.assertEqual(put['body'], 'EMAIL=nobody%40doe.com')
        self.assertEqual(put['headers']['x-api-key'], V2KEY)
        self.assertEqual(put['headers']['content-length'], '22')
        self.assertEqual(calls[0]['query'], {})
        self.assertLess(calls[0]['seq'], calls[1]['seq'])
        self.assertFalse(any(c['path'].startswith('/__fake') for c in calls))
        self.assertEqual(hreq(self.port, 'DELETE', '/__fake/calls')[0], 200)
        self.assertEqual(http_json(self.port, 'GET', '/__fake/calls'), (200, []))


class FakeLifecycleTest(unittest.TestCase):
    """Program start and stop, 127.0.0.1 only."""

    def test_shutdown_route(self):
        p, port = start_program('webhook.py', '--status', '204')
        st, h, data = hreq(port, 'POST', '/hook', b'{"a":1}',
                           {'Content-Type': 'application/json'})
        self.assertEqual((st, data), (204, b''))
        self.assertEqual(stop_program(p, port), 0)

    def test_other_host_refused(self):
        p = subprocess.run([sys.executable, os.path.join(FAKE_DIR, 'interspire.py'),
                            '--host', '0.0.0.0', '--port', '0'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertNotIn('READY', p.stdout)
        self.assertIn('127.0.0.1', p.stderr)
        with self.assertRaises(ValueError):
            webhook.WebhookFake(host='0.0.0.0')


# ---- Interspire -----------------------------------------------------------
IEM_DATA = {
    'users': [{'userid': 2, 'username': 'bob', 'usertoken': 'bobs'},
              {'userid': 3, 'username': 'boss', 'usertoken': 'boss',
               'listadmin': True},
              {'userid': 4, 'username': 'gone', 'usertoken': 'gone',
               'status': 0}],
    'lists': [{'listid': 1, 'name': 'News'}, {'listid': 2, 'name': "Bob's offers"},
              {'listid': 3, 'name': 'Other'},
              {'listid': 4, 'name': 'Bob only', 'ownerid': 2}],
    'subscribers': [
        {'subscriberid': 10, 'emailaddress': 'a&b@example.com', 'listid': 1},
        {'subscriberid': 11, 'emailaddress': 'a&b@example.com', 'listid': 2},
        {'subscriberid': 12, 'emailaddress': "o'brien@example.com", 'listid': 1},
        {'subscriberid': 13, 'emailaddress': 'xa&b@example.com', 'listid': 3},
        {'subscriberid': 14, 'emailaddress': 'old@example.com', 'listid': 2,
         'unsubscribed': 1600000000},
        {'subscriberid': 15, 'emailaddress': 'a&b@example.com', 'listid': 4},
        {'subscriberid': 16, 'emailaddress': 'john.doe@example.com', 'listid': 1},
        {'subscriberid': 17, 'emailaddress': 'John_Doe@example.com', 'listid': 1},
    ],
}
MSG_NOT_VALID = ('The XML you provided is not valid. Please check your XML '
                 'document and try again.')


def iem_request(rtype, method, details=' ', user='admin', token='tok'):
    return ('<xmlrequest><username>%s</username><usertoken>%s</usertoken>'
            '<requesttype>%s</requesttype><requestmethod>%s</requestmethod>'
            '<details>%s</details></xmlrequest>'
            % (escape(user), escape(token), rtype, method, details)).encode()


class InterspireTest(unittest.TestCase):
    """The fake xml.php against what the real one (6.1.6, 6.5.1) does."""

    @classmethod
    def setUpClass(cls):
        cls.fake = interspire.InterspireFake(username='admin', usertoken='tok').start()
        cls.old = interspire.InterspireFake(username='admin', usertoken='tok',
                                            variant='6.1.0').start()
        cls.new = interspire.InterspireFake(username='admin', usertoken='tok',
                                            variant='6.5.1').start()
        cls.pg = interspire.InterspireFake(username='admin', usertoken='tok',
                                           database='pgsql').start()

    @classmethod
    def tearDownClass(cls):
        for f in (cls.fake, cls.old, cls.new, cls.pg):
            f.stop()

    def setUp(self):
        for f in (self.fake, self.old, self.new, self.pg):
            f.configure(reset=True)
            f.set_data(IEM_DATA)

    def post(self, body, fake=None):
        """(raw text, status, data element or errormessage text)."""
        st, h, raw = hreq((fake or self.fake).port, 'POST', '/xml.php', body,
                          {'Content-Type': 'text/xml'})
        self.assertEqual(st, 200)
        self.assertTrue(h['content-type'].startswith('text/xml'))
        root = ET.fromstring(raw)
        self.assertEqual(root.tag, 'response')
        status = root.findtext('status')
        if status == 'SUCCESS':
            return raw.decode(), status, root.find('data')
        self.assertEqual(status, 'FAILED')
        return raw.decode(), status, root.findtext('errormessage') or ''

    def call(self, rtype, method, details=' ', fake=None, **kw):
        return self.post(iem_request(rtype, method, details, **kw), fake)

    def items(self, data, *fields):
        return [tuple(i.findtext(f) for f in fields) for i in data.findall('item')]

    def unsubscribed(self, fake=None):
        return {s['subscriberid']: s['unsubscribed']
                for s in (fake or self.fake).get_data()['subscribers']}

    def test_xmlapitest_and_bad_token(self):
        raw, st, data = self.call('authentication', 'xmlapitest')
        self.assertEqual((st, data.findtext('userid'), data.findtext('username')),
                         ('SUCCESS', '1', 'admin'))
        self.assertTrue(raw.startswith('<?xml version="1.0" encoding="UTF-8" ?>'))
        # 6.5.x puts them under <user>
        _, st, data = self.call('authentication', 'xmlapitest', fake=self.new)
        self.assertEqual(data.findtext('user/username'), 'admin')
        for user, token in (('admin', 'wrong'), ('nobody', 'tok'),
                            ('gone', 'gone'), ('admin', '')):
            with self.subTest(user=user, token=token):
                self.fake.configure(reset=True)
                _, st, msg = self.call('authentication', 'xmlapitest',
                                       user=user, token=token)
                self.assertEqual(st, 'FAILED')
                self.assertIn(msg, ('Unable to check user details.',
                                    'The XML format you have sent is invalid. '
                                    'The following field is required: usertoken'))
        # blanks around the user name and the token do not matter
        _, st, _ = self.call('authentication', 'xmlapitest', user=' admin ',
                             token='tok ')
        self.assertEqual(st, 'SUCCESS')

    def test_invalid_requests(self):
        cases = [
            (b'<xmlrequest><username>admin</username>', MSG_NOT_VALID),
            (b'', 'No data has been given to the XML-API.'),
            (b'  \n', 'No data has been given to the XML-API.'),
            (iem_request('subscribers', 'GetAllListsForEmailAddress',
                         '<email>a&b@example.com</email>'), MSG_NOT_VALID),
            (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
             b'<xmlrequest><username>&a;</username></xmlrequest>', MSG_NOT_VALID),
            (b'<xmlrequest><username>admin</username><usertoken>tok'
             b'</usertoken><requesttype>user</requesttype><requestmethod>'
             b'GetLists</requestmethod></xmlrequest>',
             'The XML format you have sent is invalid. The following field '
             'is required: details'),
            (iem_request('user', 'GetLists', ''),
             'The XML format you have sent is invalid. The following field '
             'is required: details'),
            (iem_request('user', 'GetLists', token='0'),
             'The XML format you have sent is invalid. The following field '
             'is required: usertoken'),
        ]
        for body, want in cases:
            with self.subTest(body=body[:40]):
                _, st, msg = self.post(body)
                self.assertEqual((st, msg), ('FAILED', want))
        _, _, msg = self.post(b'<xmlrequest>', self.new)
        self.assertEqual(msg, 'String could not be parsed as XML')
        for rtype, method in (('nosuch', 'GetLists'), ('Subscribers', 'GetLists'),
                              ('User', 'GetLists'), ('user', 'NoSuchMethod'),
                              ('authentication', 'XMLAPITest'),
                              ('authentication', 'GetLists')):
            with self.subTest(rtype=rtype, method=method):
                _, st, msg = self.call(rtype, method)
                self.assertEqual((st, msg), ('FAILED', 'Invalid request type'))

    def test_method_names_are_case_insensitive(self):
        for method in ('GetLists', 'getlists', 'GETLISTS', 'gEtLiStS'):
            with self.subTest(method=method):
                _, st, data = self.call('user', method)
                self.assertEqual(st, 'SUCCESS')
                self.assertEqual(len(data.findall('item')), 3)

    def test_get_lists(self):
        raw, st, data = self.call('user', 'GetLists')
        self.assertEqual(st, 'SUCCESS')
        # the user's own lists, ordered by name
        self.assertEqual(self.items(data, 'listid', 'name', 'subscribecount',
                                    'unsubscribecount'),
                         [('2', "Bob's offers", '1', '1'), ('1', 'News', '4', '0'),
                          ('3', 'Other', '1', '0')])
        self.assertIn('Bob&#039;s offers', raw)
        self.assertIn('<data><item>\n\t<listid>2</listid>', raw)
        _, st, data = self.call('user', 'GetLists', user='bob', token='bobs')
        self.assertEqual(self.items(data, 'listid'), [('4',)])
        # a list administrator sees every list
        _, st, data = self.call('user', 'GetLists', user='boss', token='boss')
        self.assertEqual(sorted(self.items(data, 'listid')),
                         [('1',), ('2',), ('3',), ('4',)])
        # so does anyone naming another user's id
        _, st, data = self.call('user', 'GetLists', '<userid>2</userid>')
        self.assertEqual(self.items(data, 'listid'), [('4',)])
        # a user with no list: FAILED, no message
        self.fake.set_data({'lists': [], 'subscribers': []})
        _, st, msg = self.call('user', 'GetLists')
        self.assertEqual((st, msg), ('FAILED', ''))
        _, st, data = self.call('user', 'GetLists', fake=self.old)
        self.assertEqual(st, 'SUCCESS')

    def test_get_lists_group_access(self):
        """GetListByUserID: owned lists and those of the group's access
        rows; a group that is system or list administrator: every list"""
        data = dict(IEM_DATA, groups=[
            {'groupid': 5, 'lists': [1, 3]},
            {'groupid': 6, 'systemadmin': True},
            {'groupid': 7, 'listadmin': True}])
        data['users'] = [
            {'userid': 2, 'username': 'bob', 'usertoken': 'bobs',
             'groupid': 5},
            {'userid': 5, 'username': 'root', 'usertoken': 'root',
             'groupid': 6},
            {'userid': 6, 'username': 'lists', 'usertoken': 'lists',
             'groupid': 7}]
        for f in (self.fake, self.new):
            f.set_data(data)
            # bob owns 4, his group may work on 1 and 3 (owned by admin)
            _, st, data_el = self.call('user', 'GetLists', user='bob',
                                       token='bobs', fake=f)
            self.assertEqual(self.items(data_el, 'listid', 'ownerid',
                                        'ownername'),
                             [('4', '2', 'bob'), ('1', '1', 'admin'),
                              ('3', '1', 'admin')])
            for who in ('root', 'lists'):
                _, st, data_el = self.call('user', 'GetLists', user=who,
                                           token=who, fake=f)
                self.assertEqual(sorted(self.items(data_el, 'listid')),
                                 [('1',), ('2',), ('3',), ('4',)], who)
            # another user's id: that user's group, never the caller's
            # administrator rights
            _, st, data_el = self.call('user', 'GetLists',
                                       '<userid>2</userid>', user='root',
                                       token='root', fake=f)
            self.assertEqual(sorted(self.items(data_el, 'listid')),
                             [('1',), ('3',), ('4',)])
            # admin (user 1, no group) still sees only what it owns
            _, st, data_el = self.call('user', 'GetLists', fake=f)
            self.assertEqual(sorted(self.items(data_el, 'listid')),
                             [('1',), ('2',), ('3',)])
            self.assertEqual(f.get_data()['groups'][0],
                             {'groupid': 5, 'systemadmin': False,
                              'listadmin': False, 'lists': [1, 3]})

    def test_all_lists_for_email_address(self):
        def lists(details, fake=None):
            _, st, data = self.call('subscribers', 'GetAllListsForEmailAddress',
                                    '<email>a&amp;b@example.com</email>' + details,
                                    fake)
            return st, data if st == 'FAILED' else self.items(
                data, 'subscriberid', 'listid')
        everywhere = ('SUCCESS', [('10', '1'), ('11', '2'), ('15', '4')])
        # no filter at all: every user's lists
        self.assertEqual(lists(''), everywhere)
        # one element holding a comma list is no filter either
        self.assertEqual(lists('<listids>2,3</listids>'), everywhere)
        # nor are several <item>s (a single one is)
        self.assertEqual(lists('<listids><item>2</item><item>3</item></listids>'),
                         everywhere)
        self.assertEqual(lists('<listids><item>2</item></listids>'),
                         ('SUCCESS', [('11', '2')]))
        # one element per list filters
        self.assertEqual(lists('<listids>2</listids><listids>3</listids>'),
                         ('SUCCESS', [('11', '2')]))
        self.assertEqual(lists('<listids> 1 </listids><listids>4</listids>'),
                         ('SUCCESS', [('10', '1'), ('15', '4')]))
        # on none of them: FAILED, no message (6.1.0: SUCCESS, no data)
        self.assertEqual(lists('<listids>3</listids>'), ('FAILED', ''))
        st, data = lists('<listids>3</listids>', self.old)
        self.assertEqual((st, data), ('SUCCESS', []))
        # the parameter is "email": "emailaddress" is not read
        _, st, msg = self.call('subscribers', 'GetAllListsForEmailAddress',
                               '<emailaddress>a&amp;b@example.com</emailaddress>')
        self.assertEqual((st, msg), ('FAILED', ''))
        # the address matches in any case (MySQL), only exactly (PostgreSQL)
        _, st, data = self.call('subscribers', 'GetAllListsForEmailAddress',
                                '<email>A&amp;B@Example.com</email>')
        self.assertEqual(len(self.items(data, 'listid')), 3)
        _, st, msg = self.call('subscribers', 'GetAllListsForEmailAddress',
                               '<email>A&amp;B@Example.com</email>', self.pg)
        self.assertEqual((st, msg), ('FAILED', ''))

    def test_unsubscribe_by_address(self):
        unsub = '<emailaddress>a&amp;b@example.com</emailaddress><listid>1</listid>'
        _, st, data = self.call('subscribers', 'UnsubscribeSubscriber', unsub)
        self.assertEqual((st, data.text), ('SUCCESS', None))
        first = self.unsubscribed()[10]
        self.assertGreater(first, 1600000000)
        # again: the check takes unsubscribed subscribers too
        _, st, _ = self.call('subscribers', 'UnsubscribeSubscriber', unsub)
        self.assertEqual(st, 'SUCCESS')
        raw, st, msg = self.call('subscribers', 'UnsubscribeSubscriber',
                                 '<emailaddress>a&amp;b@example.com</emailaddress>'
                                 '<listid>3</listid>')
        self.assertEqual((st, msg), ('FAILED', "The email address 'a&b@example.com' "
                                               "is not subscribed to this list"))
        self.assertIn('The email address &#039;a&amp;b@example.com&#039; is not '
                      'subscribed to this list', raw)
        _, st, msg = self.call('subscribers', 'UnsubscribeSubscriber',
                               '<emailaddress>a&amp;b@example.com</emailaddress>')
        self.assertEqual((st, msg), ('FAILED', 'No List or email address'))
        self.assertEqual(self.fake.get_data()['unsubscribe_log'][0]
                         ['subscriberid'], 10)
        # PostgreSQL: ILIKE, where '_' is any character: the first match
        _, st, _ = self.call('subscribers', 'UnsubscribeSubscriber',
                             '<emailaddress>john_doe@example.com</emailaddress>'
                             '<listid>1</listid>', self.pg)
        un = self.unsubscribed(self.pg)
        self.assertEqual((st, bool(un[16]), un[17]), ('SUCCESS', True, 0))

    def test_unsubscribe_by_id(self):
        def unsub(details, fake=None):
            return self.call('subscribers', 'UnsubscribeSubscriber', details, fake)
        # with skipcheck: exactly that subscriber
        _, st, _ = unsub('<subscriberid>17</subscriberid><listid>1</listid>'
                         '<skipcheck>1</skipcheck>', self.pg)
        un = self.unsubscribed(self.pg)
        self.assertEqual((st, un[16], bool(un[17])), ('SUCCESS', 0, True))
        # without it the id is ignored: the first subscriber of the list
        _, st, _ = unsub('<subscriberid>12</subscriberid><listid>1</listid>')
        un = self.unsubscribed()
        self.assertEqual((st, bool(un[10]), un[12]), ('SUCCESS', True, 0))
        # skipcheck believes anything: another list's subscriber is
        # "unsubscribed" (the record and the counts change, nobody does)
        _, st, _ = unsub('<subscriberid>13</subscriberid><listid>1</listid>'
                         '<skipcheck>1</skipcheck>')
        self.assertEqual((st, self.unsubscribed()[13]), ('SUCCESS', 0))
        self.assertEqual([(e['subscriberid'], e['listid'])
                          for e in self.fake.get_data()['unsubscribe_log']],
                         [(10, 1), (13, 1)])
        # "0" is no skipcheck: again the list's first subscriber, not 14
        _, st, _ = unsub('<subscriberid>14</subscriberid><listid>2</listid>'
                         '<skipcheck>0</skipcheck>')
        un = self.unsubscribed()
        self.assertEqual((st, bool(un[11]), un[14]), ('SUCCESS', True,
                                                      1600000000))
        # 6.1.0: the outcome in two items, and the parameters bound by
        # position: in the method's order they work ...
        _, st, data = unsub('<emailaddress></emailaddress><listid>2</listid>'
                            '<subscriberid>11</subscriberid>'
                            '<skipcheck>1</skipcheck>', self.old)
        self.assertEqual((st, [i.text for i in data.findall('item')]),
                         ('SUCCESS', ['1', None]))
        # ... in another, the id is taken for the address, and the check
        # is not skipped
        _, st, data = unsub('<subscriberid>14</subscriberid><listid>2</listid>'
                            '<skipcheck>1</skipcheck>', self.old)
        self.assertEqual((st, [i.text for i in data.findall('item')]),
                         ('SUCCESS', [None, "The email address '14' is not "
                                      "subscribed to this list"]))

    def test_subscriber_records(self):
        raw, st, data = self.call('subscribers', 'GetRecordByID',
                                  '<subscriberid>12</subscriberid>')
        self.assertEqual((st, data.findtext('emailaddress'), data.findtext('listid'),
                          data.findtext('unsubscribed')),
                         ('SUCCESS', "o'brien@example.com", '1', '0'))
        self.assertIn('<emailaddress>o&#039;brien@example.com</emailaddress>', raw)
        _, st, msg = self.call('subscribers', 'GetRecordByID',
                               '<subscriberid>999</subscriberid>')
        self.assertEqual((st, msg), ('FAILED', ''))
        _, st, data = self.call('subscribers', 'GetEmailForSubscriber',
                                '<subscriberid>11</subscriberid>')
        self.assertEqual((st, data.text), ('SUCCESS', 'a&b@example.com'))
        # 6.5.x: compact, apostrophes as they are, non-ASCII as references
        self.new.set_data({'lists': [{'listid': 1}], 'subscribers': [
            {'subscriberid': 5, 'emailaddress': "jos\u00e9.o'neil@example.com",
             'listid': 1}]})
        raw, st, data = self.call('subscribers', 'getrecordbyid',
                                  '<subscriberid>5</subscriberid>', self.new)
        self.assertIn("<emailaddress>jos&#xE9;.o'neil@example.com</emailaddress>",
                      raw)
        self.assertEqual(data.findtext('emailaddress'),
                         "jos\u00e9.o'neil@example.com")
        # GetRecordByID has no default for its id: 6.5.x says so, 6.1.x dies
        _, st, msg = self.call('subscribers', 'GetRecordByID', fake=self.new)
        self.assertEqual((st, msg), ('FAILED', 'Internal error: Failed to '
                                               'retrieve the default value'))
        st, h, raw = hreq(self.fake.port, 'POST', '/xml.php',
                          iem_request('subscribers', 'GetRecordByID'),
                          {'Content-Type': 'text/xml'})
        self.assertEqual(st, 500)
        self.assertIn(b'Fatal error', raw)

    def test_is_subscriber_on_list_and_delete(self):
        _, st, data = self.call(
            'subscribers', 'IsSubscriberOnList',
            '<emailaddress>A&amp;B@example.com</emailaddress><listids>2</listids>')
        self.assertEqual((st, data.text), ('SUCCESS', '11'))
        _, st, msg = self.call(
            'subscribers', 'IsSubscriberOnList',
            '<emailaddress>a&amp;b@example.com</emailaddress><listids>3</listids>')
        self.assertEqual((st, msg), ('FAILED', ''))
        _, st, data = self.call(
            'subscribers', 'IsSubscriberOnList',
            '<emailaddress>none@example.com</emailaddress><listids>1</listids>',
            self.old)
        self.assertEqual((st, data.text), ('SUCCESS', None))
        delete = '<emailaddress>a&amp;b@example.com</emailaddress><listid>2</listid>'
        _, st, _ = self.call('subscribers', 'DeleteSubscriber', delete)
        self.assertEqual(st, 'SUCCESS')
        self.assertNotIn(11, self.unsubscribed())
        _, st, msg = self.call('subscribers', 'DeleteSubscriber', delete)
        self.assertEqual((st, msg), ('FAILED', "The email address "
                                               "'a&b@example.com' is not on this list"))

    def test_get_subscribers_is_substring_search(self):
        raw, st, data = self.call(
            'subscribers', 'GetSubscribers',
            '<searchinfo><List>any</List><Email>a&amp;b@example.com</Email></searchinfo>')
        self.assertEqual((st, data.findtext('count')), ('SUCCESS', '4'))
        self.assertEqual(self.items(data.find('subscriberlist'), 'emailaddress',
                                    'listid', 'unsubscribed', 'bounced'),
                         [('a&b@example.com', '1', '0', '0'),
                          ('a&b@example.com', '2', '0', '0'),
                          ('xa&b@example.com', '3', '0', '0'),
                          ('a&b@example.com', '4', '0', '0')])
        raw, st, data = self.call(
            'subscribers', 'GetSubscribers',
            "<searchinfo><List>1</List><Email>o'brien</Email></searchinfo>")
        self.assertEqual(data.findtext('count'), '1')
        self.assertIn('<emailaddress>o&#039;brien@example.com</emailaddress>', raw)

    def test_failed_logins_ban_the_address(self):
        self.fake.configure(login_ban_seconds=1)
        for _ in range(4):
            _, st, _ = self.call('user', 'GetLists', token='wrong')
            self.assertEqual(st, 'FAILED')
        _, st, _ = self.call('user', 'GetLists')
        self.assertEqual(st, 'SUCCESS')          # four: not yet
        _, st, _ = self.call('user', 'GetLists', token='wrong')
        self.assertTrue(self.fake.banned())
        t0 = time.time()
        # banned: the right token is refused too, and a try while banned
        # is a failed login that bans again (here for 1 s more)
        time.sleep(0.6)
        _, st, msg = self.call('user', 'GetLists')
        self.assertEqual((st, msg), ('FAILED', 'Unable to check user details.'))
        time.sleep(max(0, t0 + 1.2 - time.time()))
        _, st, msg = self.call('user', 'GetLists')
        self.assertEqual((st, msg), ('FAILED', 'Unable to check user details.'),
                         'the try while banned should have made it longer')
        # left alone for the ban's length, the address gets in again
        time.sleep(1.1)
        _, st, _ = self.call('user', 'GetLists')
        self.assertEqual(st, 'SUCCESS')
        # off: the real one's threshold 0
        self.fake.configure(reset=True, login_ban_count=0)
        for _ in range(8):
            self.call('user', 'GetLists', token='wrong')
        _, st, _ = self.call('user', 'GetLists')
        self.assertEqual(st, 'SUCCESS')

    def test_system_inactive(self):
        self.fake.configure(system_active=False)
        _, st, msg = self.call('authentication', 'xmlapitest')
        self.assertEqual((st, msg), ('FAILED', 'Error: Please contact your '
                                               'system admin!'))


# ---- webhook ---------------------------------------------------------------
class WebhookTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fake = webhook.WebhookFake(secret='s3cret').start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.set_data({'events': []})
        self.fake.configure(reset=True)

    def post(self, body, sig=None, path='/hook'):
        h = {'Content-Type': 'application/json'}
        if sig is not None:
            h['X-Bounced-Signature'] = sig
        return hreq(self.fake.port, 'POST', path, body, h)[0]

    def test_signature(self):
        body = b'{"event":"hard","address":"a@example.com"}'
        good = 'sha256=' + hmac.new(b's3cret', body, hashlib.sha256).hexdigest()
        self.assertEqual(self.post(body, good), 200)
        self.assertEqual(self.post(body, good.replace('sha256=', 'sha256=0')), 401)
        self.assertEqual(self.post(body + b' ', good), 401)
        self.assertEqual(self.post(body), 401)
        self.assertEqual(self.fake.events(), [{'event': 'hard',
                                               'address': 'a@example.com'}])
        ev = self.fake.get_data()['events'][0]
        self.assertEqual((ev['path'], ev['headers']['x-bounced-signature']),
                         ('/hook', good))
        self.assertEqual([c['status'] for c in self.fake.calls()][-4:],
                         [200, 401, 401, 401])

    def test_received_counts_requests_under_way(self):
        """received() counts a request as soon as it is read, before a
        slow answer; the call log only once it is answered"""
        body = b'{"event":"hard","address":"a@example.com"}'
        sig = webhook.sign('s3cret', body)
        before = self.fake.received()
        self.fake.configure(latency_ms=600)
        t = threading.Thread(target=self.post, args=(body, sig))
        t.start()
        end = time.monotonic() + 5
        while self.fake.received() == before and time.monotonic() < end:
            time.sleep(0.01)
        self.assertEqual(self.fake.received(), before + 1)
        self.assertEqual(self.fake.events(), [])        # still under way
        t.join()
        self.assertEqual(len(self.fake.events()), 1)
        self.post(b'{}', None, path='/__fake/health')   # control: not counted
        self.assertEqual(self.fake.received(), before + 1)

    def test_status_and_errors(self):
        body = b'{"event":"complaint"}'
        sig = webhook.sign('s3cret', body)
        self.fake.configure(status=202)
        self.assertEqual(self.post(body, sig, '/any/path'), 202)
        st, _ = http_json(self.fake.port, 'POST', '/__fake/config', {'status': 500})
        self.assertEqual(st, 200)
        self.assertEqual(self.post(body, sig), 500)
        self.fake.configure(status=200)
        self.assertEqual(self.post(b'not json', webhook.sign('s3cret', b'not json')), 400)
        self.assertEqual(hreq(self.fake.port, 'GET', '/hook')[0], 405)
        self.assertEqual(len(self.fake.events()), 2)


if __name__ == '__main__':
    unittest.main()
