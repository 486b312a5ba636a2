#!/usr/bin/env python3
"""mailwizz.py - a fake MailWizz API (v1 signed, v2 API key) for bounced's
tests, speaking the wire format of the real one (see README.md): the
endpoints bounced uses, their status codes and JSON envelopes, the HMAC-SHA1 request
signature and its timestamp age, real PUT/DELETE methods, form bodies.

Data (lists with their subscribers, campaigns, recorded bounces and
campaign unsubscribes) is seeded with --data FILE or POST /__fake/data and
read back with GET /__fake/data; the shape is in README.md.  Everything
else (call log, failure injection, control routes) is fakelib's.

Behaviour follows the server's code (MailWizz 1.9.4 and 2.x API
controllers, ListSubscriber, EmailBlacklist, CampaignBounceLog), not the
documentation: a bounce names its subscriber by uid alone (any list, any
address); a hard bounce blacklists only a confirmed subscriber (the first
blacklisting of an address turns every confirmed subscriber with it into
"blacklisted"); messages are cut, never refused; "spam", "block", "RBL"...
refile a bounce as internal; a bounce its bounce log would not save (the
settings bounce_types and bounce_save_errors stand for an extension's
filters) is answered 422 with the field errors, recording nothing; the
search in all lists answers at most 100
records in one page and leaves archived lists out; unsubscribe-by-email
from all lists unsubscribes every membership whatever its status; e-mail
addresses may come back masked and dates in the customer's locale.  An
address is kept as it was given (a domain in Unicode too: the validator
converts it to its ASCII form only to check it) and looked up with SQL
"=" under the column's collation, which ignores case and accents: the
ASCII form of a domain never finds its Unicode form.

Error policy: every bad request gets the answer the real server would give
({"status":"error","error":...} with 400/404/422); the fake never raises.
"""
import html
import hashlib
import hmac
import math
import re
import threading
import time
import unicodedata
from urllib.parse import parse_qsl, unquote

try:
    from . import fakelib
except ImportError:                     # run as a program from tests/fake/
    import fakelib

STATUSES = ('confirmed', 'unconfirmed', 'unsubscribed', 'blacklisted',
            'unapproved', 'disabled', 'moved')
BOUNCE_TYPES = ('hard', 'soft', 'internal')
MESSAGE_MAX = 250
# CampaignBounceLog::looksLikeInternalBounce(): a message matching one of
# these is filed as "internal" before it is saved (and blacklists nobody)
INTERNAL_RES = (re.compile(r'unsolicited mail', re.I),
                re.compile(r'(spam|block(ed)?)', re.I),
                re.compile(r'(DNSBL|RBL|CDRBL|Blacklist)', re.I))
# the search in all lists: ListSubscriber findAll with limit 100, one page
SEARCH_LIMIT = 100
# unsubscribe-by-email-from-all-lists: findAll with limit 1000
UNSUB_ALL_LIMIT = 1000
LIST_STATUSES = ('active', 'pending-delete', 'archived')
# dates as Yii's formatLocalizedDateTime() writes them per locale
LOCALE_FORMATS = {None: '%Y-%m-%d %H:%M:%S',
                  'en_US': '{m}/{d}/%y, {I}:%M %p',
                  'de_DE': '%d.%m.%y %H:%M'}
# messages the API translates (Yii::t('api', ...)) in the customer's
# language, as a language pack of MailWizz has them
TRANSLATED = {
    'de_DE': {
        'This subscriber has already been marked as bounced!':
            'Dieser Abonnent ist bereits als Bounce markiert.',
    },
}
# Yii 1.1's CEmailValidator, which MailWizz's API, forms and imports use:
# at most 254 bytes; a local part of ASCII atoms joined by single dots
# (a UTF-8 local part is answered 422); two labels or more, a hyphen only
# inside a label; no length limit on the parts.  MailWizz's own copy of
# it, which replaces Yii's, has validateIDN on: the domain is checked in
# its ASCII form (idn_to_ascii), and the address kept as it was given
EMAIL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
                      r"(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                      r'@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+'
                      r'[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$')


def idn_checked(email):
    """EMAIL as the validator checks it: its domain in ASCII when it is
    not ASCII ('' when it cannot be converted, as idn_to_ascii's false)"""
    local, at, domain = email.rpartition('@')
    if not at or domain.isascii():
        return email
    try:
        return local + '@' + domain.encode('idna').decode('ascii')
    except UnicodeError:
        return ''


def email_refused(email):
    """The 422 the address lookups and unsubscribe-by-email answer for
    EMAIL, or None when the validator takes it."""
    if not email:
        return _err(422, 'Please provide the subscriber email address.')
    checked = idn_checked(email)
    if len(checked.encode('utf-8')) > 254 or not EMAIL_RE.match(checked):
        return _err(422, 'Please provide a valid email address.')
    return None


def collated(email):
    """The key EMAIL is compared by in SQL: the email columns are
    utf8mb4_unicode_ci, which ignores case, accents and trailing blanks
    ("Hans@Bücher.de" = "hans@bucher.de"), and knows nothing of IDNA
    ("hans@xn--bcher-kva.de" is another string)"""
    decomposed = unicodedata.normalize('NFD', email.casefold())
    return ''.join(c for c in decomposed
                   if not unicodedata.combining(c)).rstrip(' ')


DATE = '2024-01-01 00:00:00'

_SAFE = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                  b'0123456789_.-')


# ---- request signature (API v1) ---------------------------------------
def php_urlencode(s):
    """S encoded like PHP urlencode(): A-Za-z0-9_.- kept, space as +,
    every other UTF-8 byte as %XX (upper-case hex)."""
    out = []
    for b in str(s).encode('utf-8'):
        if b in _SAFE:
            out.append(chr(b))
        elif b == 0x20:
            out.append('+')
        else:
            out.append('%%%02X' % b)
    return ''.join(out)


def php_build_query(params):
    """Dict PARAMS sorted by key (byte order) and encoded like PHP
    http_build_query() of a ksort()ed array."""
    items = sorted(params.items(), key=lambda kv: str(kv[0]).encode('utf-8'))
    return '&'.join(php_urlencode(k) + '=' + php_urlencode(v) for k, v in items)


def signed_string(method, url, get_params, public_key, timestamp,
                  remote_addr='', fields=None):
    """The string a v1 request signs: METHOD URL[?sorted GET] SEP QUERY,
    QUERY being the X-MW-* values merged with body FIELDS, sorted."""
    full = url
    if get_params:
        full += '?' + php_build_query(get_params)
    query = {'X-MW-PUBLIC-KEY': public_key,
             'X-MW-REMOTE-ADDR': remote_addr or '',
             'X-MW-TIMESTAMP': str(timestamp)}
    query.update(fields or {})
    sep = '&' if '?' in full else '?'
    return method.upper() + ' ' + full + sep + php_build_query(query)


def signature(private_key, string):
    """Lower-case hex HMAC-SHA1 of STRING keyed with PRIVATE_KEY."""
    return hmac.new(private_key.encode('utf-8'), string.encode('utf-8'),
                    hashlib.sha1).hexdigest()


def make_uid(*parts):
    """A stable 13-character [a-z0-9] identifier from PARTS."""
    return hashlib.sha1('\0'.join(parts).encode('utf-8')).hexdigest()[:13]


def numbered_uid(prefix, n):
    """A 13-character subscriber uid: PREFIX, then N on 11 digits."""
    return (prefix + '%011d' % n)[:13]


def subscribed_everywhere(addrs, list_uids, campaigns):
    """Data for load_data: each of ADDRS confirmed on every list of
    LIST_UIDS (the Nth address of list I is subscriber
    numbered_uid('sI', N)), and CAMPAIGNS, (uid, name, list uid) each,
    sent."""
    lists = []
    for li, luid in enumerate(list_uids):
        subs = [{'subscriber_uid': numbered_uid('s%d' % li, i), 'email': a,
                 'status': 'confirmed'} for i, a in enumerate(addrs)]
        lists.append({'list_uid': luid, 'name': 'l%d' % li,
                      'display_name': 'List %d' % li, 'subscribers': subs})
    return {'lists': lists,
            'campaigns': [{'campaign_uid': c, 'name': name, 'list_uid': luid,
                           'status': 'sent'} for c, name, luid in campaigns]}


def mask_email(email):
    """StringHelper::maskEmailAddress(): every character of the local part
    and of the domain before its last dot but the first and the last
    replaced by '*' (a single character becomes '*')."""
    if '@' not in email:
        return email
    name, domain = email.split('@', 1)[0], email.split('@')[1]

    def mask(part):
        if len(part) <= 1:
            return '*'
        return part[0] + '*' * max(0, len(part) - 2) + part[-1]
    parts = domain.split('.')
    tld = parts.pop()
    return mask(name) + '@' + mask('.'.join(parts)) + '.' + tld


def truncate_length(text, length=MESSAGE_MAX, ellipsis='...'):
    """StringHelper::truncateLength(): HTML entities decoded, tags
    stripped, then LENGTH characters and '...' when the text is at least
    LENGTH + 3 characters long."""
    text = re.sub(r'<[^>]*>?', '', html.unescape(text))
    if len(text) - len(ellipsis) >= length:
        return text[:length] + ellipsis
    return text


def local_date(value, locale):
    """VALUE ('Y-m-d H:i:s') as the customer's locale writes it."""
    fmt = LOCALE_FORMATS.get(locale, LOCALE_FORMATS[None])
    t = time.strptime(value, '%Y-%m-%d %H:%M:%S')
    fmt = fmt.replace('{m}', str(t.tm_mon)).replace('{d}', str(t.tm_mday))
    fmt = fmt.replace('{I}', str((t.tm_hour + 11) % 12 + 1))
    return time.strftime(fmt, t)


def _err(status, error):
    return fakelib.json_response(status, {'status': 'error', 'error': error})


def _ok(status=200, data=None):
    obj = {'status': 'success'}
    if data is not None:
        obj['data'] = data
    return fakelib.json_response(status, obj)


def _page(query, default, lo, hi):
    """(page, per_page) from QUERY, per_page clamped to LO..HI."""
    def num(name, dflt):
        v = query.get(name, '')
        return int(v) if v.isdigit() else dflt
    page = max(1, num('page', 1))
    per_page = min(hi, max(lo, num('per_page', default)))
    return page, per_page


def _paged(records, page, per_page):
    total = len(records)
    pages = max(1, math.ceil(total / per_page)) if total else 0
    chunk = records[(page - 1) * per_page: page * per_page]
    return {'count': total, 'total_pages': pages, 'current_page': page,
            'next_page': page + 1 if page < pages else None,
            'prev_page': page - 1 if page > 1 else None, 'records': chunk}


# the customer's and the server's options that change answers
DEFAULT_SETTINGS = {
    'mask_emails': False,      # customer group common.mask_email_addresses
    'locale': None,            # customer language: dates as Y-m-d H:i:s
    'blacklist_new_records': True,  # OptionEmailBlacklist allow_new_records
    'denied_ip': False,        # api ip access: every request refused (400)
    # CampaignBounceLog::getBounceTypesArray() as an extension's filter
    # (campaign_bounce_logs_get_bounce_types_list) may leave it: a type
    # not in it is 422 "Invalid bounce type!"
    'bounce_types': list(BOUNCE_TYPES),
    # CampaignBounceLog::save() failing, as an extension's filter of the
    # model's rules or of beforeSave makes it: None saves; an object of
    # attribute -> message is answered 422 as shortErrors->getAll() is;
    # {} or [] as PHP's empty array, [] (a refusal that said nothing)
    'bounce_save_errors': None,
}


class MailWizzFake(fakelib.FakeServer):
    """Fake MailWizz API."""

    NAME = 'mailwizz'
    # drop_bodies: the request bodies (PUT and POST fields) do not reach
    # it, as behind a proxy that drops them
    EXTRA_CONFIG = {'drop_bodies': False}

    def check_extra_config(self, key, value):
        if key == 'drop_bodies' and isinstance(value, bool):
            return value
        raise ValueError('bad setting %s=%r' % (key, value))

    def __init__(self, public_key=None, private_key=None, api_key=None,
                 max_age=900, base='/api', data=None, **kw):
        if bool(public_key) != bool(private_key):
            raise ValueError('API v1 needs both public and private key')
        self.public_key = public_key
        self.private_key = private_key
        self.api_key = api_key
        self.max_age = max_age
        self.base = '/' + base.strip('/') if base.strip('/') else ''
        self._dlock = threading.RLock()
        self._lists = {}
        self._campaigns = {}
        self._bounces = []
        self._unsubs = []
        self._blacklist = []
        self._settings = dict(DEFAULT_SETTINGS)
        super().__init__(**kw)
        self.set_data(data or {})
        self._routes = [
            ('GET', r'lists/subscribers/search-by-email-in-all-lists',
             self._search_all),
            ('PUT', r'lists/subscribers/unsubscribe-by-email-from-all-lists',
             self._unsubscribe_all),
            ('GET', r'lists/(?P<list_uid>[^/]+)/subscribers/search-by-email',
             self._search_list),
            ('PUT', r'lists/(?P<list_uid>[^/]+)/subscribers/(?P<subscriber_uid>[^/]+)/unsubscribe',
             self._unsubscribe_one),
            ('GET', r'lists/(?P<list_uid>[^/]+)/subscribers/(?P<subscriber_uid>[^/]+)',
             self._get_subscriber),
            ('DELETE', r'lists/(?P<list_uid>[^/]+)/subscribers/(?P<subscriber_uid>[^/]+)',
             self._delete_subscriber),
            ('GET', r'lists', self._get_lists),
            ('POST', r'campaigns/(?P<campaign_uid>[^/]+)/bounces', self._bounce),
            ('POST', r'campaigns/(?P<campaign_uid>[^/]+)/track-unsubscribe/(?P<subscriber_uid>[^/]+)',
             self._track_unsubscribe),
            ('GET', r'campaigns/(?P<campaign_uid>[^/]+)', self._get_campaign),
        ]
        self._routes = [(m, re.compile(p + r'/?\Z'), f) for m, p, f in self._routes]

    # ---- data --------------------------------------------------------
    def set_data(self, obj):
        """Replace all data with OBJ (shape in README.md)."""
        if not isinstance(obj, dict):
            raise ValueError('data must be a JSON object')
        lists, campaigns = {}, {}
        for lst in obj.get('lists', []):
            uid = lst.get('list_uid') if isinstance(lst, dict) else None
            if not isinstance(uid, str) or not uid:
                raise ValueError('every list needs a list_uid')
            name = str(lst.get('name', uid))
            subs = {}
            for s in lst.get('subscribers', []):
                if not isinstance(s, dict) or not isinstance(s.get('email'), str):
                    raise ValueError('every subscriber needs an email')
                status = s.get('status', 'confirmed')
                if status not in STATUSES:
                    raise ValueError('bad subscriber status %r' % (status,))
                suid = s.get('subscriber_uid') or make_uid(uid, s['email'])
                subs[suid] = {'subscriber_uid': suid, 'email': s['email'],
                              'status': status,
                              'source': s.get('source', 'import'),
                              'ip_address': s.get('ip_address', ''),
                              'date_added': s.get('date_added', DATE)}
            lstatus = lst.get('status', 'active')
            if lstatus not in LIST_STATUSES:
                raise ValueError('bad list status %r' % (lstatus,))
            lists[uid] = {'list_uid': uid, 'name': name, 'status': lstatus,
                          'display_name': str(lst.get('display_name', name)),
                          'description': str(lst.get('description', name)),
                          'subscribers': subs}
        for c in obj.get('campaigns', []):
            uid = c.get('campaign_uid') if isinstance(c, dict) else None
            if not isinstance(uid, str) or not uid:
                raise ValueError('every campaign needs a campaign_uid')
            campaigns[uid] = {'campaign_uid': uid, 'name': str(c.get('name', uid)),
                              'list_uid': c.get('list_uid'),
                              'status': c.get('status', 'sent'),
                              'type': c.get('type', 'regular'),
                              'subject': str(c.get('subject', c.get('name', uid))),
                              'send_at': c.get('send_at', DATE)}
        bounces = list(obj.get('bounces', []))
        track = list(obj.get('track_unsubscribes', []))
        blacklist = list(obj.get('blacklist', []))
        settings = dict(DEFAULT_SETTINGS)
        for k, v in (obj.get('settings') or {}).items():
            if k not in DEFAULT_SETTINGS:
                raise ValueError('unknown setting %r' % (k,))
            settings[k] = v
        if not (isinstance(settings['bounce_types'], list) and all(
                isinstance(t, str) for t in settings['bounce_types'])):
            raise ValueError('bounce_types must be a list of strings')
        errs = settings['bounce_save_errors']
        if not (errs is None or errs == [] or (isinstance(errs, dict) and all(
                isinstance(v, str) for v in errs.values()))):
            raise ValueError('bounce_save_errors must be null, [] or an '
                             'object of attribute -> message')
        settings['bounce_types'] = list(settings['bounce_types'])
        with self._dlock:
            self._settings = settings
            self._lists, self._campaigns = lists, campaigns
            self._bounces, self._unsubs, self._blacklist = bounces, track, blacklist
            self._index = None
            # look-ups of a dict, not scans: the benchmarks post many
            self._bounced = {(b.get('campaign_uid'), b.get('subscriber_uid'))
                             for b in bounces if isinstance(b, dict)}
            self._blacklisted = {collated(str(e)) for e in blacklist}

    def get_data(self):
        """All data, in the shape set_data() takes."""
        with self._dlock:
            lists = []
            for lst in self._lists.values():
                d = {k: v for k, v in lst.items() if k != 'subscribers'}
                d['subscribers'] = [dict(s) for s in lst['subscribers'].values()]
                lists.append(d)
            return {'lists': lists,
                    'campaigns': [dict(c) for c in self._campaigns.values()],
                    'bounces': [dict(b) for b in self._bounces],
                    'track_unsubscribes': [dict(t) for t in self._unsubs],
                    'blacklist': list(self._blacklist),
                    'settings': dict(self._settings)}

    def _memberships(self, email):
        """[(list, subscriber)] of EMAIL (as collated()), in list order."""
        if getattr(self, '_index', None) is None:
            # built on first use after the data changed: a search costs a
            # dict look-up, not a scan (the benchmarks search thousands)
            index = {}
            for lst in self._lists.values():
                for s in lst['subscribers'].values():
                    index.setdefault(collated(s['email']), []).append(
                        (lst, s))
            self._index = index
        return list(self._index.get(collated(email), []))

    def _subscriber_by_uid(self, suid):
        """loadSubscriberByUid(): the subscriber SUID of any list (the
        real server compares subscriber_uid alone), or None."""
        for lst in self._lists.values():
            if suid in lst['subscribers']:
                return lst['subscribers'][suid]
        return None

    def _display_email(self, s):
        """ListSubscriber::getDisplayEmail()"""
        if self._settings['mask_emails']:
            return mask_email(s['email'])
        return s['email']

    # ---- authentication ----------------------------------------------
    def _auth(self, req, fields, entry):
        """None when REQ may pass, else the error Response."""
        if self._settings['denied_ip']:
            return _err(400, 'Your IP address is not allowed to access '
                             'this server.')
        if not (self.public_key or self.api_key):
            entry['api'] = None
            return None
        key = req.header('X-API-KEY')
        if key is not None:
            entry['api'] = 'v2'
            if not self.api_key or not hmac.compare_digest(
                    key.encode(), self.api_key.encode()):
                return _err(400, 'Invalid API key. Please refer to the documentation.')
            return None
        entry['api'] = 'v1'
        pub = req.header('X-MW-PUBLIC-KEY')
        ts = req.header('X-MW-TIMESTAMP')
        sig = req.header('X-MW-SIGNATURE')
        remote = req.header('X-MW-REMOTE-ADDR', '')
        if not self.public_key or pub is None or ts is None or sig is None:
            return _err(400, 'Invalid API request params. '
                             'Please refer to the documentation.')
        if pub != self.public_key:
            return _err(400, 'Invalid API key. Please refer to the documentation.')
        # (int)$timestamp + $requestTimeFrame < now: a bad number is 0
        stamp = int(ts) if ts.isdigit() else 0
        if stamp + self.max_age < time.time():
            return _err(400, 'Your request expired. '
                             'Please refer to the documentation.')
        host = req.header('Host')
        if not host:
            return _err(400, 'Invalid API request params. '
                             'Please refer to the documentation.')
        s = signed_string(req.method, 'http://' + host + req.path, req.query,
                          pub, ts, remote,
                          fields if req.method != 'GET' else None)
        want = signature(self.private_key, s)
        entry['signed_string'] = s
        entry['expected_signature'] = want
        if not hmac.compare_digest(sig.encode(), want.encode()):
            return _err(400, 'Invalid API request signature. '
                             'Please refer to the documentation.')
        return None

    # ---- dispatch ----------------------------------------------------
    def failure_response(self, status):
        if self.setting('fail_body') == 'html':
            return super().failure_response(status)
        return _err(status, 'Service temporarily unavailable (injected %d)' % status)

    def handle(self, req, entry):
        if self.base and not (req.path == self.base or
                              req.path.startswith(self.base + '/')):
            return _err(404, 'Page not found.')
        rel = req.path[len(self.base):].strip('/')
        found, handler, args = False, None, None
        for method, rx, fn in self._routes:
            m = rx.match(rel)
            if m:
                found = True
                if method == req.method:
                    handler = fn
                    args = {k: unquote(v) for k, v in m.groupdict().items()}
                    break
        if not found:
            return _err(404, 'Page not found.')
        override = req.header('X-HTTP-Method-Override')
        if override is not None and override.strip().upper() != req.method:
            return _err(400, 'The request method %s does not match '
                             'X-HTTP-Method-Override %s; send the real method.'
                        % (req.method, override.strip()))
        if handler is None:
            return _err(400, 'Invalid request. Please do not repeat this '
                             'request again (wrong method %s).' % req.method)
        fields = {}
        if req.body and req.method != 'GET':
            ctype = req.header('Content-Type', '').split(';')[0].strip().lower()
            if ctype != 'application/x-www-form-urlencoded':
                return _err(400, 'Unsupported Content-Type %r; send '
                                 'application/x-www-form-urlencoded.' % ctype)
            try:
                fields = dict(parse_qsl(req.body.decode('utf-8'),
                                        keep_blank_values=True))
            except UnicodeDecodeError:
                return _err(400, 'The request body is not UTF-8.')
        if self.setting('drop_bodies'):
            # a proxy in front of it that passes the request without its
            # body: what MailWizz reads is no field at all
            fields = {}
        entry['parsed'] = fields
        bad = self._auth(req, fields, entry)
        if bad is not None:
            return bad
        with self._dlock:
            return handler(req, fields, **args)

    # ---- endpoints ---------------------------------------------------
    def _search_all(self, req, fields):
        email = req.query.get('EMAIL', '')
        refused = email_refused(email)
        if refused is not None:
            return refused
        # lists neither archived nor pending delete, at most 100 records,
        # always "page 1 of 1" (the real action has no paging)
        recs = [{'subscriber_uid': s['subscriber_uid'], 'email': s['email'],
                 'status': s['status'], 'source': s['source'],
                 'ip_address': s['ip_address'],
                 'list': {'list_uid': lst['list_uid'],
                          'display_name': lst['display_name'],
                          'name': lst['name']},
                 'date_added': s['date_added']}
                for lst, s in self._memberships(email)
                if lst['status'] == 'active'][:SEARCH_LIMIT]
        return _ok(200, {'records': recs, 'count': len(recs),
                         'current_page': 1, 'next_page': None,
                         'prev_page': None, 'total_pages': 1})

    def _search_list(self, req, fields, list_uid):
        lst = self._live_list(list_uid)
        if lst is None:
            return _err(404, 'The subscribers list does not exist.')
        email = req.query.get('EMAIL', '')
        refused = email_refused(email)
        if refused is not None:
            return refused
        for s in lst['subscribers'].values():
            if collated(s['email']) == collated(email):
                return _ok(200, {'subscriber_uid': s['subscriber_uid'],
                                 'status': s['status'],
                                 'date_added': s['date_added']})
        return _err(404, 'The subscriber does not exist in this list.')

    def _live_list(self, list_uid):
        """the list of LIST_UID as loadListByUid() finds it: None for
        an archived one or one being deleted (answered 404)"""
        lst = self._lists.get(list_uid)
        if lst is None or lst['status'] in ('archived', 'pending-delete'):
            return None
        return lst

    def _unsubscribe_one(self, req, fields, list_uid, subscriber_uid):
        lst = self._live_list(list_uid)
        if lst is None:
            return _err(404, 'The subscribers list does not exist.')
        s = lst['subscribers'].get(subscriber_uid)
        if s is None:
            return _err(404, 'The subscriber does not exist in this list.')
        if s['status'] == 'confirmed':
            s['status'] = 'unsubscribed'
        return _ok()

    def _unsubscribe_all(self, req, fields):
        email = fields.get('EMAIL', '')
        refused = email_refused(email)
        if refused is not None:
            return refused
        # every list of the customer, archived ones too, whatever the
        # subscriber's status (saveStatus() of each)
        for _, s in self._memberships(email)[:UNSUB_ALL_LIMIT]:
            s['status'] = 'unsubscribed'
        return _ok()

    def _bounce(self, req, fields, campaign_uid):
        c = self._campaigns.get(campaign_uid)
        if c is None:
            return _err(404, 'The campaign does not exist!')
        # the order of Campaign_bouncesController::actionCreate()
        suid = fields.get('subscriber_uid', '')
        s = self._subscriber_by_uid(suid) if suid else None
        if s is None:
            return _err(404, 'The subscriber does not exist!')
        if (campaign_uid, suid) in self._bounced:
            return _err(422, self._t('This subscriber has already been '
                                     'marked as bounced!'))
        btype = fields.get('bounce_type', 'internal')
        message = truncate_length(fields.get('message', 'BOUNCED BACK'))
        if btype not in self._settings['bounce_types']:
            return _err(422, 'Invalid bounce type!')
        errs = self._settings['bounce_save_errors']
        if errs is not None:
            # save() refused: nothing recorded, nobody blacklisted; PHP
            # encodes the empty array of errors as [], others as {}
            return _err(422, dict(errs) if errs else [])
        if btype == 'internal' or (message and any(
                rx.search(message) for rx in INTERNAL_RES)):
            btype = 'internal'
        rec = {'campaign_uid': campaign_uid, 'subscriber_uid': suid, 'email': s['email'],
               'bounce_type': btype, 'message': message, 'processed': 'no',
               'date_added': time.strftime('%Y-%m-%d %H:%M:%S')}
        self._bounces.append(rec)
        self._bounced.add((campaign_uid, suid))
        if btype == 'hard':
            self._add_to_blacklist(s, message)
        return _ok(201, {'record': {
            'message': message, 'processed': 'no', 'bounce_type': btype,
            'subscriber': {'subscriber_uid': suid,
                           'email': self._display_email(s)}}})

    def _t(self, text):
        """TEXT in the customer's language (Yii::t), when a pack has it"""
        return TRANSLATED.get(self._settings['locale'], {}).get(text, text)

    def _add_to_blacklist(self, s, reason):
        """EmailBlacklist::addToBlacklist() of subscriber S: nothing unless
        S is confirmed; a new blacklist record turns every confirmed
        subscriber with the address into "blacklisted" (afterSave), an
        address blacklisted before (or new records not allowed) only S."""
        if s['status'] != 'confirmed':
            return
        known = collated(s['email']) in self._blacklisted
        if known or not self._settings['blacklist_new_records']:
            s['status'] = 'blacklisted'
            return
        self._blacklist.append(s['email'])
        self._blacklisted.add(collated(s['email']))
        for _, other in self._memberships(s['email']):
            if other['status'] == 'confirmed':
                other['status'] = 'blacklisted'

    def _track_unsubscribe(self, req, fields, campaign_uid, subscriber_uid):
        c = self._campaigns.get(campaign_uid)
        if c is None:
            return _err(404, 'The campaign does not exist.')
        s = self._subscriber_by_uid(subscriber_uid)
        if s is None:
            return _err(404, 'The subscriber does not exist.')
        if s['status'] != 'confirmed':
            return _ok()
        s['status'] = 'unsubscribed'
        if any(t['campaign_uid'] == campaign_uid and
               t['subscriber_uid'] == subscriber_uid for t in self._unsubs):
            return _ok()
        self._unsubs.append({'campaign_uid': campaign_uid,
                             'subscriber_uid': subscriber_uid,
                             'email': s['email'],
                             'ip_address': fields.get('ip_address', ''),
                             'user_agent': fields.get('user_agent', ''),
                             'reason': fields.get('reason',
                                                   'Unsubscribed via API!')[:255]})
        return _ok()

    def _get_subscriber(self, req, fields, list_uid, subscriber_uid):
        lst = self._live_list(list_uid)
        if lst is None:
            return _err(404, 'The subscribers list does not exist.')
        s = lst['subscribers'].get(subscriber_uid)
        if s is None:
            return _err(404, 'The subscriber does not exist in this list.')
        return _ok(200, {'record': {
            'subscriber_uid': s['subscriber_uid'],
            'EMAIL': self._display_email(s),
            'FNAME': '', 'LNAME': '', 'status': s['status'],
            'source': s['source'], 'ip_address': s['ip_address'],
            'date_added': s['date_added']}})

    def _delete_subscriber(self, req, fields, list_uid, subscriber_uid):
        lst = self._live_list(list_uid)
        if lst is None:
            return _err(404, 'The subscribers list does not exist.')
        if lst['subscribers'].pop(subscriber_uid, None) is None:
            return _err(404, 'The subscriber does not exist in this list.')
        self._index = None
        return _ok()

    def _get_lists(self, req, fields):
        page, per_page = _page(req.query, 10, 10, 50)
        recs = [{'general': {'list_uid': lst['list_uid'], 'name': lst['name'],
                             'display_name': lst['display_name'],
                             'description': lst['description']},
                 'defaults': {'from_name': lst['name'],
                              'from_email': 'list@example.com',
                              'reply_to': 'list@example.com', 'subject': ''},
                 'notifications': {'subscribe': 'no', 'unsubscribe': 'no',
                                   'subscribe_to': '', 'unsubscribe_to': ''},
                 'company': {'name': 'Example', 'country': {'name': 'Nowhere'}}}
                for lst in self._lists.values()]
        return _ok(200, _paged(recs, page, per_page))

    def _get_campaign(self, req, fields, campaign_uid):
        c = self._campaigns.get(campaign_uid)
        if c is None:
            return _err(404, 'The campaign does not exist.')
        lst = self._lists.get(c.get('list_uid') or '')
        loc = self._settings['locale']
        # a campaign whose list is gone answers an empty "list" (PHP [])
        lrec = ({'list_uid': lst['list_uid'], 'name': lst['name'],
                 'subscribers_count': sum(
                     1 for s in lst['subscribers'].values()
                     if s['status'] == 'confirmed')} if lst else [])
        return _ok(200, {'record': {
            'campaign_uid': c['campaign_uid'], 'name': c['name'],
            'type': c['type'], 'from_name': 'Example',
            'from_email': 'news@example.com', 'to_name': '[EMAIL]',
            'reply_to': 'news@example.com', 'subject': c['subject'],
            'status': c['status'], 'date_added': local_date(DATE, loc),
            'send_at': local_date(c['send_at'], loc), 'list': lrec,
            'segment': [], 'group': []}})

    # ---- command line ------------------------------------------------
    @classmethod
    def add_arguments(cls, ap):
        ap.add_argument('--public-key', help='API v1 public key')
        ap.add_argument('--private-key', help='API v1 private key')
        ap.add_argument('--api-key', help='API v2 key')
        ap.add_argument('--max-age', type=int, default=900,
                        help='oldest accepted v1 timestamp, seconds')
        ap.add_argument('--base', default='/api', help='path of the API')

    @classmethod
    def kwargs_from_args(cls, args):
        return {'public_key': args.public_key, 'private_key': args.private_key,
                'api_key': args.api_key, 'max_age': args.max_age,
                'base': args.base}


if __name__ == '__main__':
    raise SystemExit(fakelib.run_main(MailWizzFake))
