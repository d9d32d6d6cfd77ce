/* Headers as Cloudflare sends them (Content-Type, and the destination's secret in
 * cf-webhook-auth), plus saasedge's HMAC signature and the event id, so that a receiver can
 * check a message without trusting the transport and drop one it has seen. */
#include "notify/webhook_send.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/curl_guard.h"
#include "lib/error.h"
#include "notify/webhook_payload.h"

/* What the receiver says is not read: only its status counts. */
static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* A shutdown does not wait for a slow receiver: the delivery stays pending and is retried. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load((const atomic_int *)arg) ? 1 : 0;
}

static struct curl_slist *headers_for(const struct webhook_message *m)
{
	char line[512];
	char signature[WEBHOOK_SIGNATURE_MAX];
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *more;

	/* Without "Expect:" curl would wait for a 100 Continue on larger bodies. */
	h = h ? curl_slist_append(h, "Expect:") : NULL;
	snprintf(line, sizeof(line), "saasedge-webhook-id: %s", m->event_id);
	h = h ? curl_slist_append(h, line) : NULL;
	if (h && m->secret && m->secret[0]) {
		if (snprintf(line, sizeof(line), "cf-webhook-auth: %s", m->secret) >=
			(int)sizeof(line) ||
		    webhook_sign(m->secret, (int64_t)time(NULL), m->body, signature) != 0)
			goto fail;
		more = curl_slist_append(h, line);
		if (!more)
			goto fail;
		h = more;
		snprintf(line, sizeof(line), WEBHOOK_SIGNATURE_HEADER ": %s", signature);
		more = curl_slist_append(h, line);
		if (!more)
			goto fail;
		h = more;
	}
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
}

int webhook_request_start(CURL *curl, struct webhook_request *req, const struct webhook_message *m,
			  long timeout_s, const struct netpolicy *policy,
			  const atomic_int *stopping, struct webhook_outcome *out)
{
	memset(out, 0, sizeof(*out));
	req->guard.policy = policy;
	req->headers = headers_for(m);
	if (!req->headers) {
		snprintf(out->error, sizeof(out->error), "the request could not be made");
		return SE_ENOMEM;
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, m->url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, m->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(m->body));
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "saasedge-webhooks");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_s < 5 ? timeout_s : 5L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)stopping);
	curl_guard_install(curl, &req->guard);
	return 0;
}

int webhook_request_end(CURL *curl, struct webhook_request *req, CURLcode cc,
			struct webhook_outcome *out)
{
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	/* The header list is the request's: the next reset forgets it, so it can go now. */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(req->headers);
	req->headers = NULL;
	if (req->guard.refused[0]) {
		snprintf(out->error, sizeof(out->error),
			 "the receiver's address %s is internal (see edge.origin_allow_networks)",
			 req->guard.refused);
		return SE_EPERM;
	}
	if (cc != CURLE_OK) {
		snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(cc));
		return SE_EIO;
	}
	if (out->status < 200 || out->status > 299) {
		snprintf(out->error, sizeof(out->error), "the receiver answered %ld", out->status);
		return SE_EIO;
	}
	return 0;
}
