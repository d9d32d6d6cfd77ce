/* The HTTP side of the API: libmicrohttpd with a thread pool, request bodies gathered up to
 * api.max_body, then authentication (with its per-address failure limit), rate limiting,
 * routing and the handler, in that order.
 * The email DCV approval page (routes_approval.h) is the one route without authentication; with
 * api.approval_listen it is served by a daemon of its own on that address (and not by the API's),
 * so that the API can stay on a private address while the page is public. */
#include "api/api.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/auth.h"
#include "api/dashboard.h"
#include "api/expiry_watch.h"
#include "api/ratelimit.h"
#include "api/router.h"
#include "api/routes_approval.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"

struct api_server {
	struct MHD_Daemon *daemon;
	const struct config *cfg;
	struct store *store;
	const struct secretbox *box;
	struct expiry_watch *expiry; /* uploaded certificates' status by date */
	struct api_ratelimit *ratelimit;
	struct api_auth_failures *auth_failures; /* failed authentications per client address */
	int listen_fd;                           /* -1 once MHD owns it */
	unsigned port;
	struct MHD_Daemon *approval_daemon; /* NULL: the API's daemon serves the page */
	int approval_fd;                    /* -1 once MHD owns it */
};

/* One per HTTP request, from its first callback to MHD's "completed" notification. */
struct pending_request {
	char *body;
	size_t len;
	int too_large;
};

const char *api_query(const struct api_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct api_response *res)
{
	char *text = json_dumps(res->body, JSON_COMPACT);
	struct MHD_Response *response;
	enum MHD_Result ok;

	if (!text)
		return MHD_NO;
	response = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(response, "Content-Type", "application/json");
	/* The Stainless SDKs resend 409s and other 4xx unless told not to: a duplicate or a bad
	 * field can only fail again. 408 and 429 are worth a retry. */
	if (res->status >= 400 && res->status < 500 && res->status != 408 && res->status != 429)
		MHD_add_response_header(response, "x-should-retry", "false");
	if (res->retry_after) {
		char seconds[16];
		snprintf(seconds, sizeof(seconds), "%u", res->retry_after);
		MHD_add_response_header(response, "Retry-After", seconds);
	}
	ok = MHD_queue_response(conn, res->status, response);
	MHD_destroy_response(response);
	return ok;
}

/* The approval page of email DCV: HTML, never cached or framed, and no Referer leaks the link. */
static enum MHD_Result send_approval_page(struct api_server *srv, struct MHD_Connection *conn,
					  const char *url, const char *method)
{
	struct api_html page;
	struct MHD_Response *response;
	enum MHD_Result ok;

	api_approval_serve(srv->store, method, url, &page);
	if (!page.html)
		return MHD_NO;
	response = MHD_create_response_from_buffer(strlen(page.html), page.html,
						   MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(page.html);
		return MHD_NO;
	}
	MHD_add_response_header(response, "Content-Type", "text/html; charset=utf-8");
	MHD_add_response_header(response, "Cache-Control", "no-store");
	MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(response, "Content-Security-Policy",
				"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
				"frame-ancestors 'none'");
	if (page.status == 405)
		MHD_add_response_header(response, "Allow", "GET, POST");
	ok = MHD_queue_response(conn, page.status, response);
	MHD_destroy_response(response);
	return ok;
}

/* 1 when the request's Accept-Encoding takes gzip (a "gzip;q=0" refusal is not looked for:
 * no browser sends it). */
static int accepts_gzip(struct MHD_Connection *conn)
{
	const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");

	return ae && strstr(ae, "gzip") != NULL;
}

/* A dashboard file or redirect. The pages may not be framed, read nothing but this origin and
 * run no inline script (Content-Security-Policy), so an injected string cannot become code;
 * files are revalidated by ETag, so a new binary's pages are seen at once. */
static enum MHD_Result send_dashboard(struct MHD_Connection *conn,
				      const struct dashboard_reply *reply)
{
	static const char not_found[] = "Not found.\n";
	const struct dashboard_asset *a = reply->asset;
	const char *match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
	int status = reply->status, gz = a && accepts_gzip(conn);
	struct MHD_Response *response;
	enum MHD_Result ok;

	if (a && match && strcmp(match, a->etag) == 0)
		status = 304;
	if (a && status == 200)
		response = MHD_create_response_from_buffer(gz ? a->gzip_len : a->plain_len,
							   (void *)(gz ? a->gzip : a->plain),
							   MHD_RESPMEM_PERSISTENT);
	else if (status == 404)
		response = MHD_create_response_from_buffer(sizeof(not_found) - 1,
							   (void *)not_found,
							   MHD_RESPMEM_PERSISTENT);
	else
		response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!response)
		return MHD_NO;
	if (a) {
		MHD_add_response_header(response, "Content-Type", a->content_type);
		MHD_add_response_header(response, "ETag", a->etag);
		MHD_add_response_header(response, "Cache-Control", "no-cache");
		MHD_add_response_header(response, "Vary", "Accept-Encoding");
		if (gz && status == 200)
			MHD_add_response_header(response, "Content-Encoding", "gzip");
	} else if (status == 404) {
		MHD_add_response_header(response, "Content-Type", "text/plain; charset=utf-8");
	}
	if (reply->location)
		MHD_add_response_header(response, "Location", reply->location);
	if (status == 405)
		MHD_add_response_header(response, "Allow", "GET, HEAD");
	MHD_add_response_header(response, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; style-src 'self'; "
				"connect-src 'self'; img-src 'self'; form-action 'self'; "
				"base-uri 'none'; frame-ancestors 'none'");
	MHD_add_response_header(response, "X-Frame-Options", "DENY");
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(response, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(response, "Cross-Origin-Resource-Policy", "same-origin");
	ok = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	return ok;
}

/* Authenticates, rate-limits, routes and runs the handler; fills RES in every case. */
static void handle(struct api_server *srv, struct MHD_Connection *conn, const char *url,
		   const char *method, struct pending_request *pr, struct api_response *res)
{
	struct api_request req = {.method = method, .cfg = srv->cfg, .store = srv->store,
				  .box = srv->box, .conn = conn, .body = pr->body, .body_len = pr->len};
	struct api_credentials creds = {
		.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
		.auth_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Key"),
		.auth_email = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Email"),
	};
	char path[512];
	char limit[32];
	unsigned retry_after = 0;

	if (pr->too_large) {
		snprintf(limit, sizeof(limit), "%lld", (long long)srv->cfg->api.max_body);
		api_fail(res, API_ERR_BODY_TOO_LARGE, limit);
		return;
	}
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct api_client client = {.failures = srv->auth_failures,
				    .peer = info ? info->client_addr : NULL,
				    .now_us = time_now_us()};
	if (api_authenticate(srv->store, &client, &creds, &req.token, res))
		return;
	if (!api_ratelimit_take(srv->ratelimit, req.token.id, time_now_us(), &retry_after)) {
		api_fail(res, API_ERR_RATE_LIMITED, NULL);
		res->retry_after = retry_after;
		return;
	}
	snprintf(path, sizeof(path), "%s", url);
	req.path = api_path_normalize(path);
	if (!req.path) {
		api_fail_no_route(res, url);
		return;
	}
	api_handler handler = api_route(&req, res);
	if (handler)
		handler(&req, res);
}

/* The route label of URL for the metrics: what the request acts on, never an id. */
static enum metric_route route_label(const char *url)
{
	const char *ch = strstr(url, "/custom_hostnames");

	if (ch && strstr(ch, "/fallback_origin"))
		return MA_FALLBACK_ORIGIN;
	if (ch)
		return ch[sizeof("/custom_hostnames") - 1] == '/' ? MA_HOSTNAME : MA_HOSTNAMES;
	if (strstr(url, "/custom_certificates"))
		return MA_CUSTOM_CERTS;
	if (strstr(url, "/custom_csrs"))
		return MA_CSRS;
	if (strstr(url, "/alerting/"))
		return MA_ALERTING;
	if (strncmp(url, "/client/v4/accounts", 19) == 0)
		return MA_ACCOUNTS;
	if (strncmp(url, "/client/v4/zones", 16) == 0)
		return MA_ZONES;
	if (strncmp(url, "/dashboard", 10) == 0 || strstr(url, "/openapi.json"))
		return MA_DASHBOARD;
	return MA_OTHER;
}

static void count_request(const char *url, unsigned status, int64_t started_us)
{
	enum metric_route route = route_label(url);

	metrics_count_status(M_API_REQUESTS, route, (int)status);
	metrics_observe_us(M_API_SECONDS, route, time_now_us() - started_us);
}

static int body_append(struct pending_request *pr, const char *data, size_t n, int64_t max)
{
	if (pr->too_large || pr->len + n > (size_t)max) {
		pr->too_large = 1;
		return 0;
	}
	char *grown = realloc(pr->body, pr->len + n + 1);
	if (!grown)
		return -1;
	memcpy(grown + pr->len, data, n);
	pr->body = grown;
	pr->len += n;
	pr->body[pr->len] = '\0';
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **ctx)
{
	struct api_server *srv = cls;
	struct pending_request *pr = *ctx;
	struct api_response res = {0};
	enum MHD_Result ok;

	if (!pr) {
		pr = calloc(1, sizeof(*pr));
		if (!pr)
			return MHD_NO;
		*ctx = pr;
		const char *length =
			MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (length && strtoll(length, NULL, 10) > srv->cfg->api.max_body)
			pr->too_large = 1;
		if (!pr->too_large)
			return MHD_YES;
	} else if (*upload_data_size) {
		if (body_append(pr, upload_data, *upload_data_size, srv->cfg->api.max_body))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!srv->approval_daemon && api_approval_match(url))
		return send_approval_page(srv, conn, url, method);
	struct dashboard_reply dashboard;
	int64_t started_us = time_now_us();
	if (dashboard_openapi_route(url, method, &dashboard) ||
	    (srv->cfg->api.dashboard && dashboard_route(url, method, &dashboard))) {
		count_request(url, (unsigned)dashboard.status, started_us);
		return send_dashboard(conn, &dashboard);
	}
	handle(srv, conn, url, method, pr, &res);
	if (!res.body)
		api_fail(&res, API_ERR_INTERNAL, NULL);
	ok = send_response(conn, &res);
	count_request(url, res.status, started_us);
	api_response_dispose(&res);
	return ok;
}

static enum MHD_Result send_not_found(struct MHD_Connection *conn)
{
	static const char text[] = "Not found: this address serves approval links only.\n";
	struct MHD_Response *response = MHD_create_response_from_buffer(
		sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok;

	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, "Content-Type", "text/plain; charset=utf-8");
	ok = MHD_queue_response(conn, 404, response);
	MHD_destroy_response(response);
	return ok;
}

/* The approval listener: the page and nothing else. The form posts no fields, so a body is
 * read and dropped (MHD's connection timeout bounds a slow one). */
static enum MHD_Result on_approval_request(void *cls, struct MHD_Connection *conn,
					   const char *url, const char *method,
					   const char *version, const char *upload_data,
					   size_t *upload_data_size, void **ctx)
{
	static int started; /* any non-NULL marker: the request's first call has been seen */

	if (!*ctx) {
		*ctx = &started;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (api_approval_match(url))
		return send_approval_page(cls, conn, url, method);
	return send_not_found(conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
			 enum MHD_RequestTerminationCode why)
{
	struct pending_request *pr = *ctx;

	if (pr) {
		free(pr->body);
		free(pr);
		*ctx = NULL;
	}
}

/* The approval page's own daemon on api.approval_listen; none when that is "". */
static int approval_start(struct api_server *srv)
{
	const char *addr = srv->cfg->api.approval_listen;
	unsigned port = 0;
	int rc;

	if (!addr[0])
		return 0;
	rc = netaddr_listen_tcp(addr, &srv->approval_fd, &port);
	if (rc) {
		log_error("msg=\"cannot listen for the approval page\" api.approval_listen=%s err=%s",
			  addr, se_errname(rc));
		return rc;
	}
	srv->approval_daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_approval_request,
		srv, MHD_OPTION_LISTEN_SOCKET, srv->approval_fd, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)2, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!srv->approval_daemon)
		return SE_EIO;
	srv->approval_fd = -1; /* MHD_stop_daemon closes it */
	log_info("msg=\"approval page listening\" api.approval_listen=%s port=%u", addr, port);
	return 0;
}

int api_server_start(const struct config *cfg, struct store *st, const struct secretbox *box,
		     struct api_server **out)
{
	struct api_server *srv = calloc(1, sizeof(*srv));
	int rc;

	if (!srv)
		return SE_ENOMEM;
	srv->cfg = cfg;
	srv->store = st;
	srv->box = box;
	srv->listen_fd = -1;
	srv->approval_fd = -1;
	srv->ratelimit = api_ratelimit_create(cfg->api.rate_limit, cfg->api.rate_burst);
	srv->auth_failures =
	    api_auth_failures_create(cfg->api.auth_fail_limit, cfg->api.auth_fail_window);
	if (!srv->ratelimit || !srv->auth_failures) {
		rc = SE_ENOMEM;
		goto fail;
	}
	rc = netaddr_listen_tcp(cfg->api.listen, &srv->listen_fd, &srv->port);
	if (rc)
		goto fail;
	srv->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request, srv,
		MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)cfg->api.threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
	if (!srv->daemon) {
		rc = SE_EIO;
		goto fail;
	}
	/* MHD_stop_daemon closes the socket: closing it again could close whatever another
	 * thread (the edge draining its connections) has opened on the same number since. */
	srv->listen_fd = -1;
	rc = approval_start(srv);
	if (rc == 0)
		rc = expiry_watch_start(st, 60, &srv->expiry);
	if (rc) {
		if (srv->approval_daemon)
			MHD_stop_daemon(srv->approval_daemon);
		MHD_stop_daemon(srv->daemon);
		goto fail;
	}
	*out = srv;
	return 0;
fail:
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->approval_fd >= 0)
		close(srv->approval_fd);
	api_ratelimit_destroy(srv->ratelimit);
	api_auth_failures_destroy(srv->auth_failures);
	free(srv);
	return rc;
}

unsigned api_server_port(const struct api_server *srv)
{
	return srv->port;
}

void api_server_stop(struct api_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	if (srv->approval_daemon)
		MHD_stop_daemon(srv->approval_daemon);
	expiry_watch_stop(srv->expiry);
	api_ratelimit_destroy(srv->ratelimit);
	api_auth_failures_destroy(srv->auth_failures);
	free(srv);
}
