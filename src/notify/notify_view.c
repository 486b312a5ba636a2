/*
 * notify_view.c - one notification item made safe to show: each bounded
 * field read up to its size (a missing NUL is tolerated), turned into
 * valid UTF-8 with control characters (CR, LF, tabs, ESC, DEL, C1) as
 * blanks, trimmed; times as UTC text; links into the MailWizz customer
 * area only for UIDs of the MailWizz form, URL-escaped anyway.
 *
 * The values here are still raw text: the HTML body escapes them, the
 * text body prints them as they are (they hold no line breaks).  Nothing
 * here fails; memory comes from GLib.
 */
#include <string.h>

#include "notify_priv.h"

/* notify_kind_of - the kind named by IT's kind field */
enum notify_kind notify_kind_of(const struct notify_item *it)
{
	static const char *const names[] = { "complaint", "unsubscribe",
					     "bounce", "provider",
					     "incident", "alert" };
	size_t len = strnlen(it->kind, sizeof(it->kind));
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(names); i++)
		if (len == strlen(names[i]) &&
		    memcmp(it->kind, names[i], len) == 0)
			return (enum notify_kind)i;
	return NOTIFY_KIND_OTHER;
}

/* notify_field - bounded, valid UTF-8, no control characters, trimmed */
char *notify_field(const char *field, size_t size)
{
	size_t len = strnlen(field, size);
	char *valid = g_utf8_make_valid(field, (gssize)len);
	GString *s = g_string_sized_new(len + 1);
	const char *p;

	for (p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* C0, DEL, C1, and the line / paragraph separators */
		if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 ||
		    c == 0x2029)
			g_string_append_c(s, ' ');
		else
			g_string_append_len(s, p, g_utf8_next_char(p) - p);
	}
	g_free(valid);
	g_strstrip(s->str);
	return g_string_free(s, FALSE);
}

/* notify_time - "YYYY-MM-DD HH:MM:SS UTC", "" when unknown */
char *notify_time(int64_t t)
{
	GDateTime *dt;
	char *s;

	if (t <= 0)
		return g_strdup("");
	dt = g_date_time_new_from_unix_utc(t);
	if (!dt)
		return g_strdup("");
	s = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC");
	g_date_time_unref(dt);
	return s ? s : g_strdup("");
}

/* notify_uid_ok - exactly 13 of [a-z0-9] */
bool notify_uid_ok(const char *s)
{
	size_t i;

	for (i = 0; i < NOTIFY_UID_LEN; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return s[NOTIFY_UID_LEN] == '\0';
}

/* notify_link - WEB_URL/customer/WHAT/UID/overview, or NULL */
static char *notify_link(const char *web_url, const char *what,
			 const char *uid)
{
	char *esc, *url;

	if (!web_url || !notify_uid_ok(uid))
		return NULL;
	esc = g_uri_escape_string(uid, NULL, FALSE);
	url = g_strdup_printf("%s/customer/%s/%s/overview", web_url, what,
			      esc);
	g_free(esc);
	return url;
}

#define NV_FIELD(it, f) notify_field((it)->f, sizeof((it)->f))

/* notify_view_init - V for IT */
void notify_view_init(struct notify_view *v, const struct notify_item *it,
		      const char *web_url)
{
	v->time = notify_time(it->time);
	v->addr = NV_FIELD(it, addr);
	v->feedback_type = NV_FIELD(it, feedback_type);
	v->reporting_domain = NV_FIELD(it, reporting_domain);
	v->orig_subject = NV_FIELD(it, orig_subject);
	v->source = NV_FIELD(it, source);
	v->results = NV_FIELD(it, results);
	v->provider = NV_FIELD(it, provider);
	if (!*v->addr && *v->provider &&
	    notify_kind_of(it) == NOTIFY_KIND_PROVIDER) {
		g_free(v->addr);	/* a notice about the provider itself */
		v->addr = g_strdup_printf("provider %s", v->provider);
	}
	v->campaign_uid = NV_FIELD(it, campaign_uid);
	v->campaign_name = NV_FIELD(it, campaign_name);
	v->campaign_subject = NV_FIELD(it, campaign_subject);
	v->list_uid = NV_FIELD(it, list_uid);
	v->list_name = NV_FIELD(it, list_name);
	v->send_time = it->send_time > 0 ?
			       notify_time(it->send_time) :
			       notify_field(it->send_at, sizeof(it->send_at));
	v->campaign_link = notify_link(web_url, "campaigns", v->campaign_uid);
	v->list_link = notify_link(web_url, "lists", v->list_uid);
}

/* notify_view_release - the strings of V */
void notify_view_release(struct notify_view *v)
{
	g_free(v->time);
	g_free(v->addr);
	g_free(v->feedback_type);
	g_free(v->reporting_domain);
	g_free(v->orig_subject);
	g_free(v->source);
	g_free(v->results);
	g_free(v->provider);
	g_free(v->campaign_uid);
	g_free(v->campaign_name);
	g_free(v->campaign_subject);
	g_free(v->list_uid);
	g_free(v->list_name);
	g_free(v->send_time);
	g_free(v->campaign_link);
	g_free(v->list_link);
	memset(v, 0, sizeof(*v));
}
