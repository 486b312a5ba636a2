#!/usr/bin/env python3
"""interspire.py - a fake Interspire Email Marketer XML API for bounced's
tests, speaking the wire format of the real one (see README.md): one POST of an
<xmlrequest> document to /xml.php, always answered HTTP 200 text/xml with
<response><status>SUCCESS|FAILED</status>...</response>, values
HTML-escaped (' as &#039;), whitespace and blank lines between elements.

Requests: authentication/xmlapitest, user/GetLists, and subscribers/
GetAllListsForEmailAddress, IsSubscriberOnList, GetSubscribers (Email is a
substring match, as in the real one), UnsubscribeSubscriber,
DeleteSubscriber.  --variant 6.1.0 gives the older answers (SUCCESS with
<item>1</item><item></item> / <item></item><item>message</item> for
UnsubscribeSubscriber and DeleteSubscriber, SUCCESS with empty data when
IsSubscriberOnList finds nothing); the default 6.1.5 answers FAILED.

Data (lists, subscribers) is seeded with --data FILE or POST /__fake/data
and read back with GET /__fake/data (shape in README.md).

Error policy: every bad request gets the FAILED answer the real one gives;
documents with a DTD or entity declaration are refused as invalid XML.
"""
import re
import threading
import time
import xml.etree.ElementTree as ET

try:
    from . import fakelib
except ImportError:                     # run as a program from tests/fake/
    import fakelib

MSG_BAD_XML = ('The XML you provided is not valid. '
               'Please check your xml document and try again.')
MSG_BAD_USER = 'Unable to check user details.'
MSG_BAD_TYPE = 'Invalid request type'
MSG_BAD_METHOD = 'Invalid request method'
MSG_NOT_ON_LIST = "The email address '%s' is not subscribed to this list"
MSG_NO_SUBSCRIBER = "The email address '%s' is not on this list"
VARIANTS = ('6.1.5', '6.1.0')
_DTD_RE = re.compile(rb'<!\s*(DOCTYPE|ENTITY)', re.I)


def html_escape(value):
    """VALUE as PHP htmlspecialchars(ENT_QUOTES) writes it."""
    return (str(value).replace('&', '&amp;').replace('<', '&lt;')
            .replace('>', '&gt;').replace('"', '&quot;').replace("'", '&#039;'))


def _render(tag, value, depth):
    """Element TAG holding VALUE (dict: child elements; list: <item>s;
    other: escaped text), indented by tabs, blank line after containers."""
    ind = '\t' * depth
    if isinstance(value, dict):
        inner = ''.join(_render(k, v, depth + 1) for k, v in value.items())
        return '%s<%s>\n%s%s</%s>\n\n' % (ind, tag, inner, ind, tag)
    if isinstance(value, list):
        inner = ''.join(_render('item', v, depth + 1) for v in value)
        return '%s<%s>\n%s%s</%s>\n\n' % (ind, tag, inner, ind, tag)
    text = '' if value is None else html_escape(value)
    return '%s<%s>%s</%s>\n' % (ind, tag, text, tag)


def success_xml(data):
    """The SUCCESS answer carrying DATA."""
    return '<response>\n<status>SUCCESS</status>\n\n%s</response>\n' % \
        _render('data', data, 0)


def failure_xml(message):
    """The FAILED answer with MESSAGE."""
    return ('<response>\n<status>FAILED</status>\n\n<errormessage>%s'
            '</errormessage>\n</response>\n' % html_escape(message))


def _xml(text):
    return fakelib.Response(200, text, 'text/xml; charset=UTF-8')


def element_obj(e):
    """Element E as JSON-able: its text, or a dict of its children
    (repeated names become lists)."""
    children = list(e)
    if not children:
        return e.text or ''
    out = {}
    for c in children:
        v = element_obj(c)
        if c.tag in out:
            if not isinstance(out[c.tag], list):
                out[c.tag] = [out[c.tag]]
            out[c.tag].append(v)
        else:
            out[c.tag] = v
    return out


def _int(text):
    """PHP-like (int) of TEXT for ids, or None when it holds no number."""
    m = re.match(r'\s*(\d+)', text or '')
    return int(m.group(1)) if m else None


def _ids(details, name):
    """The list ids of child NAME: "1,2,3", repeated elements, or <item>s."""
    out = []
    for e in details.findall(name):
        parts = [i.text or '' for i in e.findall('item')] or (e.text or '').split(',')
        out += [n for n in (_int(p) for p in parts) if n is not None]
    return out


def _text(details, name):
    e = details.find(name)
    return None if e is None else (e.text or '')


class InterspireFake(fakelib.FakeServer):
    """Fake Interspire Email Marketer XML API."""

    NAME = 'interspire'

    def __init__(self, username='admin', usertoken='xmltoken', path='/xml.php',
                 variant='6.1.5', data=None, **kw):
        if variant not in VARIANTS:
            raise ValueError('variant must be one of %s' % ', '.join(VARIANTS))
        if not username or not usertoken:
            raise ValueError('username and usertoken must not be empty')
        self.username = username
        self.usertoken = usertoken
        self.xml_path = path
        self.variant = variant
        self._dlock = threading.RLock()
        self._lists = []
        self._subs = []
        super().__init__(**kw)
        self.set_data(data or {})
        self._methods = {
            ('authentication', 'xmlapitest'): self._xmlapitest,
            ('user', 'GetLists'): self._get_lists,
            ('subscribers', 'GetAllListsForEmailAddress'): self._all_lists_for,
            ('subscribers', 'IsSubscriberOnList'): self._is_on_list,
            ('subscribers', 'GetSubscribers'): self._get_subscribers,
            ('subscribers', 'UnsubscribeSubscriber'): self._unsubscribe,
            ('subscribers', 'DeleteSubscriber'): self._delete,
        }

    # ---- data --------------------------------------------------------
    def set_data(self, obj):
        """Replace all data with OBJ (shape in README.md)."""
        if not isinstance(obj, dict):
            raise ValueError('data must be a JSON object')
        lists, subs = [], []
        for lst in obj.get('lists', []):
            lid = _int(str(lst.get('listid', ''))) if isinstance(lst, dict) else None
            if lid is None:
                raise ValueError('every list needs a numeric listid')
            lists.append({'listid': lid, 'name': str(lst.get('name', 'List %d' % lid))})
        next_id = 1 + max([_int(str(s.get('subscriberid', ''))) or 0
                           for s in obj.get('subscribers', []) if isinstance(s, dict)]
                          or [0])
        for s in obj.get('subscribers', []):
            if not isinstance(s, dict) or not isinstance(s.get('emailaddress'), str):
                raise ValueError('every subscriber needs an emailaddress')
            lid = _int(str(s.get('listid', '')))
            if lid is None:
                raise ValueError('every subscriber needs a numeric listid')
            sid = _int(str(s.get('subscriberid', '')))
            if sid is None:
                sid, next_id = next_id, next_id + 1
            subs.append({'subscriberid': sid, 'emailaddress': s['emailaddress'],
                         'listid': lid,
                         'unsubscribed': int(s.get('unsubscribed', 0) or 0),
                         'bounced': int(s.get('bounced', 0) or 0)})
        with self._dlock:
            self._lists, self._subs = lists, subs

    def get_data(self):
        """All data, in the shape set_data() takes."""
        with self._dlock:
            return {'lists': [dict(x) for x in self._lists],
                    'subscribers': [dict(x) for x in self._subs]}

    def _find(self, email, listids=None):
        """Subscribers with address EMAIL (case-insensitive) on LISTIDS."""
        e = email.lower()
        return [s for s in self._subs if s['emailaddress'].lower() == e and
                (listids is None or s['listid'] in listids)]

    # ---- dispatch ----------------------------------------------------
    def failure_response(self, status):
        return fakelib.Response(status, '<html><body><h1>%d</h1>injected'
                                '</body></html>\n' % status, 'text/html')

    def handle(self, req, entry):
        if req.path != self.xml_path:
            return fakelib.Response(404, '<html><body>Not Found</body></html>\n',
                                    'text/html')
        if req.method != 'POST' or not req.body or _DTD_RE.search(req.body):
            return _xml(failure_xml(MSG_BAD_XML))
        try:
            root = ET.fromstring(req.body)
        except ET.ParseError:
            return _xml(failure_xml(MSG_BAD_XML))
        if root.tag != 'xmlrequest':
            return _xml(failure_xml(MSG_BAD_XML))
        parts = {n: root.find(n) for n in ('username', 'usertoken', 'requesttype',
                                           'requestmethod', 'details')}
        entry['parsed'] = {n: (element_obj(e) if e is not None else None)
                           for n, e in parts.items()}
        if any(e is None for e in parts.values()):
            return _xml(failure_xml(MSG_BAD_XML))
        if (parts['username'].text or '') != self.username or \
                (parts['usertoken'].text or '') != self.usertoken:
            return _xml(failure_xml(MSG_BAD_USER))
        rtype = parts['requesttype'].text or ''
        rmethod = parts['requestmethod'].text or ''
        if rtype not in {t for t, _ in self._methods}:
            return _xml(failure_xml(MSG_BAD_TYPE))
        fn = self._methods.get((rtype, rmethod))
        if fn is None:
            return _xml(failure_xml(MSG_BAD_METHOD))
        details = parts['details']
        if details.text is None and not len(details):
            return _xml(failure_xml(MSG_BAD_XML))
        with self._dlock:
            return _xml(fn(details))

    # ---- requests ----------------------------------------------------
    def _xmlapitest(self, details):
        return success_xml({'userid': 1, 'username': self.username})

    def _get_lists(self, details):
        items = []
        for lst in self._lists:
            on = [s for s in self._subs if s['listid'] == lst['listid']]
            items.append({
                'listid': lst['listid'], 'name': lst['name'],
                'subscribecount': sum(1 for s in on if not s['unsubscribed']
                                      and not s['bounced']),
                'unsubscribecount': sum(1 for s in on if s['unsubscribed']),
                'autorespondercount': 0,
                'bouncecount': sum(1 for s in on if s['bounced']),
                'createdate': 1700000000, 'ownerid': 1,
                'ownername': self.username, 'ownername_full': self.username,
                'format': 'b', 'notifyowner': 1})
        return success_xml(items)

    def _all_lists_for(self, details):
        email = _text(details, 'email')
        if email is None:
            email = _text(details, 'emailaddress') or ''
        ids = _ids(details, 'listids') if details.find('listids') is not None \
            else None
        subs = [s for s in self._find(email, ids)
                if not s['unsubscribed'] and not s['bounced']]
        return success_xml([{'subscriberid': s['subscriberid'],
                             'listid': s['listid']} for s in subs])

    def _is_on_list(self, details):
        email = _text(details, 'emailaddress') or ''
        ids = _ids(details, 'listids')
        subs = self._find(email, ids)
        if subs:
            return success_xml(subs[0]['subscriberid'])
        return success_xml('') if self.variant == '6.1.0' else failure_xml('')

    def _get_subscribers(self, details):
        info = details.find('searchinfo')
        if info is None:
            return failure_xml(MSG_BAD_XML)
        wanted = (_text(info, 'List') or 'any').strip()
        ids = None if wanted.lower() in ('any', 'all', '') else \
            [n for n in (_int(p) for p in wanted.split(',')) if n is not None]
        part = (_text(info, 'Email') or '').lower()
        subs = [s for s in self._subs
                if (ids is None or s['listid'] in ids) and
                part in s['emailaddress'].lower()]
        return success_xml({'count': len(subs), 'subscriberlist': [
            {'subscriberid': s['subscriberid'], 'emailaddress': s['emailaddress'],
             'format': 'h', 'subscribedate': 1700000000, 'confirmed': 1,
             'unsubscribed': s['unsubscribed'], 'bounced': s['bounced'],
             'listid': s['listid']} for s in subs]})

    def _outcome(self, error):
        """The answer of UnsubscribeSubscriber/DeleteSubscriber."""
        if self.variant == '6.1.0':
            return success_xml(['', error] if error else [1, ''])
        return failure_xml(error) if error else success_xml('')

    def _unsubscribe(self, details):
        email = _text(details, 'emailaddress') or ''
        lid = _int(_text(details, 'listid'))
        active = [s for s in self._find(email, [lid])
                  if not s['unsubscribed']]
        if not active:
            return self._outcome(MSG_NOT_ON_LIST % email)
        for s in active:
            s['unsubscribed'] = int(time.time())
        return self._outcome(None)

    def _delete(self, details):
        email = _text(details, 'emailaddress') or ''
        lid = _int(_text(details, 'listid'))
        gone = self._find(email, [lid])
        if not gone:
            return self._outcome(MSG_NO_SUBSCRIBER % email)
        drop = {id(s) for s in gone}
        self._subs = [s for s in self._subs if id(s) not in drop]
        return self._outcome(None)

    # ---- command line ------------------------------------------------
    @classmethod
    def add_arguments(cls, ap):
        ap.add_argument('--username', default='admin')
        ap.add_argument('--usertoken', default='xmltoken')
        ap.add_argument('--path', default='/xml.php', help='path of xml.php')
        ap.add_argument('--variant', default='6.1.5', choices=VARIANTS)

    @classmethod
    def kwargs_from_args(cls, args):
        return {'username': args.username, 'usertoken': args.usertoken,
                'path': args.path, 'variant': args.variant}


if __name__ == '__main__':
    raise SystemExit(fakelib.run_main(InterspireFake))
