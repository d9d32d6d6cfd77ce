/* http DCV for the internal CA: saasedge fetches its own token the way a CA would, from
 * http://<host>:<edge HTTP port>/.well-known/acme-challenge/<token>, with the host's address
 * looked up at dns.resolver (in --dev mode every name is 127.0.0.1, as the dev edge is). The
 * address is a customer's DNS answer, so it must pass edge.origin_allow_networks like an
 * origin: otherwise this fetch would be a port probe of the provider's network whose result
 * lands in validation_errors. */
#include "issuer/issuer_int.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/curl_guard.h"
#include "lib/error.h"

#define BODY_MAX 1024

struct a_query {
	char ip[INET_ADDRSTRLEN];
	int done;
};

static void on_a(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct a_query *q = arg;
	struct ares_addrttl addrs[4];
	int n = 4;

	q->done = 1;
	if (status == ARES_SUCCESS &&
	    ares_parse_a_reply(abuf, alen, NULL, addrs, &n) == ARES_SUCCESS && n > 0)
		inet_ntop(AF_INET, &addrs[0].ipaddr, q->ip, sizeof(q->ip));
}

static int address_of(const struct config *cfg, const char *host, char *ip, size_t len)
{
	struct ares_options opts = {.timeout = 1000, .tries = 2};
	struct a_query q = {"", 0};
	ares_channel ch = NULL;

	if (cfg->dev) {
		snprintf(ip, len, "127.0.0.1");
		return 0;
	}
	if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
		return SE_EIO;
	if (!cfg->dns.resolver[0] || ares_set_servers_ports_csv(ch, cfg->dns.resolver) == 0) {
		ares_query(ch, host, ns_c_in, ns_t_a, on_a, &q);
		dcv_channel_wait(ch, &q.done);
	}
	ares_destroy(ch);
	snprintf(ip, len, "%s", q.ip);
	return q.ip[0] ? 0 : SE_ENOTFOUND;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	char *body = arg;
	size_t used = strlen(body), add = size * n;

	if (used + add >= BODY_MAX)
		return 0; /* longer than any token response: stop reading */
	memcpy(body + used, data, add);
	body[used + add] = '\0';
	return add;
}

/* The port of edge.http_listen ("HOST:PORT", ":80"); 80 when it names none. */
static long edge_port(const struct config *cfg)
{
	const char *colon = strrchr(cfg->edge.http_listen, ':');
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;

	return port > 0 && port < 65536 ? port : 80;
}

int dcv_http_check(const struct config *cfg, const char *host, const char *token,
		   const char *expected, char *msg, size_t msg_len)
{
	char path[300];

	snprintf(path, sizeof(path), "/.well-known/acme-challenge/%s", token);
	return dcv_http_fetch_check(cfg, host, path, expected, msg, msg_len);
}

int dcv_http_fetch_check(const struct config *cfg, const char *host, const char *path,
			 const char *expected, char *msg, size_t msg_len)
{
	char url[600], ip[INET_ADDRSTRLEN], resolve[400], body[BODY_MAX] = "";
	struct curl_slist *rl = NULL;
	long port = edge_port(cfg), status = 0;
	struct curl_guard guard = {&cfg->edge.origin_allow, ""};
	CURL *curl = NULL;
	CURLcode cc;
	int rc = SE_EIO;

	snprintf(url, sizeof(url), "http://%s:%ld%s", host, port, path);
	if (address_of(cfg, host, ip, sizeof(ip))) {
		snprintf(msg, msg_len, "%s has no A record: point it at the edge", host);
		return SE_ENOTFOUND;
	}
	snprintf(resolve, sizeof(resolve), "%s:%ld:%s", host, port, ip);
	curl = curl_easy_init();
	rl = curl_slist_append(NULL, resolve);
	if (!curl || !rl) {
		snprintf(msg, msg_len, "HTTP check could not start");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, rl);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_guard_install(curl, &guard);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (guard.refused[0]) {
		snprintf(msg, msg_len,
			 "%s resolves to %s, an internal address saasedge does not connect to "
			 "(see edge.origin_allow_networks): point %s at the edge",
			 host, guard.refused, host);
		rc = SE_EPERM;
	} else if (cc != CURLE_OK) {
		snprintf(msg, msg_len, "fetching http://%s%s: %s", host, path,
			 curl_easy_strerror(cc));
	} else if (status != 200 || strcmp(body, expected) != 0) {
		snprintf(msg, msg_len,
			 "http://%s%s answered %ld without the expected body: point %s at the edge",
			 host, path, status, host);
		rc = SE_ENOTFOUND;
	} else {
		rc = 0;
	}
out:
	curl_slist_free_all(rl);
	curl_easy_cleanup(curl);
	return rc;
}
