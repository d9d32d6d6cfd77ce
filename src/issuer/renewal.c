/* Renewal. An issued pack keeps its hostname job, due again at not_after - renew_before (minus
 * up to a tenth of renew_before as jitter, so certificates issued together do not renew in one
 * burst), or inside the CA's renewal window when it offers one (renewal_ari.c). Renewal runs in the
 * same pack: new keys, a new order or DCV check, and the new certificates replace the old ones per
 * key type in one store write each, so the edge serves the old certificates until the new ones
 * exist. Meanwhile the pack keeps its status (the edge only serves deployable packs); problems show
 * in validation_errors and are retried. */
#include "issuer/issuer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define RENEW_RETRY_US (3600LL * 1000000) /* after a failed renewal attempt */

static int64_t renew_at(struct pack_work *w)
{
	int64_t before = w->is->cfg->issuance.renew_before * 1000000;
	int64_t not_after = w->state.not_after_us;
	uint32_t r = 0;

	ids_random(&r, sizeof(r));
	return not_after - before - (int64_t)(r % (uint32_t)(before / 10 + 1));
}

static void wait_until_us(struct step_out *out, int64_t when)
{
	int64_t now = time_now_us();

	out->next = STEP_LATER;
	out->delay_us = when > now ? when - now : 0;
}

/* Wakes the job at the renewal time, or earlier to ask the CA for its renewal window. */
static void wait_renewal(struct pack_work *w, struct step_out *out)
{
	int64_t when = w->state.renew_at_us;
	int64_t check = w->state.ari_check_at_us;

	wait_until_us(out, check > 0 && check < when ? check : when);
}

void renewal_schedule(struct pack_work *w, struct step_out *out)
{
	w->state.step = PACK_STEP_DONE;
	w->state.renew_at_us = renew_at(w);
	w->state.renewal = 0;
	memset(w->state.replaces, 0, sizeof(w->state.replaces));
	renewal_ari_schedule(w);
	out->event = PACK_EV_ISSUED;
	out->issued_by = w->state.ca;
	free(out->errors);
	out->errors = strdup("");
	wait_renewal(w, out);
}

int renewal_step(struct pack_work *w, struct step_out *out)
{
	int64_t when = w->state.renew_at_us;
	struct pack_state *fresh;
	int rc;

	if (!when) {
		out->next = STEP_DONE; /* issued before renewal existed, or imported */
		return 0;
	}
	if (time_now_us() < when) {
		renewal_ari_check(w);
		when = w->state.renew_at_us;
	}
	if (time_now_us() < when) {
		wait_renewal(w, out);
		return 0;
	}
	fresh = malloc(sizeof(*fresh)); /* a state is tens of kilobytes: not on the stack twice */
	if (!fresh)
		return SE_ENOMEM;
	pack_state_init(fresh, w->state.sig, w->state.ca);
	fresh->renewal = 1;
	rc = renewal_ari_replaces(w, fresh);
	if (rc) {
		free(fresh);
		return rc;
	}
	/* The internal CA asks for the same TXT value again, so a record left in place renews. */
	memcpy(fresh->dcv_value, w->state.dcv_value, sizeof(fresh->dcv_value));
	w->state = *fresh;
	free(fresh);
	log_info("msg=\"renewal started\" hostname=%s pack=%s", w->subj.hostname, w->subj.pack_id);
	out->next = STEP_NOW;
	return 0;
}

int renewal_active(struct pack_work *w)
{
	return w->state.renewal;
}

void renewal_filter(struct pack_work *w, struct step_out *out)
{
	if (!renewal_active(w))
		return;
	/* A renewal's status shows nothing until its certificates are stored (the pack stays
	 * live), but the records it needs are shown at once, with an "ssl.validation_records"
	 * event: a TXT customer has until the old certificates expire to publish them. */
	if (out->event != PACK_EV_ISSUED)
		out->event = PACK_EV_NONE;
	if (out->records)
		log_info("msg=\"renewal records shown\" hostname=%s pack=%s", w->subj.hostname,
			 w->subj.pack_id);
}

void renewal_failed(struct pack_work *w, struct step_out *out)
{
	int64_t when = time_now_us() + RENEW_RETRY_US;

	w->state.step = PACK_STEP_DONE;
	w->state.renew_at_us = when;
	out->event = PACK_EV_NONE;
	wait_until_us(out, when);
}
