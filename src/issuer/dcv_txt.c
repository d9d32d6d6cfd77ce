/* TXT lookups for DCV pre-flight and internal-CA validation, through c-ares at dns.resolver.
 * A channel per lookup: lookups are rare (one per pack step) and this keeps workers independent.
 * The lookup blocks its worker thread for at most a few seconds, never another role. */
#include "issuer/issuer_int.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"

struct txt_query {
	struct dcv_txt *out;
	int done;
	int status;
};

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct txt_query *q = arg;
	struct ares_txt_ext *txt = NULL;

	q->done = 1;
	q->status = status;
	if (status != ARES_SUCCESS)
		return;
	q->status = ares_parse_txt_reply_ext(abuf, alen, &txt);
	for (struct ares_txt_ext *t = txt; t && q->status == ARES_SUCCESS; t = t->next) {
		/* A record split into several strings is one value: join them. */
		if (t->record_start || q->out->n == 0) {
			if (q->out->n == DCV_TXT_MAX)
				break;
			q->out->n++;
			q->out->values[q->out->n - 1][0] = '\0';
		}
		char *v = q->out->values[q->out->n - 1];
		size_t used = strlen(v);
		snprintf(v + used, sizeof(q->out->values[0]) - used, "%.*s", (int)t->length,
			 (const char *)t->txt);
	}
	if (txt)
		ares_free_data(txt);
}

void dcv_channel_wait(void *channel, int *done)
{
	ares_channel ch = channel;

	while (!*done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp;
		/* c-ares' ARES_GETSOCK_WRITABLE shifts a signed 1 by up to 31 (undefined):
		 * test the same bits unsigned. */
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		int n = 0;

		for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			unsigned rd = bits & (1u << i),
				 wr = bits & (1u << (i + ARES_GETSOCK_MAXNUM));

			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0));
			pfd[n].revents = 0;
			n++;
		}
		tvp = ares_timeout(ch, NULL, &tv);
		int ms = tvp ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : 1000;
		if (poll(pfd, (nfds_t)n, ms) <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < n; i++) {
			ares_socket_t r = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
					      ? pfd[i].fd
					      : ARES_SOCKET_BAD;
			ares_socket_t w = (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;
			ares_process_fd(ch, r, w);
		}
	}
}

int dcv_txt_lookup(const char *resolver, const char *name, struct dcv_txt *out, char *detail,
		   size_t detail_len)
{
	struct ares_options opts = {.timeout = 1000, .tries = 2};
	struct txt_query q = {out, 0, 0};
	ares_channel ch = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	detail[0] = '\0';
	if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
		snprintf(detail, detail_len, "DNS resolver could not start");
		return SE_EIO;
	}
	if (resolver && resolver[0] && ares_set_servers_ports_csv(ch, resolver) != ARES_SUCCESS) {
		snprintf(detail, detail_len, "invalid dns.resolver %s", resolver);
		rc = SE_ECONFIG;
		goto out;
	}
	ares_query(ch, name, ns_c_in, ns_t_txt, on_answer, &q);
	dcv_channel_wait(ch, &q.done);
	if (q.status == ARES_SUCCESS) {
		rc = out->n ? 0 : SE_ENOTFOUND;
	} else if (q.status == ARES_ENOTFOUND || q.status == ARES_ENODATA) {
		rc = SE_ENOTFOUND;
	} else {
		snprintf(detail, detail_len, "DNS lookup of %s failed: %s", name,
			 ares_strerror(q.status));
		rc = SE_EIO;
	}
out:
	ares_destroy(ch);
	return rc;
}

int dcv_txt_check(const char *resolver, const char *name, const char *const *expected, size_t n,
		  char *msg, size_t msg_len)
{
	struct dcv_txt txt;
	char detail[256];
	int rc;

	rc = dcv_txt_lookup(resolver, name, &txt, detail, sizeof(detail));
	if (rc && rc != SE_ENOTFOUND) {
		snprintf(msg, msg_len, "%s", detail);
		return SE_EIO;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < txt.n && strcmp(txt.values[j], expected[i]) != 0)
			j++;
		if (j == txt.n) {
			snprintf(msg, msg_len, "TXT record %s not found: expected %s", name,
				 expected[i]);
			return SE_ENOTFOUND;
		}
	}
	return 0;
}
