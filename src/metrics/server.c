/* The metrics listener: GET /metrics (and /) on metrics.listen, served by libmicrohttpd on a
 * thread of its own, away from the API (which may be on another address, or not run at all on
 * this node) and from the edge's event loops. */
#include "metrics/metrics_int.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/netaddr.h"

struct metrics_server {
	struct MHD_Daemon *daemon;
	struct store *st; /* NULL: no store gauges (a process without one) */
	unsigned port;
};

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
			      const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ok;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **ctx)
{
	static int started;
	struct metrics_server *srv = cls;
	char *text;
	size_t len = 0;

	if (!*ctx) {
		*ctx = &started;
		return MHD_YES;
	}
	if (*upload_size) { /* a body is not wanted: dropped */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer(conn, 405, strdup("method not allowed\n"), 19, "text/plain");
	if (strcmp(url, "/metrics") != 0 && strcmp(url, "/") != 0)
		return answer(conn, 404, strdup("not found\n"), 10, "text/plain");
	text = metrics_render(srv->st, &len);
	if (!text)
		return answer(conn, 500, strdup("out of memory\n"), 14, "text/plain");
	return answer(conn, 200, text, len, "text/plain; version=0.0.4; charset=utf-8");
}

int metrics_server_start(const struct config *cfg, struct store *st, struct metrics_server **out)
{
	struct metrics_server *srv;
	int fd = -1, rc;

	*out = NULL;
	if (!cfg->metrics.listen[0])
		return 0;
	if (!(srv = calloc(1, sizeof(*srv))))
		return SE_ENOMEM;
	srv->st = st;
	metrics_set_cas(cfg);
	metrics_gauges_config(cfg);
	metrics_enable();
	rc = netaddr_listen_tcp(cfg->metrics.listen, &fd, &srv->port);
	if (rc) {
		log_error("msg=\"cannot listen for metrics\" metrics.listen=%s err=%s",
			  cfg->metrics.listen, se_errname(rc));
		free(srv);
		return rc;
	}
	srv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL,
				       NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd,
				       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!srv->daemon) {
		close(fd);
		free(srv);
		return SE_EIO;
	}
	log_info("msg=\"metrics listening\" metrics.listen=%s port=%u", cfg->metrics.listen,
		 srv->port);
	*out = srv;
	return 0;
}

unsigned metrics_server_port(const struct metrics_server *srv)
{
	return srv ? srv->port : 0;
}

void metrics_server_stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
