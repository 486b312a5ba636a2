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

#define ACTION_CODEC_VERSION 3	/* 1 (no flags) and 2 (no payload) are
				   still read */
#define ACTION_ENCODED_MAX 8192
#define ACTION_PAYLOAD_MAX 3072	/* an OP_EVENT's JSON object, NUL included */
#define ACTION_ID_MAX 64	/* subscriber / campaign identifiers */
/* a list: a MailWizz list UID, an Interspire list id, or the ids of the
   lists an Interspire campaign went to, as X-Mailer-LID names them all
   (event.h) until the provider finds the subscriber's */
#define ACTION_LIST_ID_MAX EVENT_IEM_LIDS_SIZE

/* flags */
#define ACTION_F_SUPPRESS 0x01	/* OP_BOUNCE: the bounce that suppresses the
				   address (not a campaign record of an
				   address suppressed before): a provider
				   that also unsubscribes does it after */
#define ACTION_F_ASKED_AGAIN 0x02	/* an answer of "none" was asked
					   again once (a provider whose
					   failed queries read as "none") */
#define ACTION_F_EXACT 0x04	/* the provider was found to compare
				   addresses exactly: the address as
				   written and lower-cased name different
				   subscribers (interspire) */

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
	char list_id[ACTION_LIST_ID_MAX];  /* MailWizz list UID, Interspire
					      list id (or ids) */
	char subscriber_id[ACTION_ID_MAX]; /* MailWizz subscriber UID, Interspire id */
	char campaign_id[ACTION_ID_MAX];   /* MailWizz campaign UID (from jobId) */
	char bounce_type[8];	/* "hard", "soft" (bounce records; "hard" on a
				   complaint asks for the blacklisting bounce) */
	uint8_t flags;		/* ACTION_F_* */
	struct rcpt_reason ev;	/* the record behind it (time, file, line, DSN …) */
	char last_error[256];	/* why the last attempt failed */
	/* OP_EVENT: the event as a JSON object (incident.opened ...), made
	   when it happened; its addr is a key naming it ("incident:3",
	   "alert:RULE:NAME"), not an address.  Other operations: the
	   recipient as the record wrote it when that differs from addr in
	   ASCII case only, else "" (action_written) */
	char payload[ACTION_PAYLOAD_MAX];
	/* not stored (the codec leaves it out): the address a provider
	   found for a subscriber known by its ids only, set by parse() for
	   the dispatcher to record (dispatch_commit.c) */
	char resolved[ADDR_MAX + 1];
	/* not stored: that address as the provider holds it, when it
	   differs from resolved in ASCII case only ("" otherwise) */
	char resolved_written[ADDR_MAX + 1];
	/* not stored either: something the operator must hear about (a
	   subscriber uid naming another address, an address the provider
	   refuses), set by parse() for the dispatcher to log, keep on the
	   recipient record and put in the operator's mail */
	char notice[256];
	uint8_t notice_level;	/* enum action_notice_level */
};

enum action_notice_level {
	NOTICE_WARN = 0,	/* logged, kept on the record, in the digest */
	NOTICE_ERROR = 1,	/* the same, logged as an error */
	NOTICE_INFO = 2,	/* logged only */
};

/* action_encode - A into BUF; 0 or -ENOBUFS */
int action_encode(const struct action *a, uint8_t *buf, size_t cap,
		  size_t *len);
/* action_decode - 0, -EPROTO (unknown version) or -EINVAL */
int action_decode(const uint8_t *buf, size_t len, struct action *a);

const char *action_op_name(uint8_t op);

/* action_written - the recipient of A as its record wrote it (the payload
   of an operation on an address), when that differs from A's address in
   ASCII case only; NULL otherwise, also for whatever else a damaged
   record may hold there */
const char *action_written(const struct action *a);

/* action_set_written - WRITTEN as A's recipient as written, when it
   differs from A's address in ASCII case only (else, or NULL: none);
   nothing for OP_EVENT, whose payload is its event */
void action_set_written(struct action *a, const char *written);

#endif
