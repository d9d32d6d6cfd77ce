/* tls_load: full-handshake load for the edge benchmarks. wrk and h2load resume sessions on
 * reconnect and cannot rotate SNI, so they measure the cheap path; this client makes a fresh SSL
 * per connection with tickets and the session cache off, draws SNI from a file of hostnames,
 * completes the handshake, optionally sends one HTTP/1.1 request, and closes.
 *
 * Usage: tls_load --connect HOST:PORT --names FILE [--threads N] [--count N | --seconds S]
 *                 [--rsa-only] [--tls12 | --tls13] [--request] [--sweep [--pairs]] [--latency]
 * --sweep visits every name once, in order (a warm-up before a measured run).
 * --latency adds the percentiles of the wall time from connect() to the end of the handshake
 * (p50_us, p99_us, max_us), over the successful handshakes.
 * --pairs (with --sweep --latency) handshakes each name twice in a row: the first is the
 * server's miss, the second its hit. It prints the percentiles of each and of the difference
 * within each pair (extra_p50_us, extra_p99_us): a burst of machine noise then lands on both
 * handshakes of a pair and cancels out, where comparing two passes made a minute apart adds
 * the noise of each.
 * Prints one line of key=value figures. The client-side rate it prints is not the figure the
 * benchmarks report (server CPU per handshake is): a client verifying ECDSA spends more CPU than
 * the server signing. Exit status 0 when every handshake succeeded. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256

struct opts {
	const char *host;
	const char *port;
	const char *names_file;
	int threads;
	long count; /* handshakes in all; 0 = run for SECONDS */
	double seconds;
	int rsa_only;
	int version; /* 0 any, else TLS1_2_VERSION or TLS1_3_VERSION */
	int request;
	int sweep;
	int pairs;
	int latency;
};

struct shared {
	const struct opts *o;
	SSL_CTX *ctx;
	struct addrinfo *addr;
	char **names;
	size_t n_names;
	double deadline;
	atomic_long claimed; /* handshakes started, against --count */
	atomic_long done;
	atomic_long failed;
	atomic_long served_ec;
	atomic_long served_rsa;
	atomic_int stop; /* a fatal mismatch: ignored --rsa-only, wrong TLS version */
	atomic_flag err_printed;
	double *lat_us; /* --latency: one slot per handshake, claimed with n_lat */
	size_t lat_cap;
	atomic_size_t n_lat;
	double *hit_us; /* --pairs: lat_us[i] is name i's first handshake, hit_us[i] its second */
};

struct worker {
	struct shared *sh;
	pthread_t tid;
	unsigned seed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void usage(void)
{
	fputs("usage: tls_load --connect HOST:PORT --names FILE [--threads N] "
	      "[--count N | --seconds S | --sweep [--pairs]] [--rsa-only] [--tls12 | --tls13] "
	      "[--request] [--latency]\n",
	      stderr);
	exit(2);
}

static void split_hostport(char *arg, struct opts *o)
{
	char *colon = strrchr(arg, ':');

	if (!colon || colon == arg || !colon[1])
		usage();
	*colon = '\0';
	o->host = arg;
	o->port = colon + 1;
}

/* The value after a flag; a flag without one is a usage error. */
static const char *value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threads = 4;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--rsa-only"))
			o->rsa_only = 1;
		else if (!strcmp(a, "--tls12"))
			o->version = TLS1_2_VERSION;
		else if (!strcmp(a, "--tls13"))
			o->version = TLS1_3_VERSION;
		else if (!strcmp(a, "--request"))
			o->request = 1;
		else if (!strcmp(a, "--sweep"))
			o->sweep = 1;
		else if (!strcmp(a, "--pairs"))
			o->pairs = 1;
		else if (!strcmp(a, "--latency"))
			o->latency = 1;
		else if (!strcmp(a, "--connect"))
			split_hostport((char *)value(argc, argv, &i), o);
		else if (!strcmp(a, "--names"))
			o->names_file = value(argc, argv, &i);
		else if (!strcmp(a, "--threads"))
			o->threads = atoi(value(argc, argv, &i));
		else if (!strcmp(a, "--count"))
			o->count = atol(value(argc, argv, &i));
		else if (!strcmp(a, "--seconds"))
			o->seconds = atof(value(argc, argv, &i));
		else
			usage();
	}
	if (!o->host || !o->names_file || o->threads < 1 || o->threads > MAX_THREADS ||
	    (o->count <= 0 && o->seconds <= 0 && !o->sweep) ||
	    (o->pairs && (!o->sweep || !o->latency)))
		usage();
}

/* Reads one hostname per line; blank lines are skipped. */
static int load_names(const char *path, struct shared *sh)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (sh->n_names == cap) {
			cap = cap ? cap * 2 : 1024;
			char **grown = realloc(sh->names, cap * sizeof(*grown));
			if (!grown)
				break;
			sh->names = grown;
		}
		if (!(sh->names[sh->n_names] = strdup(line)))
			break;
		sh->n_names++;
	}
	fclose(f);
	return sh->n_names ? 0 : -1;
}

/* No verification (the client's cost is not the figure) and no resumption of any kind: tickets
 * off and no client session cache, so every connection is a full handshake. */
static SSL_CTX *make_ctx(const struct opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* --tls13 still offers TLS 1.2 (and its cipher suites), as browsers do: HAProxy picks its
	 * ECDSA certificate only when an ECDSA TLS 1.2 suite is offered. The negotiated version is
	 * checked per connection instead. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (o->version)
		SSL_CTX_set_max_proto_version(ctx, o->version);
	/* TLS 1.3 suites in Firefox's order (Chrome's also starts with AES-128-GCM): a server
	 * that follows the client's order (nginx's and HAProxy's default) then picks what it
	 * picks for a browser, not OpenSSL's default AES-256-GCM-SHA384. */
	if (!SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
					   "TLS_AES_256_GCM_SHA384")) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int tcp_connect(const struct addrinfo *ai)
{
	int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void report_error(struct shared *sh, const char *what, const char *name)
{
	char buf[256] = "";
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	else if (errno)
		snprintf(buf, sizeof(buf), "%s", strerror(errno));
	if (!atomic_flag_test_and_set(&sh->err_printed))
		fprintf(stderr, "tls_load: %s failed for %s: %s\n", what, name, buf);
	ERR_clear_error();
}

/* Counts which key the server's leaf carries; under --rsa-only an ECDSA leaf means the server
 * ignored signature_algorithms, and every RSA figure would be an ECDSA one: stop. */
static int check_leaf(struct shared *sh, SSL *ssl)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	EVP_PKEY *pk = leaf ? X509_get0_pubkey(leaf) : NULL;
	int rsa = pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA;

	atomic_fetch_add(rsa ? &sh->served_rsa : &sh->served_ec, 1);
	if (sh->o->rsa_only && !rsa) {
		fprintf(stderr, "tls_load: --rsa-only but the server sent a non-RSA certificate\n");
		atomic_store(&sh->stop, 1);
		return -1;
	}
	return 0;
}

/* One GET / with the SNI as Host; reads until the response head and some body have come (the
 * benchmark origin answers with a short fixed body). */
static int send_request(SSL *ssl, const char *name)
{
	char req[600], resp[4096];
	int n = snprintf(req, sizeof(req),
			 "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", name);

	if (SSL_write(ssl, req, n) != n)
		return -1;
	n = SSL_read(ssl, resp, sizeof(resp) - 1);
	if (n <= 0)
		return -1;
	resp[n] = '\0';
	return strncmp(resp, "HTTP/1.1 2", 10) == 0 ? 0 : -1;
}

/* One handshake to NAME; its latency goes to *LAT_SLOT when that is not NULL. */
static int one_connection(struct shared *sh, const char *name, double *lat_slot)
{
	SSL *ssl = NULL;
	int rc = -1;
	double t0 = now_s();
	int fd = tcp_connect(sh->addr);

	if (fd < 0) {
		report_error(sh, "connect", name);
		return -1;
	}
	ssl = SSL_new(sh->ctx);
	if (!ssl || !SSL_set_tlsext_host_name(ssl, name) || !SSL_set_fd(ssl, fd))
		goto out;
	if (sh->o->rsa_only &&
	    !SSL_set1_sigalgs_list(ssl, "RSA-PSS+SHA256:RSA-PSS+SHA384:RSA+SHA256"))
		goto out;
	if (SSL_connect(ssl) != 1) {
		report_error(sh, "handshake", name);
		goto out;
	}
	if (lat_slot)
		*lat_slot = (now_s() - t0) * 1e6;
	if (sh->o->version && SSL_version(ssl) != sh->o->version) {
		fprintf(stderr, "tls_load: %s negotiated %s\n", name, SSL_get_version(ssl));
		atomic_store(&sh->stop, 1);
		goto out;
	}
	if (check_leaf(sh, ssl))
		goto out;
	if (sh->o->request && send_request(ssl, name)) {
		report_error(sh, "request", name);
		goto out;
	}
	SSL_shutdown(ssl);
	rc = 0;
out:
	SSL_free(ssl);
	close(fd);
	return rc;
}

/* The next name to connect to, or NULL when the run is over; *INDEX: its place in a sweep. */
static const char *next_name(struct worker *w, long *index)
{
	struct shared *sh = w->sh;
	long i;

	*index = -1;
	if (atomic_load(&sh->stop))
		return NULL;
	if (sh->o->sweep) {
		i = atomic_fetch_add(&sh->claimed, 1);
		*index = i;
		return i < (long)sh->n_names ? sh->names[i] : NULL;
	}
	if (sh->o->count > 0 && atomic_fetch_add(&sh->claimed, 1) >= sh->o->count)
		return NULL;
	if (sh->o->count <= 0 && now_s() >= sh->deadline)
		return NULL;
	/* Random SNI: every name is hit, and no cache sees a predictable order. */
	return sh->names[rand_r(&w->seed) % sh->n_names];
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	const char *name;
	long index;

	while ((name = next_name(w, &index))) {
		double *slot = NULL;
		int rc;

		if (sh->lat_us) {
			size_t i = sh->o->pairs ? (size_t)index : atomic_fetch_add(&sh->n_lat, 1);

			slot = i < sh->lat_cap ? &sh->lat_us[i] : NULL;
		}
		rc = one_connection(sh, name, slot);
		if (rc == 0 && sh->o->pairs)
			rc = one_connection(sh, name, &sh->hit_us[index]);
		if (rc == 0)
			atomic_fetch_add(&sh->done, 1);
		else
			atomic_fetch_add(&sh->failed, 1);
	}
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* p50/p99/max of the N values of V, sorted in place ("nearest rank"), as PREFIXp50_us=... */
static void print_percentiles(const char *prefix, double *v, size_t n)
{
	if (!n)
		return;
	qsort(v, n, sizeof(double), by_value);
	printf(" %sp50_us=%.0f %sp99_us=%.0f %smax_us=%.0f", prefix, v[(n - 1) / 2], prefix,
	       v[(n * 99 + 99) / 100 - 1], prefix, v[n - 1]);
}

static void print_latency(struct shared *sh)
{
	size_t n = sh->o->pairs ? sh->n_names : atomic_load(&sh->n_lat);

	n = n < sh->lat_cap ? n : sh->lat_cap;
	if (sh->o->pairs && !atomic_load(&sh->failed)) {
		double *extra = malloc(n * sizeof(double));

		for (size_t i = 0; extra && i < n; i++)
			extra[i] = sh->lat_us[i] - sh->hit_us[i];
		if (extra)
			print_percentiles("extra_", extra, n);
		free(extra);
		print_percentiles("hit_", sh->hit_us, n);
	}
	print_percentiles("", sh->lat_us, n);
}

static int resolve(const struct opts *o, struct addrinfo **out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};

	return getaddrinfo(o->host, o->port, &hints, out) == 0 ? 0 : -1;
}

static void run(struct shared *sh, struct worker *ws, int n)
{
	for (int i = 0; i < n; i++) {
		ws[i].sh = sh;
		ws[i].seed = (unsigned)(time(NULL) ^ (i * 2654435761u));
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i])) {
			fprintf(stderr, "tls_load: cannot start thread %d\n", i);
			exit(1);
		}
	}
	for (int i = 0; i < n; i++)
		pthread_join(ws[i].tid, NULL);
}

int main(int argc, char **argv)
{
	static struct worker ws[MAX_THREADS];
	static struct shared sh;
	struct opts o;
	double t0, dt;

	parse_args(argc, argv, &o);
	sh.o = &o;
	if (load_names(o.names_file, &sh)) {
		fprintf(stderr, "tls_load: no hostnames in %s\n", o.names_file);
		return 1;
	}
	if (resolve(&o, &sh.addr) || !(sh.ctx = make_ctx(&o))) {
		fprintf(stderr, "tls_load: cannot resolve %s or make a TLS context\n", o.host);
		return 1;
	}
	if (o.latency) { /* a timed run has no count: room for a generous rate */
		sh.lat_cap = o.sweep ? sh.n_names : o.count > 0 ? (size_t)o.count : 200000;
		sh.lat_us = calloc(sh.lat_cap, sizeof(double));
		sh.hit_us = o.pairs ? calloc(sh.lat_cap, sizeof(double)) : NULL;
		if (!sh.lat_us || (o.pairs && !sh.hit_us)) {
			fprintf(stderr, "tls_load: out of memory\n");
			return 1;
		}
	}
	t0 = now_s();
	sh.deadline = t0 + o.seconds;
	run(&sh, ws, o.threads);
	dt = now_s() - t0;
	printf("handshakes=%ld failed=%ld seconds=%.3f client_rate=%.0f/s served_ecdsa=%ld "
	       "served_rsa=%ld names=%zu threads=%d",
	       atomic_load(&sh.done), atomic_load(&sh.failed), dt, atomic_load(&sh.done) / dt,
	       atomic_load(&sh.served_ec), atomic_load(&sh.served_rsa), sh.n_names, o.threads);
	print_latency(&sh);
	putchar('\n');
	free(sh.lat_us);
	free(sh.hit_us);
	SSL_CTX_free(sh.ctx);
	freeaddrinfo(sh.addr);
	for (size_t i = 0; i < sh.n_names; i++)
		free(sh.names[i]);
	free(sh.names);
	return atomic_load(&sh.failed) || atomic_load(&sh.stop) ? 1 : 0;
}
