#!/usr/bin/env python3
"""interspire.py - a fake Interspire Email Marketer XML API for bounced's
tests, modelled on how the real xml.php (6.1.x and 6.5.x) reads a request
and answers it (see README.md for every rule and where it comes from).

A request is one POST of an <xmlrequest> document to /xml.php.  Like the
real one, the fake turns <details> into named parameters (an element
without children is a trimmed string, repeated elements a list, an
element with children a nested array), binds them by name to the API
method (missing ones take the method's default), calls it, and maps what
the method returns to the answer: an empty result (no row, an empty list,
false) is FAILED with an empty <errormessage>, a (false, message) pair is
FAILED with the message, anything else SUCCESS with <data>.  Request types
are case-sensitive (they name a file on the server), methods are not.

Requests: authentication/xmlapitest; user/GetLists (the lists the user
owns or its user group may access, all lists for a system or list
administrator); subscribers/
GetAllListsForEmailAddress, IsSubscriberOnList, GetRecordByID,
GetEmailForSubscriber, GetSubscribers, UnsubscribeSubscriber,
DeleteSubscriber.  --variant 6.1.0 gives the older answers (every result
SUCCESS, UnsubscribeSubscriber as <item>1</item><item></item>), 6.5.1 the
newer layout (compact, non-ASCII as character references, xmlapitest data
under <user>); the default 6.1.5 is the 6.1.x layout.  --database pgsql
matches addresses as PostgreSQL does (exact in GetAllListsForEmailAddress,
ILIKE patterns where the real one uses them).

Failed logins are counted per client address as the real one does by
default: 5 within 300 s ban the address for 300 s, every attempt while
banned counts too, and a banned client gets "Unable to check user
details." whatever it sends (settings login_ban_count, login_ban_window,
login_ban_seconds, login_wait_ms).

Data (users, lists, subscribers) is seeded with --data FILE or POST
/__fake/data and read back with GET /__fake/data (shape in README.md).

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

MSG_NO_DATA = 'No data has been given to the XML-API.'
MSG_BAD_XML = ('The XML you provided is not valid. '
               'Please check your XML document and try again.')
MSG_BAD_XML_651 = 'String could not be parsed as XML'
MSG_REQUIRED = ('The XML format you have sent is invalid. '
                'The following field is required: %s')
MSG_BAD_USER = 'Unable to check user details.'
MSG_INACTIVE = 'Error: Please contact your system admin!'
MSG_BAD_TYPE = 'Invalid request type'
MSG_NOT_ON_LIST = "The email address '%s' is not subscribed to this list"
MSG_NO_SUBSCRIBER = "The email address '%s' is not on this list"
MSG_NO_LIST = 'No List or email address'
MSG_NO_DEFAULT = 'Internal error: Failed to retrieve the default value'
VARIANTS = ('6.1.5', '6.1.0', '6.5.1')
DATABASES = ('mysql', 'pgsql')
REQUIRED = ('username', 'usertoken', 'requesttype', 'requestmethod', 'details')
# the API files a request type may name (admin/functions/api/NAME.php)
REQUEST_TYPES = ('subscribers', 'user', 'lists', 'newsletters', 'stats',
                 'customfields', 'segment', 'autoresponders', 'templates')
_DTD_RE = re.compile(rb'<!\s*(DOCTYPE|ENTITY)', re.I)
_NUMERIC_RE = re.compile(r'^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$')
_NOT_WORD_RE = re.compile(r'[^A-Za-z0-9_]')   # PCRE's \W without /u
NO_DEFAULT = object()       # a method parameter without a default value


# ---- PHP's view of values ---------------------------------------------

def php_str(v):
    """(string) V as PHP writes it."""
    if v is None or v is False:
        return ''
    if v is True:
        return '1'
    if isinstance(v, (list, dict)):
        return 'Array'
    return str(v)


def php_true(v):
    """V in a boolean context (empty(V) is its negation)."""
    if isinstance(v, str):
        return v not in ('', '0')
    return bool(v)


def php_int(v):
    """(int) V: the leading number of a string, 0 when there is none."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, (list, dict)):
        return 1 if v else 0
    m = re.match(r'\s*([+-]?\d+)', php_str(v))
    return int(m.group(1)) if m else 0


def is_numeric(v):
    """PHP's is_numeric(V)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, str) and bool(_NUMERIC_RE.match(v))


def check_int_vars(values):
    """API::CheckIntVars: the values of array VALUES that are numeric (a
    list, or None when VALUES is not an array)."""
    if isinstance(values, dict):
        values = list(values.values())
    if not isinstance(values, list):
        return None
    return [v for v in values if is_numeric(v)]


def php_items(v):
    """(key, value) pairs of a PHP array (list: numeric keys)."""
    return list(enumerate(v)) if isinstance(v, list) else list(v.items())


def html_escape(value):
    """VALUE as PHP htmlspecialchars(ENT_QUOTES) writes it."""
    return (php_str(value).replace('&', '&amp;').replace('<', '&lt;')
            .replace('>', '&gt;').replace('"', '&quot;').replace("'", '&#039;'))


def _ascii_refs(text):
    """Non-ASCII characters as &#xHH; (libxml's asXML() without a declared
    encoding, which 6.5.x answers go through)."""
    return ''.join(c if ord(c) < 128 else '&#x%X;' % ord(c) for c in text)


# ---- answers ------------------------------------------------------------

def format_xml(xml):
    """FormatXML of 6.1.x: a newline and one tab per open element before
    each opening tag, and before a closing tag that follows another."""
    out, depth, last = [], 0, ''
    i, n = 0, len(xml)
    while i < n:
        if xml[i] == '<' and xml[i + 1:i + 2] != '?':
            j = xml.index('>', i)
            tag = xml[i:j + 1]
            if tag.startswith('</'):
                if last == 'closed':
                    out.append('\n' + '\t' * max(depth - 1, 0))
                out.append(tag)
                depth = max(depth - 1, 0)
                last = 'closed'
            else:
                out.append('\n' + '\t' * depth + tag)
                if not tag.endswith('/>'):
                    depth += 1
                last = 'opened'
            i = j + 1
        else:
            out.append(xml[i])
            i += 1
    return ''.join(out)


def create_output(value, variant):
    """The <data> text of VALUE as the variant's CreateOutput writes it."""
    if not isinstance(value, (list, dict)):
        return html_escape(value) + '\n'
    parts = []
    for name, data in php_items(value):
        name = 'item' if is_numeric(name) else html_escape(name)
        if not isinstance(data, (list, dict)):
            parts.append('<%s>%s</%s>' % (name, html_escape(data), name))
            continue
        parts.append('<%s>' % name)
        nested = []
        for k, v in php_items(data):
            if isinstance(v, (list, dict)):
                if variant == '6.5.1':
                    nested.append(create_output({k: v}, variant))
                else:
                    parts.append('<item>' + create_output(v, variant) + '</item>')
                continue
            k = 'item' if is_numeric(k) else html_escape(k)
            parts.append('<%s>%s</%s>' % (k, html_escape(v), k))
        if nested:
            parts.append('<items>' + ''.join(nested) + '</items>')
        parts.append('</%s>' % name)
    text = ''.join(parts)
    if variant == '6.5.1':     # re-read and written by SimpleXML
        return _ascii_refs(text.replace('&#039;', "'").replace('&quot;', '"'))
    return format_xml(text)


def success_xml(data, variant='6.1.5'):
    """The SUCCESS answer carrying DATA (a PHP-like value)."""
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<response>\n'
            '<status>SUCCESS</status>\n<data>%s</data></response>\n'
            % create_output(data, variant).strip(' \t\n\r\0\x0b'))


def failure_xml(message):
    """The FAILED answer with MESSAGE (an array: its values joined)."""
    if isinstance(message, (list, dict)):
        message = ''.join(php_str(v) for _, v in php_items(message))
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<response>\n'
            '<status>FAILED</status>\n<errormessage>%s</errormessage>\n'
            '</response>\n' % html_escape(message))


def _xml(text):
    return fakelib.Response(200, text, 'text/xml;charset=UTF-8')


# ---- requests -------------------------------------------------------------

def element_obj(e):
    """Element E as JSON-able for the call log: its text, or a dict of its
    children (repeated names become lists)."""
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


def _string(e):
    """(string) of a SimpleXML element: its own text, not its children's."""
    return (e.text or '') + ''.join(c.tail or '' for c in e)


def function_params(elem):
    """CreateFunctionParams: the children of ELEM as named parameters.  A
    child without children is its trimmed text, repeated such children a
    list of them, a child with children a dict of its own parameters (so
    <listids><item>1</item><item>2</item></listids> is {'item': [...]})."""
    out = {}
    for child in elem:
        key = child.tag.strip()
        if len(child) == 0:
            val = _string(child).strip(' \t\n\r\0\x0b')
            if key in out:
                if not isinstance(out[key], list):
                    out[key] = [out[key]]
                out[key].append(val)
            else:
                out[key] = val
        else:
            out[key] = function_params(child)
    return out


def _empty_element(e):
    """SimpleXML's empty() of element E: no child at all, or one text
    that is empty or "0"."""
    if len(e):
        return False
    return (e.text or '') in ('', '0')


class InterspireFake(fakelib.FakeServer):
    """Fake Interspire Email Marketer XML API."""

    NAME = 'interspire'
    EXTRA_CONFIG = {
        'login_ban_count': 5,       # failed logins that ban (0: never)
        'login_ban_window': 300,    # ... within this many seconds
        'login_ban_seconds': 300,   # how long a ban lasts
        'login_wait_ms': 0,         # sleep after a failed login (real: 5 s)
        'system_active': True,      # false: every request is refused
    }

    def __init__(self, username='admin', usertoken='xmltoken', path='/xml.php',
                 variant='6.1.5', database='mysql', data=None, **kw):
        if variant not in VARIANTS:
            raise ValueError('variant must be one of %s' % ', '.join(VARIANTS))
        if database not in DATABASES:
            raise ValueError('database must be one of %s' % ', '.join(DATABASES))
        if not username or not usertoken:
            raise ValueError('username and usertoken must not be empty')
        self.username = username
        self.usertoken = usertoken
        self.xml_path = path
        self.variant = variant
        self.database = database
        self._dlock = threading.RLock()
        self._users = []
        self._groups = []
        self._lists = []
        self._subs = []
        self._unsub_log = []
        self._attempts = {}         # client address -> failed login times
        self._bans = {}             # client address -> banned until
        super().__init__(**kw)
        self.set_data(data or {})
        # method (lower case) -> (function, [(parameter, default)])
        self._apis = {
            'user': {
                'getlists': (self._get_lists, [('userid', 0),
                                               ('getUnconfirmedCount', False)]),
            },
            'subscribers': {
                'getalllistsforemailaddress': (
                    self._all_lists_for, [('email', ''), ('listids', []),
                                          ('main_listid', 0)]),
                'issubscriberonlist': (
                    self._is_on_list, [('emailaddress', ''), ('listids', []),
                                       ('subscriberid', 0),
                                       ('activeonly', False),
                                       ('not_bounced', False),
                                       ('return_listid', False)]),
                'getrecordbyid': (self._record_by_id,
                                  [('subscriberid', NO_DEFAULT)]),
                'getemailforsubscriber': (self._email_for,
                                          [('subscriberid', 0)]),
                'getsubscribers': (self._get_subscribers,
                                   [('searchinfo', []), ('sortdetails', []),
                                    ('countonly', False),
                                    ('queuedetails', []), ('setmax', '-1')]),
                'unsubscribesubscriber': (
                    self._unsubscribe, [('emailaddress', ''), ('listid', 0),
                                        ('subscriberid', 0),
                                        ('skipcheck', False),
                                        ('statstype', False), ('statid', 0)]),
                'deletesubscriber': (self._delete,
                                     [('emailaddress', ''), ('listid', 0),
                                      ('subscriberid', 0)]),
            },
            'lists': {},
        }

    # ---- settings ------------------------------------------------------
    def check_extra_config(self, key, value):
        if key == 'system_active':
            if not isinstance(value, bool):
                raise ValueError('system_active must be true or false')
            return value
        if isinstance(value, bool) or not isinstance(value, int) or \
                not 0 <= value <= 86400 * 1000:
            raise ValueError('%s must be a whole number >= 0' % key)
        return value

    def configure(self, **settings):
        """As the base class; reset=True also lifts bans and forgets failed
        logins."""
        if settings.get('reset'):
            with self._dlock:
                self._attempts, self._bans = {}, {}
        super().configure(**settings)

    # ---- data ------------------------------------------------------------
    def set_data(self, obj):
        """Replace all data with OBJ (shape in README.md); lifts bans."""
        if not isinstance(obj, dict):
            raise ValueError('data must be a JSON object')
        users = [{'userid': 1, 'username': self.username,
                  'usertoken': self.usertoken, 'status': 1,
                  'listadmin': False, 'groupid': 0}]
        for u in obj.get('users', []):
            uid = php_int(u.get('userid')) if isinstance(u, dict) else 0
            if uid <= 0 or not u.get('username') or not u.get('usertoken'):
                raise ValueError('every user needs userid > 0, username and '
                                 'usertoken')
            users = [x for x in users if x['userid'] != uid]
            users.append({'userid': uid, 'username': str(u['username']),
                          'usertoken': str(u['usertoken']),
                          'status': int(u.get('status', 1)),
                          'listadmin': bool(u.get('listadmin', False)),
                          'groupid': php_int(u.get('groupid', 0))})
        groups = []
        for g in obj.get('groups', []):
            gid = php_int(g.get('groupid')) if isinstance(g, dict) else 0
            if gid <= 0 or not isinstance(g.get('lists', []), list):
                raise ValueError('every group needs groupid > 0; lists is a '
                                 'list of list ids')
            groups = [x for x in groups if x['groupid'] != gid]
            groups.append({'groupid': gid,
                           'systemadmin': bool(g.get('systemadmin', False)),
                           'listadmin': bool(g.get('listadmin', False)),
                           'lists': sorted({php_int(i) for i in
                                            g.get('lists', [])})})
        lists, subs = [], []
        for lst in obj.get('lists', []):
            lid = php_int(lst.get('listid')) if isinstance(lst, dict) else 0
            if lid <= 0:
                raise ValueError('every list needs a numeric listid')
            lists.append({'listid': lid,
                          'name': str(lst.get('name', 'List %d' % lid)),
                          'ownerid': php_int(lst.get('ownerid', 1))})
        next_id = 1 + max([php_int(s.get('subscriberid')) for s in
                           obj.get('subscribers', []) if isinstance(s, dict)]
                          or [0])
        for s in obj.get('subscribers', []):
            if not isinstance(s, dict) or not isinstance(s.get('emailaddress'), str):
                raise ValueError('every subscriber needs an emailaddress')
            lid = php_int(s.get('listid'))
            if lid <= 0:
                raise ValueError('every subscriber needs a numeric listid')
            sid = php_int(s.get('subscriberid'))
            if sid <= 0:
                sid, next_id = next_id, next_id + 1
            subs.append({'subscriberid': sid, 'emailaddress': s['emailaddress'],
                         'listid': lid,
                         'confirmed': int(s.get('confirmed', 1) or 0),
                         'unsubscribed': int(s.get('unsubscribed', 0) or 0),
                         'bounced': int(s.get('bounced', 0) or 0)})
        subs.sort(key=lambda x: x['subscriberid'])     # primary-key order
        log = [dict(e) for e in obj.get('unsubscribe_log', [])
               if isinstance(e, dict)]
        with self._dlock:
            self._users, self._lists, self._subs = users, lists, subs
            self._groups = groups
            self._unsub_log = log
            self._attempts, self._bans = {}, {}

    def get_data(self):
        """All data, in the shape set_data() takes."""
        with self._dlock:
            return {'users': [dict(x) for x in self._users],
                    'groups': [dict(x, lists=list(x['lists']))
                               for x in self._groups],
                    'lists': [dict(x) for x in self._lists],
                    'subscribers': [dict(x) for x in self._subs],
                    'unsubscribe_log': [dict(x) for x in self._unsub_log]}

    def banned(self):
        """{client address: unix time its ban ends} now in force."""
        now = time.time()
        with self._dlock:
            return {ip: t for ip, t in self._bans.items() if t >= now}

    # ---- address matching ------------------------------------------------
    def _same(self, stored, email):
        """GetAllListsForEmailAddress's emailaddress='...': case-insensitive
        in MySQL's collation, exact in PostgreSQL."""
        if self.database == 'pgsql':
            return stored == email
        return stored.lower() == email.lower()

    def _like(self, stored, email):
        """GetCIOp(): '=' in MySQL, ILIKE in PostgreSQL (where _ and %
        are wildcards: the address is not escaped)."""
        if self.database != 'pgsql':
            return stored.lower() == email.lower()
        rx, i = [], 0
        while i < len(email):
            c = email[i]
            if c == '\\' and i + 1 < len(email):
                rx.append(re.escape(email[i + 1]))
                i += 2
                continue
            rx.append('.' if c == '_' else '.*' if c == '%' else re.escape(c))
            i += 1
        return re.fullmatch(''.join(rx), stored, re.I | re.S) is not None

    # ---- authentication ----------------------------------------------------
    def _login(self, client, username, token):
        """AuthenticationSystem::Authenticate with a token: the user, or
        None after counting a failed login (and maybe banning CLIENT)."""
        now = time.time()
        username = re.sub(r'\s+', ' ', username).strip()
        token = token.strip()
        with self._dlock:
            banned = self._bans.get(client, 0) >= now
            user = None
            if not banned and username and token:
                user = next((u for u in self._users
                             if u['username'] == username and u['status'] == 1
                             and u['usertoken'] == token), None)
            if user is not None:
                return user
            count = self.setting('login_ban_count')
            if count > 0:
                window = self.setting('login_ban_window')
                seen = [t for t in self._attempts.get(client, [])
                        if t >= now - window]
                seen.append(now)
                self._attempts[client] = seen
                if sum(1 for t in seen if t > now - window) >= count:
                    self._bans[client] = now + self.setting('login_ban_seconds')
        wait = self.setting('login_wait_ms')
        if wait:
            time.sleep(wait / 1000.0)
        return None

    # ---- dispatch ------------------------------------------------------------
    def failure_response(self, status):
        if self.setting('fail_body') == 'html':
            return super().failure_response(status)
        return fakelib.Response(status, '<html><body><h1>%d</h1>injected'
                                '</body></html>\n' % status, 'text/html')

    def _bad_xml(self):
        return _xml(failure_xml(MSG_BAD_XML_651 if self.variant == '6.5.1'
                                else MSG_BAD_XML))

    def handle(self, req, entry):
        if req.path != self.xml_path:
            return fakelib.Response(404, '<html><body>Not Found</body></html>\n',
                                    'text/html')
        if not self.setting('system_active'):
            return _xml(failure_xml(MSG_INACTIVE))
        body = req.body.strip() if req.method == 'POST' else b''
        if not body:
            return _xml(failure_xml(MSG_NO_DATA))
        if _DTD_RE.search(body):
            return self._bad_xml()
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return self._bad_xml()
        parts = {n: root.find(n) for n in REQUIRED}
        entry['parsed'] = {n: (element_obj(e) if e is not None else None)
                           for n, e in parts.items()}
        for n in REQUIRED:
            if parts[n] is None or _empty_element(parts[n]):
                return _xml(failure_xml(MSG_REQUIRED % n))
        rtype = _NOT_WORD_RE.sub('_', _string(parts['requesttype']))
        rmethod = _NOT_WORD_RE.sub('_', _string(parts['requestmethod']))
        user = self._login(req.client, _string(parts['username']),
                           _string(parts['usertoken']))
        if user is None:
            return _xml(failure_xml(MSG_BAD_USER))
        if rtype == 'authentication' and rmethod == 'xmlapitest':
            me = {'userid': user['userid'], 'username': user['username']}
            return _xml(success_xml({'user': me} if self.variant == '6.5.1'
                                    else me, self.variant))
        api = self._apis.get(rtype) if rtype in REQUEST_TYPES else None
        if api is None:
            return _xml(failure_xml(MSG_BAD_TYPE))
        fn = api.get(rmethod.lower())
        if fn is None:
            return _xml(failure_xml(MSG_BAD_TYPE))
        params = function_params(parts['details'])
        func, signature = fn
        if self.variant == '6.1.0':
            # 6.1.0 hands the parameters to the method in the order they
            # came, whatever their names (later versions bind by name)
            params = {name: v for (name, _), v in
                      zip(signature, params.values())}
        args = []
        for name, default in signature:
            if name in params:
                args.append(params[name])
            elif default is NO_DEFAULT:
                if self.variant == '6.5.1':
                    return _xml(failure_xml(MSG_NO_DEFAULT))
                return fakelib.Response(
                    500, '<br />\n<b>Fatal error</b>:  Uncaught '
                    'ReflectionException: %s\n' % MSG_NO_DEFAULT, 'text/html')
            else:
                args.append(default)
        with self._dlock:
            return _xml(self._answer(func(user, *args)))

    def _answer(self, ret):
        """The answer for what a method returned (xml.php's last lines)."""
        if self.variant == '6.1.0':
            return success_xml(ret, self.variant)
        if isinstance(ret, list) and ret and ret[0] is False:
            if len(ret) > 1 and php_true(ret[1]):
                return failure_xml(ret[1])
            return failure_xml(ret)
        if isinstance(ret, list) and ret and ret[0] is True:
            data = ret[1] if len(ret) > 1 and php_true(ret[1]) else None
            return success_xml(data, self.variant)
        if not php_true(ret):
            return failure_xml(ret)
        return success_xml(ret, self.variant)

    # ---- the API methods (each returns what the PHP method returns) ------
    def _group(self, user):
        """The user group of USER (API_USERGROUPS), or None."""
        return next((g for g in self._groups
                     if g['groupid'] == user['groupid']), None)

    def _list_admin(self, user):
        """User_API::isListAdmin(): its group is a system or list
        administrator, or the user's own list admin type is 'a'."""
        g = self._group(user)
        return user['listadmin'] or (g is not None and
                                     (g['systemadmin'] or g['listadmin']))

    def _get_lists(self, user, userid, unconfirmed):
        # User_API::GetLists: every list for the caller when it is a list
        # administrator; else Lists_API::GetListByUserID: the lists user
        # UID owns or its group has an access row for (usergroups_access,
        # resourcetype 'lists')
        uid = php_int(userid) or user['userid']
        owner = next((u for u in self._users if u['userid'] == uid), None)
        everything = uid == user['userid'] and self._list_admin(user)
        group = self._group(owner) if owner else None
        shared = set(group['lists']) if group else set()
        names = {u['userid']: u['username'] for u in self._users}
        rows = {}
        for lst in sorted(self._lists, key=lambda x: x['name'].lower()):
            if not everything and (owner is None or (
                    lst['ownerid'] != uid and lst['listid'] not in shared)):
                continue
            on = [s for s in self._subs if s['listid'] == lst['listid']]
            rows[lst['listid']] = {
                'listid': lst['listid'], 'name': lst['name'],
                'ownername': names.get(lst['ownerid'], ''),
                'createdate': 1700000000, 'format': 'b', 'notifyowner': 1,
                'subscribecount': sum(1 for s in on if not s['unsubscribed']
                                      and not s['bounced']),
                'unsubscribecount': sum(1 for s in on if s['unsubscribed']),
                'bouncecount': sum(1 for s in on if s['bounced']),
                'ownerid': lst['ownerid'], 'autorespondercount': None}
        return rows

    def _all_lists_for(self, user, email, listids, main_listid):
        if not php_true(email):
            return []
        email = php_str(email).strip()
        if self.variant == '6.1.0':
            # 6.1.2 and older hand a lone <listids> (a string) to
            # CheckIntVars, which keeps nothing of a non-array: no list,
            # no row (6.1.6 wraps it in an array first)
            ids = check_int_vars(listids) or []
            if not ids:
                return []
        else:
            ids = check_int_vars(listids if isinstance(listids, (list, dict))
                                 else [listids])
        wanted = None
        if ids and php_str(ids[0]) != '0':
            wanted = {php_int(i) for i in ids}
        rows = [s for s in self._subs if self._same(s['emailaddress'], email)
                and not s['unsubscribed'] and not s['bounced'] and
                (wanted is None or s['listid'] in wanted)]
        main = php_int(main_listid)
        if main:
            rows.sort(key=lambda s: s['listid'] != main)
        return [{'subscriberid': s['subscriberid'], 'listid': s['listid']}
                for s in rows]

    def _is_on_list(self, user, email, listids, subscriberid, activeonly,
                    not_bounced, return_listid):
        ids = check_int_vars(listids if isinstance(listids, (list, dict))
                             else [listids])
        if not ids:
            return False
        wanted = {php_int(i) for i in ids}
        email = php_str(email).strip()
        sid = php_int(subscriberid)
        for s in self._subs:
            if s['listid'] not in wanted:
                continue
            if php_true(email) and not self._like(s['emailaddress'], email):
                continue
            if sid and s['subscriberid'] != sid:
                continue
            if php_true(activeonly) and (not s['confirmed'] or s['unsubscribed']):
                continue
            if php_true(not_bounced) and (s['unsubscribed'] or s['bounced']):
                continue
            if php_true(return_listid):
                return {'subscriberid': s['subscriberid'], 'listid': s['listid']}
            return s['subscriberid']
        return False

    def _row(self, sid):
        return next((s for s in self._subs if s['subscriberid'] == sid), None)

    def _record_by_id(self, user, subscriberid):
        s = self._row(php_int(subscriberid))
        if s is None:
            return False
        return {'subscriberid': s['subscriberid'], 'listid': s['listid'],
                'emailaddress': s['emailaddress'],
                'domainname': '@' + s['emailaddress'].rpartition('@')[2],
                'format': 'h', 'confirmed': s['confirmed'], 'confirmcode': '',
                'requestdate': 1700000000, 'requestip': '',
                'confirmdate': 1700000000, 'confirmip': '',
                'subscribedate': 1700000000, 'bounced': s['bounced'],
                'unsubscribed': s['unsubscribed'],
                'unsubscribeconfirmed': 1 if s['unsubscribed'] else 0,
                'formid': 0}

    def _email_for(self, user, subscriberid):
        s = self._row(php_int(subscriberid))
        return s['emailaddress'] if s else False

    def _get_subscribers(self, user, searchinfo, sortdetails, countonly,
                         queuedetails, setmax):
        info = searchinfo if isinstance(searchinfo, dict) else {}
        wanted = php_str(info.get('List', 'any')).strip()
        ids = None if wanted.lower() in ('any', 'all', '') else \
            {php_int(p) for p in wanted.split(',') if is_numeric(p)}
        part = php_str(info.get('Email', '')).lower()
        subs = [s for s in self._subs
                if (ids is None or s['listid'] in ids) and
                part in s['emailaddress'].lower()]
        return {'count': len(subs), 'subscriberlist': [
            {'subscriberid': s['subscriberid'], 'emailaddress': s['emailaddress'],
             'format': 'h', 'subscribedate': 1700000000,
             'confirmed': s['confirmed'], 'unsubscribed': s['unsubscribed'],
             'bounced': s['bounced'], 'listid': s['listid']} for s in subs]}

    def _unsubscribe(self, user, emailaddress, listid, subscriberid, skipcheck,
                     statstype, statid):
        email = php_str(emailaddress).strip()
        sid, lid = php_int(subscriberid), php_int(listid)
        if (email == '' and sid <= 0) or lid <= 0:
            return [False, MSG_NO_LIST]
        if not php_true(skipcheck):
            # the check ignores SUBSCRIBERID: the first subscriber of the
            # list with that address, any status (or any subscriber at all
            # when the address is empty)
            sid = self._is_on_list(user, email, [lid], 0, False, False, False)
            if not sid:
                return [False, MSG_NOT_ON_LIST % email]
        now = int(time.time())
        for s in self._subs:
            if s['listid'] == lid and s['subscriberid'] == sid:
                s['unsubscribed'] = now
        self._unsub_log.append({'subscriberid': sid, 'listid': lid,
                                'time': now})
        return [True, False]

    def _delete(self, user, emailaddress, listid, subscriberid):
        email = php_str(emailaddress).strip()
        lid = php_int(listid)
        gone = [s for s in self._subs if s['listid'] == lid and
                self._like(s['emailaddress'], email)]
        if not gone:
            return [False, MSG_NO_SUBSCRIBER % email]
        drop = {id(s) for s in gone}
        self._subs = [s for s in self._subs if id(s) not in drop]
        return [True, '']

    # ---- command line --------------------------------------------------------
    @classmethod
    def add_arguments(cls, ap):
        ap.add_argument('--username', default='admin')
        ap.add_argument('--usertoken', default='xmltoken')
        ap.add_argument('--path', default='/xml.php', help='path of xml.php')
        ap.add_argument('--variant', default='6.1.5', choices=VARIANTS)
        ap.add_argument('--database', default='mysql', choices=DATABASES)

    @classmethod
    def kwargs_from_args(cls, args):
        return {'username': args.username, 'usertoken': args.usertoken,
                'path': args.path, 'variant': args.variant,
                'database': args.database}


if __name__ == '__main__':
    raise SystemExit(fakelib.run_main(InterspireFake))
