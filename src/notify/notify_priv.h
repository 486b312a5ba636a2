/*
 * notify_priv.h - what the notification composer's files share: items
 * turned into safe display strings (notify_view.c) and the two bodies
 * built from them (notify_body.c).  Not a public interface.
 */
#ifndef BOUNCED_NOTIFY_PRIV_H
#define BOUNCED_NOTIFY_PRIV_H

#include <glib.h>

#include "notify.h"

/* the kinds of item, in the order the digest lists them */
enum notify_kind {
	NOTIFY_KIND_COMPLAINT = 0,
	NOTIFY_KIND_UNSUBSCRIBE,
	NOTIFY_KIND_BOUNCE,
	NOTIFY_KIND_PROVIDER,		/* a provider paused, resumed, or
					   saying something about an address */
	NOTIFY_KIND_INCIDENT,		/* an incident opened or closed */
	NOTIFY_KIND_ALERT,		/* an alert raised or cleared */
	NOTIFY_KIND_OTHER,
	NOTIFY_KIND_COUNT,
};

/*
 * One item as it is shown: every string valid UTF-8 without control
 * characters, trimmed, never NULL ("" when unknown); links are NULL
 * when there is no web_url or the UID is not of the MailWizz form.
 * All g_malloc'ed: notify_view_release().
 */
struct notify_view {
	char *time, *addr, *feedback_type, *reporting_domain, *orig_subject;
	char *source, *results, *provider, *campaign_uid, *campaign_name;
	char *campaign_subject, *list_uid, *list_name, *send_time;
	char *campaign_link, *list_link;
};

/* the inputs both bodies are built from, checked by notify_compose */
struct notify_doc {
	const struct notify_item *items;
	size_t n;
	size_t max_items;		/* > 0 */
	const char *web_url;		/* checked, no trailing '/'; or NULL */
	const char *host;		/* checked */
	char *period;			/* "" or "FROM to TO" */
	size_t count[NOTIFY_KIND_COUNT];
};

/* notify_kind_of - the kind named by IT's kind field */
enum notify_kind notify_kind_of(const struct notify_item *it);

/* notify_field - the first SIZE bytes of FIELD (up to a NUL) as a display
   string: invalid UTF-8 replaced, control characters as blanks, trimmed */
char *notify_field(const char *field, size_t size);

/* notify_time - unix seconds as "2026-11-25 10:03:12 UTC"; "" for 0 or
   a time out of range; g_free */
char *notify_time(int64_t t);

/* notify_view_init - V for IT, links under WEB_URL (may be NULL) */
void notify_view_init(struct notify_view *v, const struct notify_item *it,
		      const char *web_url);
void notify_view_release(struct notify_view *v);

/* notify_subject - "bounced: 3 complaints, 5 unsubscribes on HOST" */
char *notify_subject(const struct notify_doc *d);

/* notify_body_text, notify_body_html - the two parts' texts (LF line
   ends); g_string_free(…, TRUE) */
GString *notify_body_text(const struct notify_doc *d);
GString *notify_body_html(const struct notify_doc *d);

#endif
