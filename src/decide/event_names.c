/*
 * event_names.c - names of event kinds and classes, for logs and output.
 */
#include "event.h"

const char *event_kind_name(enum event_kind k)
{
	switch (k) {
	case EV_BOUNCE: return "b";
	case EV_REMOTE_BOUNCE: return "rb";
	case EV_FEEDBACK: return "f";
	case EV_DELIVERY: return "d";
	case EV_LIST: return "list";
	case EV_ARF: return "arf";
	case EV_UNSUB_MAIL: return "unsub-mail";
	case EV_SKIPPED: return "skipped";
	case EV_NONE: break;
	}
	return "none";
}

const char *event_class_name(enum event_class c)
{
	switch (c) {
	case CLASS_HARD: return "hard";
	case CLASS_SOFT: return "soft";
	case CLASS_COMPLAINT: return "complaint";
	case CLASS_UNSUB: return "unsubscribe";
	case CLASS_DELIVERY: return "delivery";
	case CLASS_FEEDBACK_OTHER: return "feedback";
	case CLASS_IGNORE: break;
	}
	return "ignore";
}
