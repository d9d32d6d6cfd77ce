/* RFC 2136 push (dns.update_server): a thread that keeps an external server's copy of the zone's
 * TXT values equal to the store's. Every second it reads the values (the table holds only packs
 * being validated, so it is small), compares them per label with what it pushed last, and sends
 * one UPDATE per label that changed: the new values, or a deletion once they are withdrawn. A
 * failed push is retried at the next round; a restart pushes every label again (an update
 * replaces the RRset, so repeating one is harmless). */
#include "dns/dns_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"

#define SYNC_INTERVAL_MS 1000
#define SYNC_VALUES_MAX  DNS_TXT_MAX

/* One label's values as pushed: joined with '\n' to compare at once. */
struct pushed {
	char label[STORE_DNS_LABEL_MAX + 1];
	char *values;
};

struct dns_sync {
	const struct config *cfg;
	struct store *st;
	pthread_t thread;
	atomic_int stop;
	struct pushed *done;
	size_t n_done;
};

static void pushed_free(struct pushed *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].values);
	free(p);
}

/* The values of the run of records starting at R (same label, at most SYNC_VALUES_MAX). */
static size_t label_run(const struct store_dns_record *r, size_t left, const char **values,
			char *joined, size_t joined_len)
{
	size_t k = 0, used = 0;

	joined[0] = '\0';
	while (k < left && strcmp(r[k].label, r[0].label) == 0) {
		if (k < SYNC_VALUES_MAX) {
			values[k] = r[k].value;
			used +=
			    (size_t)snprintf(joined + used, joined_len - used, "%s\n", r[k].value);
			if (used >= joined_len)
				used = joined_len - 1;
		}
		k++;
	}
	return k;
}

static const struct pushed *find_done(struct dns_sync *s, const char *label)
{
	for (size_t i = 0; i < s->n_done; i++) {
		if (strcmp(s->done[i].label, label) == 0)
			return &s->done[i];
	}
	return NULL;
}

/* Pushes LABEL's VALUES (N) and remembers the label in NEXT: with its values once the server
 * holds them, with none (state unknown) when the push failed, so that the next round pushes it
 * again or, once withdrawn, deletes whatever may be there. */
static void push(struct dns_sync *s, const char *label, const char *const *values, size_t n,
		 const char *joined, struct pushed *next, size_t *n_next)
{
	char msg[700];
	int rc = dns_update_txt(s->cfg, label, values, n, msg, sizeof(msg));

	if (rc)
		log_warn("msg=\"dns update failed\" label=%s detail=\"%s\"", label, msg);
	else
		log_info("msg=\"dns update\" label=%s values=%zu server=%s", label, n,
			 s->cfg->dns.update_server);
	snprintf(next[*n_next].label, sizeof(next[0].label), "%s", label);
	next[*n_next].values = strdup(rc ? "" : joined);
	if (next[*n_next].values)
		(*n_next)++;
}

static void sync_round(struct dns_sync *s)
{
	struct store_dns_record *recs = NULL;
	struct pushed *next = NULL;
	const char *values[SYNC_VALUES_MAX];
	char joined[SYNC_VALUES_MAX * (STORE_DNS_VALUE_MAX + 1) + 1], msg[700];
	size_t n = 0, n_next = 0;

	if (store_dns_records_all(s->st, &recs, &n) != 0)
		return; /* the store is busy or down: next round */
	next = calloc(n + s->n_done + 1, sizeof(*next));
	if (!next) {
		free(recs);
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t k = label_run(recs + i, n - i, values, joined, sizeof(joined));
		const struct pushed *old = find_done(s, recs[i].label);
		size_t nv = k < SYNC_VALUES_MAX ? k : SYNC_VALUES_MAX;

		if (old && strcmp(old->values, joined) == 0) {
			snprintf(next[n_next].label, sizeof(next[0].label), "%s", old->label);
			next[n_next].values = strdup(joined);
			n_next += next[n_next].values != NULL;
		} else {
			push(s, recs[i].label, values, nv, joined, next, &n_next);
		}
		i += k;
	}
	/* Labels whose values were all withdrawn (or expired): delete them there too. */
	for (size_t i = 0; i < s->n_done; i++) {
		const char *label = s->done[i].label;
		size_t j = 0;

		while (j < n && strcmp(recs[j].label, label) != 0)
			j++;
		if (j < n)
			continue;
		if (dns_update_txt(s->cfg, label, NULL, 0, msg, sizeof(msg)) == 0) {
			log_info("msg=\"dns update\" label=%s values=0 server=%s", label,
				 s->cfg->dns.update_server);
			continue;
		}
		log_warn("msg=\"dns update failed\" label=%s detail=\"%s\"", label, msg);
		/* Still there: remembered with no values, so the next round deletes it again. */
		snprintf(next[n_next].label, sizeof(next[0].label), "%s", label);
		next[n_next].values = strdup("");
		n_next += next[n_next].values != NULL;
	}
	pushed_free(s->done, s->n_done);
	s->done = next;
	s->n_done = n_next;
	free(recs);
}

static void *sync_thread(void *arg)
{
	struct dns_sync *s = arg;

	while (!s->stop) {
		sync_round(s);
		for (int i = 0; i < SYNC_INTERVAL_MS / 50 && !s->stop; i++)
			nanosleep(&(struct timespec){0, 50000000}, NULL);
	}
	return NULL;
}

int dns_sync_start(const struct config *cfg, struct store *st, struct dns_sync **out)
{
	struct dns_sync *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return SE_ENOMEM;
	s->cfg = cfg;
	s->st = st;
	if (pthread_create(&s->thread, NULL, sync_thread, s) != 0) {
		free(s);
		return SE_EIO;
	}
	log_info("msg=\"dns role pushes the zone\" server=%s zone=%s tsig=%s",
		 cfg->dns.update_server, cfg->dns.zone, cfg->dns.tsig_name[0] ? "yes" : "no");
	*out = s;
	return 0;
}

void dns_sync_stop(struct dns_sync *s)
{
	if (!s)
		return;
	s->stop = 1;
	pthread_join(s->thread, NULL);
	pushed_free(s->done, s->n_done);
	free(s);
}
