/*
 * action.h - one provider action waiting in the outbox, and its codec.
 *
 * An action is what one provider must do for one address: unsubscribe it
 * everywhere, record a bounce on a campaign, post an event to a webhook.
 * Multi-call operations advance through provider-defined steps, or spawn
 * child actions (one per list) that share the root's id, so the recipient
 * record can tell when the whole operation is done.  On disk: a versioned
 * little-endian layout (ACTION_CODEC_VERSION), strings length-prefixed.
 */
#ifndef BOUNCED_ACTION_H
#define BOUNCED_ACTION_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rcpt.h"

#define ACTION_CODEC_VERSION 1
#define ACTION_ENCODED_MAX 4096
#define ACTION_ID_MAX 64	/* list / subscriber / campaign identifiers */

struct action {
	uint64_t id;		/* unique, increasing; 0 until enqueued */
	uint64_t root;		/* id of the action this one came from (own id for a root) */
	char provider[32];	/* [provider NAME] */
	uint8_t op;		/* enum rcpt_op */
	uint8_t step;		/* provider-defined step of the operation */
	uint8_t klass;		/* enum event_class of the event behind it */
	uint32_t attempts;	/* calls that failed transiently so far */
	int64_t created_ms;	/* wall clock, for the max age */
	int64_t due_ms;		/* wall clock; the outbox key */
	char addr[ADDR_MAX + 1];
	char list_id[ACTION_ID_MAX];	   /* MailWizz list UID, Interspire list id */
	char subscriber_id[ACTION_ID_MAX]; /* MailWizz subscriber UID, Interspire id */
	char campaign_id[ACTION_ID_MAX];   /* MailWizz campaign UID (from jobId) */
	char bounce_type[8];	/* "hard", "soft" (bounce records) */
	struct rcpt_reason ev;	/* the record behind it (time, file, line, DSN …) */
	char last_error[256];	/* why the last attempt failed */
	/* not stored (the codec leaves it out): the address a provider
	   found for a subscriber known by its ids only, set by parse() for
	   the dispatcher to record (dispatch_commit.c) */
	char resolved[ADDR_MAX + 1];
};

/* action_encode - A into BUF; 0 or -ENOBUFS */
int action_encode(const struct action *a, uint8_t *buf, size_t cap,
		  size_t *len);
/* action_decode - 0, -EPROTO (unknown version) or -EINVAL */
int action_decode(const uint8_t *buf, size_t len, struct action *a);

const char *action_op_name(uint8_t op);

#endif
