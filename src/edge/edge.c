/* The edge role: start and stop. Start-up binds the listeners of every loop, creates one SSL_CTX
 * for the HTTPS listener and one client SSL_CTX for https origins, and loads no certificate:
 * names are looked up on first use. */
#include "edge/edge_int.h"

#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"
#include "store/edge_copy.h"

#define LOOKUP_THREADS 2

/* ADDR with its port replaced by PORT (the port the first loop got for ":0"). */
static void with_port(const char *addr, int port, char *out, size_t len)
{
	const char *colon = strrchr(addr, ':');

	snprintf(out, len, "%.*s:%d", colon ? (int)(colon - addr) : 0, addr, port);
}

/* A socket of this process's own on ADDR into *FD; the first one of a kind sets *PORT, which the
 * next ones then use (ADDR may ask for port 0). */
static int listen_one(const char *addr, int *port, int *fd)
{
	char buf[CONFIG_ADDR_LEN + 8];
	int got = 0, rc;

	if (*port)
		with_port(addr, *port, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%s", addr);
	rc = edge_listen(buf, fd, &got);
	if (rc == 0 && !*port)
		*port = got;
	return rc;
}

/* Loop INDEX's listening sockets of one kind into FDS from *N on: the taken-over sockets
 * INDEX, INDEX + n_loops, … (so that every one of them has a loop), or one of its own when
 * none is left for it. */
static int kind_listen(struct edge *e, int index, int tls, struct handover_taken *taken, int *fds,
		       int *kinds, int *n)
{
	const char *addr = tls ? e->cfg->edge.https_listen : e->cfg->edge.http_listen;
	int *port = tls ? &e->https_port : &e->http_port;
	int took = 0, rc;

	for (int i = index; i < taken->n[tls]; i += e->n_loops) {
		if (!*port)
			*port = netaddr_bound_port(taken->fds[tls][i]);
		kinds[*n] = tls;
		fds[(*n)++] = taken->fds[tls][i];
		taken->fds[tls][i] = -1;
		took++;
	}
	if (took)
		return 0;
	rc = listen_one(addr, port, &fds[*n]);
	if (rc == 0)
		kinds[(*n)++] = tls;
	return rc;
}

static int loop_listen(struct edge *e, int index, struct handover_taken *taken)
{
	/* every taken-over socket (at most) and one of its own of each kind */
	int fds[2 * HANDOVER_MAX + 2], kinds[2 * HANDOVER_MAX + 2];
	int n = 0, rc;

	rc = kind_listen(e, index, 1, taken, fds, kinds, &n);
	if (rc == 0)
		rc = kind_listen(e, index, 0, taken, fds, kinds, &n);
	if (n > 0) { /* the loop owns them now, even when it is not going to start */
		int lrc = edge_loop_listen(&e->loops[index], fds, kinds, n);

		rc = rc ? rc : lrc;
	}
	if (rc)
		log_error("edge msg=\"cannot listen\" https=%s http=%s error=%s",
			  e->cfg->edge.https_listen, e->cfg->edge.http_listen, se_errname(rc));
	return rc;
}

/* edge.default_certificate: one PEM file with the certificate, its chain and the key. */
static int load_default(struct edge *e)
{
	const char *path = e->cfg->edge.default_certificate;
	FILE *f;
	X509 *x;
	int rc = SE_ECONFIG;

	if (!path[0])
		return 0;
	f = fopen(path, "r");
	if (!f)
		goto out;
	e->default_leaf = PEM_read_X509(f, NULL, NULL, NULL);
	e->default_chain = sk_X509_new_null();
	while (e->default_chain && (x = PEM_read_X509(f, NULL, NULL, NULL)))
		sk_X509_push(e->default_chain, x);
	ERR_clear_error();
	rewind(f);
	e->default_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (e->default_leaf && e->default_key &&
	    X509_check_private_key(e->default_leaf, e->default_key) == 1)
		rc = 0;
out:
	ERR_clear_error();
	if (rc)
		log_error("edge msg=\"cannot load edge.default_certificate\" path=%s", path);
	return rc;
}

/* Cloudflare's "Full" mode by default: origins commonly use self-signed or private-CA
 * certificates, so the connection is encrypted but the certificate is not checked.
 * edge.origin_tls_verify gives "Full (strict)": the chain must lead to edge.origin_ca_file (or
 * the system's CAs), and proxy.c sets the name it must carry per connection. A CA file that
 * cannot be read fails start-up even with verification off, so that turning it on later does
 * not find the mistake. */
static int origin_ctx_create(struct edge *e)
{
	const char *ca = e->cfg->edge.origin_ca_file;
	int verify = e->cfg->edge.origin_tls_verify;
	int ok = 1;

	e->origin_ctx = SSL_CTX_new(TLS_client_method());
	if (!e->origin_ctx)
		return SE_ECRYPTO;
	SSL_CTX_set_min_proto_version(e->origin_ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(e->origin_ctx,
			 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(e->origin_ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (ca[0])
		ok = SSL_CTX_load_verify_locations(e->origin_ctx, ca, NULL);
	else if (verify)
		ok = SSL_CTX_set_default_verify_paths(e->origin_ctx);
	ERR_clear_error();
	if (ok != 1) {
		log_error("edge msg=\"cannot load the CAs for origin certificates\" "
			  "edge.origin_ca_file=%s",
			  ca[0] ? ca : "(the system's)");
		return SE_ECONFIG;
	}
	return 0;
}

/* With a shared store (PostgreSQL) the edge keeps what it loads in DATA_DIR/edge-copy.db, so
 * that it can start and serve while the database is away. A local SQLite store is that copy. */
static int open_local_copy(struct edge *e)
{
	char path[PATH_MAX];
	int rc;

	if (strcmp(store_backend_name(e->st), "postgres") != 0)
		return 0;
	if (snprintf(path, sizeof(path), "%s/edge-copy.db", e->cfg->data_dir) >= (int)sizeof(path))
		return SE_ECONFIG;
	rc = edge_copy_open(path, &e->copy);
	return rc ? rc : copy_writer_start(e->copy, &e->copy_writer);
}

static int workers(const struct config *cfg)
{
	long n = cfg->edge.workers;

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (int)n;
}

/* Every loop gets its listening sockets, taken over from the process this one replaces where it
 * has them (a restart on the same ports then loses no queued connection), before any starts. */
static int start_loops(struct edge *e)
{
	struct handover_taken taken;
	int rc = 0;

	e->n_loops = workers(e->cfg);
	e->loops = calloc((size_t)e->n_loops, sizeof(*e->loops));
	if (!e->loops)
		return SE_ENOMEM;
	handover_take(e->cfg, &taken);
	for (int i = 0; rc == 0 && i < e->n_loops; i++) {
		rc = edge_loop_init(&e->loops[i], e);
		if (rc == 0)
			rc = loop_listen(e, i, &taken);
	}
	handover_taken_close(&taken);
	for (int i = 0; rc == 0 && i < e->n_loops; i++)
		rc = edge_loop_start(&e->loops[i]);
	if (rc == 0) /* without it a restart may reset a few connections: no reason not to serve */
		(void)handover_start(e, &e->handover);
	return rc;
}

/* The edge's gauges, read when metrics are scraped: what it keeps counted anyway. */
static void publish_gauges(void *arg)
{
	struct edge *e = arg;
	size_t bytes, entries;

	cert_cache_size(e->cache, &bytes, &entries);
	metrics_set(M_EDGE_CONNECTIONS, 0, 0, atomic_load(&e->n_conns));
	metrics_set(M_EDGE_CACHE_BYTES, 0, 0, (int64_t)bytes);
	metrics_set(M_EDGE_CACHE_ENTRIES, 0, 0, (int64_t)entries);
}

int edge_start(const struct config *cfg, struct store *st, const struct secretbox *box,
	       struct edge **out)
{
	struct edge *e = calloc(1, sizeof(*e));
	int rc;

	*out = NULL;
	if (!e)
		return SE_ENOMEM;
	e->cfg = cfg;
	e->st = st;
	e->box = box;
	atomic_init(&e->n_conns, 0);
	rc = load_default(e);
	if (rc == 0)
		rc = cert_cache_create((size_t)cfg->edge.cache_bytes, &e->cache);
	if (rc == 0)
		rc = edge_tls_ctx_create(e, &e->https_ctx);
	if (rc == 0)
		rc = tickets_init(e, e->https_ctx);
	if (rc == 0)
		rc = origin_ctx_create(e);
	if (rc == 0)
		rc = resolver_create(cfg->dns.resolver, &e->resolver);
	if (rc == 0)
		rc = lookup_pool_start(e, LOOKUP_THREADS, &e->lookups);
	if (rc == 0)
		rc = open_local_copy(e);
	if (rc == 0)
		rc = fallback_check_start(e, &e->fallback);
	if (rc == 0)
		rc = change_feed_start(e, &e->feed);
	if (rc == 0)
		rc = start_loops(e);
	if (rc == 0)
		rc = metrics_collector_add(publish_gauges, e);
	if (rc) {
		edge_stop(e);
		return rc;
	}
	log_info("edge msg=\"edge serving\" https_port=%d http_port=%d workers=%d cache_bytes=%lld",
		 e->https_port, e->http_port, e->n_loops, (long long)cfg->edge.cache_bytes);
	*out = e;
	return 0;
}

void edge_stop(struct edge *e)
{
	int64_t deadline;

	if (!e)
		return;
	metrics_collector_remove(publish_gauges, e);
	handover_stop(e->handover); /* before the loops close what it would hand over */
	deadline = time_now_us() + e->cfg->edge.drain_timeout * 1000000;
	for (int i = 0; e->loops && i < e->n_loops; i++)
		edge_loop_drain(&e->loops[i], deadline);
	for (int i = 0; e->loops && i < e->n_loops; i++)
		edge_loop_join(&e->loops[i]);
	if (e->loops)
		log_info("edge msg=\"edge drained\"");
	change_feed_stop(e->feed);
	fallback_check_stop(e->fallback);
	lookup_pool_stop(e->lookups); /* finishes queued jobs into the halted loops' lists */
	copy_writer_stop(e->copy_writer);
	edge_copy_close(e->copy);
	for (int i = 0; e->loops && i < e->n_loops; i++) {
		if (e->loops[i].epfd > 0 || e->loops[i].wake_fd > 0)
			edge_loop_dispose(&e->loops[i]);
	}
	free(e->loops);
	SSL_CTX_free(e->https_ctx);
	SSL_CTX_free(e->origin_ctx);
	tickets_dispose(e);
	X509_free(e->default_leaf);
	EVP_PKEY_free(e->default_key);
	sk_X509_pop_free(e->default_chain, X509_free);
	cert_cache_destroy(e->cache);
	edge_entry_chains_clear();
	resolver_destroy(e->resolver);
	free(e);
}
