/*
 * mailwizz_campaign.h - a MailWizz campaign's details for the operator's
 * mail: its name, subject, list and send time (GET campaigns/{uid}), as
 * the MailWizz provider asks for them (signed or keyed, per its config).
 */
#ifndef BOUNCED_MAILWIZZ_CAMPAIGN_H
#define BOUNCED_MAILWIZZ_CAMPAIGN_H

#include <stdint.h>

#include "provider.h"

struct mw_campaign_info {
	char name[256];
	char subject[256];
	char list_uid[64];
	char list_name[256];
	int64_t send_time;	/* send_at, taken as UTC; 0 unknown */
	char send_at[64];	/* send_at as MailWizz wrote it (the customer's
				   locale: "11/24/26, 8:00 AM"), cleaned */
};

/* mailwizz_campaign_request - the GET of campaign UID at MailWizz provider
   P, at wall time NOW; 0 or -1 with ERR (UID not 13 of [a-z0-9], P not a
   MailWizz provider) */
int mailwizz_campaign_request(struct provider *p, const char *uid,
			      int64_t now, struct http_req *req, char *err,
			      size_t errlen);

/* mailwizz_campaign_parse - the answer RESP into INFO (strings cleaned:
   valid UTF-8, controls as blanks, bounded).  0, -ENOENT (no such
   campaign), or -EINVAL with ERR (not a success answer) */
int mailwizz_campaign_parse(const struct http_resp *resp,
			    struct mw_campaign_info *info, char *err,
			    size_t errlen);

#endif
