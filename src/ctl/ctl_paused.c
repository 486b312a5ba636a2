/*
 * ctl_paused.c - which providers are paused (provider_pause.h), as
 * bouncectl queue, stats and report show them: the configured providers'
 * pause records, read in the caller's transaction.
 */
#include <errno.h>
#include <string.h>

#include "ctl.h"
#include "provider_pause.h"
#include "state.h"

size_t ctl_paused(struct state *st, MDB_txn *txn, const struct config *cfg,
		  struct ctl_pause *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; cfg && i < cfg->n_providers && n < max; i++) {
		struct ctl_pause *p = &out[n];

		if (provider_pause_get(st, txn, cfg->providers[i].name,
				       &p->since_ms, p->why,
				       sizeof(p->why)) != 0)
			continue;
		rcpt_set_str(p->name, sizeof(p->name), cfg->providers[i].name);
		n++;
	}
	return n;
}

void ctl_paused_text(FILE *out, const struct ctl_pause *p, size_t n)
{
	char when[64], name[64], why[PAUSE_WHY_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		ctl_time_text(p[i].since_ms / 1000, when, sizeof(when));
		fprintf(out, "provider %s paused since %s: %s (its actions "
			"wait; 'bounced provider-test %s' checks it)\n",
			ctl_text_clean(p[i].name, name, sizeof(name)), when,
			ctl_text_clean(p[i].why, why, sizeof(why)), name);
	}
}

cJSON *ctl_paused_json(const struct ctl_pause *p, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
		if (!cJSON_AddItemToObject(o, "provider",
					   ctl_json_string(p[i].name)) ||
		    !cJSON_AddItemToObject(o, "since",
					   ctl_json_time(p[i].since_ms / 1000)) ||
		    !cJSON_AddItemToObject(o, "reason",
					   ctl_json_string(p[i].why))) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}
