/* Tests of src/acme against the real Pebble ACME server and pebble-challtestsrv (Debian package
 * `pebble`), started by the group setup on loopback ports chosen at run time, in a temporary
 * directory. Pebble rejects half of all nonces (PEBBLE_WFE_NONCEREJECT=50), so every exchange
 * below also exercises the badNonce retry. A small TLS server in this file stands in for the
 * edge's tls-alpn-01 responder and for a CA that offers renewalInfo (Pebble 2.4 does not).
 *
 * Set ACME_TEST_DEBUG=1 to see one log line per exchange. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "acme/acme.h"
#include "acme/acme_int.h" /* the parsers of CA input, tested directly */
#include "lib/error.h"
#include "lib/log.h"

#define START_DEADLINE_MS 15000
#define POLL_DEADLINE_MS  15000
#define POLL_STEP_MS      20

struct fixture {
	char dir[64];
	char cert[128]; /* Pebble's own TLS certificate: also the clients' CA bundle */
	char key[128];
	int dns_port, cts_mgmt_port, http01_port, tls_port;
	int pebble_port, pebble_mgmt_port, eab_port, eab_mgmt_port;
	pid_t cts, pebble, pebble_eab;
	char dir_url[128], eab_dir_url[128];
	char eab_hmac[64];
	EVP_PKEY *account_key;
	struct acme_client *client; /* registered account on the main Pebble */
	unsigned char *issued_der;  /* leaf issued by the dns-01 test, for ARI */
	int issued_len;
};

/* Processes and ports ---------------------------------------------------------------------------*/

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int bind_loopback(int type, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type, 0), got = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		got = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return got;
}

/* A loopback port free for TCP (and for UDP too when BOTH, for the DNS server). */
static int free_port(int both)
{
	for (int i = 0; i < 50; i++) {
		int port = bind_loopback(SOCK_STREAM, 0);

		if (port > 0 && (!both || bind_loopback(SOCK_DGRAM, port) == port))
			return port;
	}
	return -1;
}

static pid_t spawn(const char *log_path, char *const argv[], const char *const env[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		/* a test that crashes must not leave CAs running */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		for (size_t i = 0; env && env[i]; i += 2)
			setenv(env[i], env[i + 1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* Polls until PORT accepts a connection or PID exits or the deadline passes. */
static int wait_listening(pid_t pid, int port, int64_t deadline)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (now_ms() < deadline) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		sleep_ms(POLL_STEP_MS);
	}
	return -1;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(text, f) >= 0;

	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int write_pebble_config(struct fixture *fx, const char *name, int port, int mgmt, int eab)
{
	char path[160], text[1024];

	snprintf(path, sizeof(path), "%s/%s.json", fx->dir, name);
	snprintf(text, sizeof(text),
		 "{\"pebble\": {\"listenAddress\": \"127.0.0.1:%d\", "
		 "\"managementListenAddress\": \"127.0.0.1:%d\", \"certificate\": \"%s\", "
		 "\"privateKey\": \"%s\", \"httpPort\": %d, \"tlsPort\": %d, "
		 "\"ocspResponderURL\": \"\", \"externalAccountBindingRequired\": %s%s%s%s}}\n",
		 port, mgmt, fx->cert, fx->key, fx->http01_port, fx->tls_port,
		 eab ? "true" : "false", eab ? ", \"externalAccountMACKeys\": {\"kid-1\": \"" : "",
		 eab ? fx->eab_hmac : "", eab ? "\"}" : "");
	return write_text(path, text);
}

static pid_t start_pebble(struct fixture *fx, const char *name)
{
	static const char *const env[] = {"PEBBLE_VA_NOSLEEP", "1", "PEBBLE_WFE_NONCEREJECT", "50",
					  NULL};
	char cfg[160], log_path[160], dns[32];
	char *argv[] = {"/usr/bin/pebble", "-config", cfg, "-dnsserver", dns,
			"-strict",         "false",   NULL};

	snprintf(cfg, sizeof(cfg), "%s/%s.json", fx->dir, name);
	snprintf(log_path, sizeof(log_path), "%s/%s.log", fx->dir, name);
	snprintf(dns, sizeof(dns), "127.0.0.1:%d", fx->dns_port);
	return spawn(log_path, argv, env);
}

static pid_t start_challtestsrv(struct fixture *fx)
{
	char dns[32], mgmt[32], http[32], log_path[160];
	char *argv[] = {"/usr/bin/pebble-challtestsrv",
			"-dns01",
			dns,
			"-management",
			mgmt,
			"-http01",
			http,
			"-https01",
			"",
			"-tlsalpn01",
			"",
			"-defaultIPv6",
			"",
			NULL};

	snprintf(dns, sizeof(dns), "127.0.0.1:%d", fx->dns_port);
	snprintf(mgmt, sizeof(mgmt), "127.0.0.1:%d", fx->cts_mgmt_port);
	snprintf(http, sizeof(http), "127.0.0.1:%d", fx->http01_port);
	snprintf(log_path, sizeof(log_path), "%s/challtestsrv.log", fx->dir);
	return spawn(log_path, argv, NULL);
}

static int make_tls_cert(struct fixture *fx)
{
	char cmd[512];

	snprintf(fx->cert, sizeof(fx->cert), "%s/cert.pem", fx->dir);
	snprintf(fx->key, sizeof(fx->key), "%s/key.pem", fx->dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout %s -out %s -days 7 -subj /CN=localhost "
		 "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null",
		 fx->key, fx->cert);
	return system(cmd) == 0 ? 0 : -1;
}

/* 32 random bytes, base64url without padding, as a CA would hand out an EAB MAC key. */
static void make_eab_key(char out[64])
{
	unsigned char raw[32];
	char std[64];

	RAND_bytes(raw, sizeof(raw));
	EVP_EncodeBlock((unsigned char *)std, raw, sizeof(raw));
	for (size_t i = 0, o = 0; std[i]; i++) {
		if (std[i] != '=')
			out[o++] = std[i] == '+' ? '-' : std[i] == '/' ? '_' : std[i];
		out[o] = '\0';
	}
}

static int pick_ports(struct fixture *fx)
{
	int *ports[] = {&fx->cts_mgmt_port, &fx->http01_port,      &fx->tls_port,
			&fx->pebble_port,   &fx->pebble_mgmt_port, &fx->eab_port,
			&fx->eab_mgmt_port};

	fx->dns_port = free_port(1);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		*ports[i] = free_port(0);
		if (*ports[i] < 0)
			return -1;
	}
	return fx->dns_port > 0 ? 0 : -1;
}

static int start_all(struct fixture *fx)
{
	int64_t deadline = now_ms() + START_DEADLINE_MS;

	make_eab_key(fx->eab_hmac);
	if (make_tls_cert(fx) || pick_ports(fx) ||
	    write_pebble_config(fx, "pebble", fx->pebble_port, fx->pebble_mgmt_port, 0) ||
	    write_pebble_config(fx, "pebble-eab", fx->eab_port, fx->eab_mgmt_port, 1))
		return -1;
	fx->cts = start_challtestsrv(fx);
	fx->pebble = start_pebble(fx, "pebble");
	fx->pebble_eab = start_pebble(fx, "pebble-eab");
	snprintf(fx->dir_url, sizeof(fx->dir_url), "https://127.0.0.1:%d/dir", fx->pebble_port);
	snprintf(fx->eab_dir_url, sizeof(fx->eab_dir_url), "https://127.0.0.1:%d/dir",
		 fx->eab_port);
	if (wait_listening(fx->cts, fx->cts_mgmt_port, deadline) ||
	    wait_listening(fx->cts, fx->http01_port, deadline) ||
	    wait_listening(fx->pebble, fx->pebble_port, deadline) ||
	    wait_listening(fx->pebble, fx->pebble_mgmt_port, deadline) ||
	    wait_listening(fx->pebble_eab, fx->eab_port, deadline)) {
		fprintf(stderr,
			"pebble or challtestsrv did not start; rerun with "
			"ACME_TEST_KEEP=1 to keep their logs in %s\n",
			fx->dir);
		return -1;
	}
	return 0;
}

/* Plain HTTP(S) calls the test makes itself (challtestsrv and Pebble management) ----------------*/

struct buf {
	char *data;
	size_t len;
};

static size_t buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	char *grown = realloc(b->data, b->len + n + 1);

	if (!grown)
		return 0;
	memcpy(grown + b->len, data, n);
	b->data = grown;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* GET (BODY NULL) or POST JSON; returns the HTTP status, *out (may be NULL) the body. */
static long http_call(const char *url, const char *body, const char *cafile, char **out)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	struct buf b = {0};
	CURL *h = curl_easy_init();
	long status = -1;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, cafile);
	if (body) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (out)
		*out = b.data;
	else
		free(b.data);
	return status;
}

static void cts_post(struct fixture *fx, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cts_post(struct fixture *fx, const char *path, const char *fmt, ...)
{
	char url[128], body[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", fx->cts_mgmt_port, path);
	assert_int_equal(http_call(url, body, NULL, NULL), 200);
}

/* A tiny TLS server: tls-alpn-01 responder or canned HTTPS answers ------------------------------*/

struct route {
	const char *prefix;
	const char *response; /* a whole HTTP/1.1 response */
};

struct tls_server {
	int fd, port;
	SSL_CTX *ctx;
	pthread_t thread;
	atomic_int stop;
	const struct route *routes;
	size_t n_routes;
	pthread_mutex_t lock;
	int handshakes;
	char last_path[512];
};

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char acme_tls[] = "\x0a"
						"acme-tls/1";

	if (SSL_select_next_proto((unsigned char **)out, outlen, acme_tls, sizeof(acme_tls) - 1, in,
				  inlen) == OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static void serve_http(struct tls_server *s, SSL *ssl)
{
	const char *answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
			     "Connection: close\r\n\r\n";
	char req[4096], path[512] = "";
	size_t n = 0;
	int got;

	while (n < sizeof(req) - 1 &&
	       (got = SSL_read(ssl, req + n, (int)(sizeof(req) - 1 - n))) > 0) {
		n += (size_t)got;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[n] = '\0';
	sscanf(req, "%*s %511s", path);
	for (size_t i = 0; i < s->n_routes; i++) {
		if (strncmp(path, s->routes[i].prefix, strlen(s->routes[i].prefix)) == 0) {
			answer = s->routes[i].response;
			break;
		}
	}
	pthread_mutex_lock(&s->lock);
	snprintf(s->last_path, sizeof(s->last_path), "%s", path);
	pthread_mutex_unlock(&s->lock);
	SSL_write(ssl, answer, (int)strlen(answer));
}

static void *tls_server_run(void *arg)
{
	struct tls_server *s = arg;
	struct timeval tv = {2, 0};

	while (!atomic_load(&s->stop)) {
		struct pollfd pfd = {s->fd, POLLIN, 0};
		int cfd;
		SSL *ssl;

		if (poll(&pfd, 1, 20) <= 0 || (cfd = accept(s->fd, NULL, NULL)) < 0)
			continue;
		setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ssl = SSL_new(s->ctx);
		SSL_set_fd(ssl, cfd);
		if (SSL_accept(ssl) == 1) {
			pthread_mutex_lock(&s->lock);
			s->handshakes++;
			pthread_mutex_unlock(&s->lock);
			if (s->routes)
				serve_http(s, ssl);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(cfd);
	}
	return NULL;
}

/* Starts S on PORT (0: any) with CERT/KEY (borrowed). ROUTES NULL makes it a tls-alpn-01
 * responder that only completes handshakes for ALPN "acme-tls/1". */
static void tls_server_start(struct tls_server *s, int port, X509 *cert, EVP_PKEY *key,
			     const struct route *routes, size_t n_routes)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t len = sizeof(sa);
	int one = 1;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->routes = routes;
	s->n_routes = n_routes;
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, key), 1);
	if (!routes)
		SSL_CTX_set_alpn_select_cb(s->ctx, alpn_select, NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	getsockname(s->fd, (struct sockaddr *)&sa, &len);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, tls_server_run, s), 0);
}

static void tls_server_stop(struct tls_server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
	SSL_CTX_free(s->ctx);
	pthread_mutex_destroy(&s->lock);
}

/* Group fixture ---------------------------------------------------------------------------------*/

static int group_teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	if (!fx)
		return 0;
	acme_client_destroy(fx->client);
	EVP_PKEY_free(fx->account_key);
	OPENSSL_free(fx->issued_der);
	stop(fx->pebble_eab);
	stop(fx->pebble);
	stop(fx->cts);
	if (!getenv("ACME_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", fx->dir);
	}
	free(fx);
	return 0;
}

static int group_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct acme_client_config cfg = {0};
	struct acme_problem p;
	char kid[ACME_URL_MAX];

	*state = fx;
	if (!fx)
		return -1;
	if (getenv("ACME_TEST_DEBUG"))
		log_set_level("debug");
	/* as in saasedge itself: a peer closing a TLS connection must not kill the process */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_acme_pebble.XXXXXX");
	if (!mkdtemp(fx->dir) || start_all(fx) != 0)
		goto fail;
	cfg.directory_url = fx->dir_url;
	cfg.ca_bundle = fx->cert;
	fx->account_key = EVP_EC_gen("P-256");
	if (!fx->account_key || acme_client_create(&cfg, fx->account_key, &fx->client) != 0 ||
	    acme_account_register(fx->client, NULL, kid, sizeof(kid), &p) != 0) {
		fprintf(stderr, "account setup failed: %s\n", p.detail);
		goto fail;
	}
	return 0;
fail:
	group_teardown(state);
	*state = NULL;
	return -1;
}

/* Helpers shared by the tests -------------------------------------------------------------------*/

static struct acme_client *new_client(const char *dir_url, const char *ca_bundle,
				      const char *eab_kid, const char *eab_hmac, EVP_PKEY *key)
{
	struct acme_client_config cfg = {dir_url, ca_bundle, eab_kid, eab_hmac};
	struct acme_client *c = NULL;

	assert_int_equal(acme_client_create(&cfg, key, &c), 0);
	return c;
}

static void expect_ok(int rc, const struct acme_problem *p)
{
	if (rc != 0)
		fail_msg("expected success, got %s: status=%d type=%s detail=%s", se_errname(rc),
			 p->status, p->type, p->detail);
}

static GENERAL_NAMES *dns_names(const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();

	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *gn = GENERAL_NAME_new();
		ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

		assert_int_equal(ASN1_STRING_set(ia5, names[i], -1), 1);
		GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
		assert_true(sk_GENERAL_NAME_push(gens, gn) > 0);
	}
	return gens;
}

/* DER CSR for NAMES signed by KEY; the caller frees *der with OPENSSL_free. */
static int make_csr(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	GENERAL_NAMES *gens = dns_names(names, n);
	int len;

	assert_int_equal(X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, 0), 1);
	assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509_REQ(req, der);
	assert_true(len > 0);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	return len;
}

/* Fetches ORDER until its status is WANT (or it turns invalid, which fails the test). */
static void wait_order(struct acme_client *c, struct acme_order *o, const char *want)
{
	int64_t deadline = now_ms() + POLL_DEADLINE_MS;
	struct acme_problem p;
	char url[ACME_URL_MAX];

	memcpy(url, o->url, sizeof(url));
	while (strcmp(o->status, want) != 0) {
		if (strcmp(o->status, "invalid") == 0 || now_ms() > deadline)
			fail_msg("order %s is %s (%s), expected %s", url, o->status,
				 o->error_detail, want);
		sleep_ms(POLL_STEP_MS);
		expect_ok(acme_order_fetch(c, url, o, &p), &p);
	}
}

/* Fetches AUTHZ until it leaves pending; returns its final state in *a. */
static void wait_authz_done(struct acme_client *c, const char *url, struct acme_authz *a)
{
	int64_t deadline = now_ms() + POLL_DEADLINE_MS;
	struct acme_problem p;

	for (;;) {
		expect_ok(acme_authz_fetch(c, url, a, &p), &p);
		if (strcmp(a->status, "pending") != 0)
			return;
		if (now_ms() > deadline)
			fail_msg("authorization %s still pending", url);
		sleep_ms(POLL_STEP_MS);
	}
}

static const struct acme_challenge *find_challenge(const struct acme_authz *a, const char *type)
{
	for (size_t i = 0; i < a->n_ch; i++) {
		if (strcmp(a->ch[i].type, type) == 0)
			return &a->ch[i];
	}
	return NULL;
}

/* Like find_challenge, but a missing challenge fails the test (never NULL). */
static const struct acme_challenge *need_challenge(const struct acme_authz *a, const char *type)
{
	static const struct acme_challenge none;
	const struct acme_challenge *ch = find_challenge(a, type);

	if (ch)
		return ch;
	fail_msg("no %s challenge for %s", type, a->identifier);
	return &none;
}

/* Publishes what the CA checks for CH: a TXT record or an http-01 body via challtestsrv. */
static void publish(struct fixture *fx, struct acme_client *c, const struct acme_authz *a,
		    const struct acme_challenge *ch)
{
	char value[ACME_KEY_AUTHZ_MAX];

	if (strcmp(ch->type, "dns-01") == 0) {
		assert_int_equal(acme_dns01_txt_value(c, ch->token, value, sizeof(value)), 0);
		cts_post(fx, "/set-txt", "{\"host\":\"_acme-challenge.%s.\",\"value\":\"%s\"}",
			 a->identifier, value);
	} else {
		assert_int_equal(acme_key_authorization(c, ch->token, value, sizeof(value)), 0);
		cts_post(fx, "/add-http01", "{\"token\":\"%s\",\"content\":\"%s\"}", ch->token,
			 value);
	}
}

/* Answers every pending authorization of O with a challenge of TYPE and waits until ready. */
static void validate_order(struct fixture *fx, struct acme_client *c, struct acme_order *o,
			   const char *type)
{
	struct acme_problem p;

	for (size_t i = 0; i < o->n_authz; i++) {
		struct acme_authz a;
		const struct acme_challenge *ch;

		expect_ok(acme_authz_fetch(c, o->authz[i], &a, &p), &p);
		if (strcmp(a.status, "valid") == 0)
			continue; /* reused from an earlier order */
		assert_string_equal(a.status, "pending");
		ch = need_challenge(&a, type);
		if (a.wildcard) /* RFC 8555 §7.1.3: wildcards are dns-01 only */
			assert_null(find_challenge(&a, "http-01"));
		publish(fx, c, &a, ch);
		expect_ok(acme_challenge_accept(c, ch->url, NULL, &p), &p);
	}
	wait_order(c, o, "ready");
}

static STACK_OF(X509) * parse_chain(const char *pem, size_t len)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x;

	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		sk_X509_push(chain, x);
	ERR_clear_error();
	BIO_free(bio);
	return chain;
}

static X509 *fetch_root(struct fixture *fx)
{
	char url[128], *pem = NULL;
	X509 *root = NULL;
	BIO *bio;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/roots/0", fx->pebble_mgmt_port);
	assert_int_equal(http_call(url, NULL, fx->cert, &pem), 200);
	bio = BIO_new_mem_buf(pem, -1);
	root = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(pem);
	assert_non_null(root);
	return root;
}

static void assert_sans(X509 *leaf, const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int count = sk_GENERAL_NAME_num(gens);

	assert_int_equal(count, (int)n);
	for (size_t i = 0; i < n; i++) {
		int found = 0;

		for (int j = 0; j < count; j++) {
			const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, j);
			const ASN1_IA5STRING *s = gn->d.dNSName;

			found |= gn->type == GEN_DNS && (size_t)s->length == strlen(names[i]) &&
				 memcmp(s->data, names[i], strlen(names[i])) == 0;
		}
		if (!found)
			fail_msg("SAN %s missing from the issued certificate", names[i]);
	}
	GENERAL_NAMES_free(gens);
}

/* Verifies PEM (leaf first) up to Pebble's root, checks SANs and key; returns the leaf DER. */
static int verify_chain(struct fixture *fx, const char *pem, size_t len, EVP_PKEY *key,
			const char *const *names, size_t n, unsigned char **leaf_der)
{
	STACK_OF(X509) *chain = parse_chain(pem, len);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *root = fetch_root(fx), *leaf;
	int der_len;

	assert_true(sk_X509_num(chain) >= 2);
	leaf = sk_X509_value(chain, 0);
	assert_int_equal(X509_STORE_add_cert(store, root), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, chain), 1);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("chain does not verify: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	assert_sans(leaf, names, n);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), key), 1);
	*leaf_der = NULL;
	der_len = i2d_X509(leaf, leaf_der);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(root);
	sk_X509_pop_free(chain, X509_free);
	return der_len;
}

/* The whole flow for NAMES with challenge TYPE and certificate key CERT_KEY, one exchange per
 * call as the issuer will drive it. Returns the leaf's DER (caller frees with OPENSSL_free). */
static int issue(struct fixture *fx, const char *const *names, size_t n, const char *type,
		 EVP_PKEY *cert_key, unsigned char **leaf_der)
{
	struct acme_client *c = fx->client;
	struct acme_order o;
	struct acme_problem p;
	unsigned char *csr = NULL;
	char *pem = NULL;
	size_t pem_len;
	int csr_len, der_len;

	expect_ok(acme_order_create(c, names, n, NULL, &o, &p), &p);
	assert_int_equal(o.n_authz, n);
	assert_true(o.expires_us > 0);
	assert_non_null(strstr(o.url, "https://127.0.0.1:"));
	validate_order(fx, c, &o, type);
	csr_len = make_csr(cert_key, names, n, &csr);
	expect_ok(acme_order_finalize(c, o.finalize, csr, (size_t)csr_len, &o, &p), &p);
	wait_order(c, &o, "valid");
	assert_true(o.certificate[0] != '\0');
	expect_ok(acme_certificate_download(c, o.certificate, &pem, &pem_len, &p), &p);
	assert_int_equal(strlen(pem), pem_len);
	der_len = verify_chain(fx, pem, pem_len, cert_key, names, n, leaf_der);
	free(pem);
	OPENSSL_free(csr);
	return der_len;
}

/* 1. directory and account ----------------------------------------------------------------------*/

static void test_directory_and_account(void **state)
{
	struct fixture *fx = *state;
	struct acme_client *c = new_client(fx->dir_url, fx->cert, NULL, NULL, fx->account_key);
	EVP_PKEY *other_key = EVP_EC_gen("P-256");
	struct acme_client *other = new_client(fx->dir_url, fx->cert, NULL, NULL, other_key);
	char kid[ACME_URL_MAX], again[ACME_URL_MAX], setup_kid[ACME_URL_MAX],
	    other_kid[ACME_URL_MAX];
	struct acme_problem p;

	expect_ok(acme_directory_load(c, &p), &p);
	assert_int_equal(acme_directory_eab_required(c, &p), 0);
	/* the group setup registered this key already: the same account comes back */
	expect_ok(acme_account_register(c, NULL, kid, sizeof(kid), &p), &p);
	assert_int_equal(acme_client_get_kid(fx->client, setup_kid, sizeof(setup_kid)), 0);
	assert_string_equal(kid, setup_kid);
	expect_ok(acme_account_register(c, NULL, again, sizeof(again), &p), &p);
	assert_string_equal(again, kid);
	assert_non_null(strstr(kid, "https://127.0.0.1:"));
	/* another key is another account; a contact address is accepted */
	expect_ok(
	    acme_account_register(other, "ops@customer-a.com", other_kid, sizeof(other_kid), &p),
	    &p);
	assert_string_not_equal(other_kid, kid);
	acme_client_destroy(other);
	acme_client_destroy(c);
	EVP_PKEY_free(other_key);
}

static void test_client_rejects_bad_config(void **state)
{
	struct fixture *fx = *state;
	struct acme_client_config cfg = {fx->dir_url, fx->cert, "kid-1", NULL};
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	struct acme_client *c = NULL;

	/* ES256 only: an RSA account key is refused up front, not at the first request */
	cfg.eab_kid = NULL;
	assert_int_equal(acme_client_create(&cfg, rsa, &c), SE_EINVAL);
	assert_null(c);
	/* half an EAB, or a MAC key that is not base64url */
	cfg.eab_kid = "kid-1";
	assert_int_equal(acme_client_create(&cfg, fx->account_key, &c), SE_ECONFIG);
	cfg.eab_hmac = "not base64!";
	assert_int_equal(acme_client_create(&cfg, fx->account_key, &c), SE_ECONFIG);
	assert_null(c);
	EVP_PKEY_free(rsa);
}

/* 2. dns-01, two names, one a wildcard ----------------------------------------------------------*/

static void test_order_dns01_wildcard(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = {"app.customer-a.com", "*.customer-a.com"};
	EVP_PKEY *key = EVP_EC_gen("P-256");

	fx->issued_len = issue(fx, names, 2, "dns-01", key, &fx->issued_der);
	assert_true(fx->issued_len > 0);
	EVP_PKEY_free(key);
}

/* 3. http-01 with an RSA-2048 certificate key ---------------------------------------------------*/

static void test_order_http01_rsa(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = {"web.customer-b.com"};
	EVP_PKEY *key = EVP_RSA_gen(2048);
	unsigned char *der = NULL;

	assert_true(issue(fx, names, 1, "http-01", key, &der) > 0);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

/* 4. badNonce (every exchange here runs with half of all nonces rejected) -----------------------*/

struct order_job {
	struct acme_client *c;
	char name[64];
	int rc;
	struct acme_problem p;
};

static void *create_order(void *arg)
{
	struct order_job *job = arg;
	const char *names[] = {job->name};
	struct acme_order o;

	job->rc = acme_order_create(job->c, names, 1, NULL, &o, &job->p);
	if (job->rc == 0)
		job->rc = acme_authz_fetch(job->c, o.authz[0], &(struct acme_authz){0}, &job->p);
	return NULL;
}

static void test_badnonce_and_threads(void **state)
{
	struct fixture *fx = *state;
	struct order_job jobs[6];
	pthread_t threads[6];
	unsigned long retries;

	/* one client shared by several threads, as the issuer's workers share it */
	for (int i = 0; i < 6; i++) {
		jobs[i].c = fx->client;
		snprintf(jobs[i].name, sizeof(jobs[i].name), "t%d.customer-t.com", i);
		assert_int_equal(pthread_create(&threads[i], NULL, create_order, &jobs[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(threads[i], NULL);
		expect_ok(jobs[i].rc, &jobs[i].p);
	}
	retries = acme_client_badnonce_retries(fx->client);
	print_message("badNonce rejections retried so far: %lu\n", retries);
	assert_true(retries > 0);
}

/* 5. problem documents --------------------------------------------------------------------------*/

static void test_problem_order_not_ready(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = {"early.customer-c.com"};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	struct acme_order o, after;
	struct acme_problem p;
	unsigned char *csr = NULL;
	int csr_len = make_csr(key, names, 1, &csr);

	expect_ok(acme_order_create(fx->client, names, 1, NULL, &o, &p), &p);
	assert_string_equal(o.status, "pending");
	after = o;
	assert_int_equal(
	    acme_order_finalize(fx->client, o.finalize, csr, (size_t)csr_len, &after, &p), SE_EIO);
	assert_int_equal(p.status, 403);
	assert_true(acme_problem_is(&p, "orderNotReady"));
	assert_non_null(strstr(p.type, "orderNotReady"));
	assert_true(p.detail[0] != '\0');
	OPENSSL_free(csr);
	EVP_PKEY_free(key);
}

static void test_problem_failed_challenge(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = {"nodns.customer-c.com"};
	struct acme_order o;
	struct acme_authz a;
	struct acme_problem p;
	const struct acme_challenge *ch;

	expect_ok(acme_order_create(fx->client, names, 1, NULL, &o, &p), &p);
	expect_ok(acme_authz_fetch(fx->client, o.authz[0], &a, &p), &p);
	ch = need_challenge(&a, "dns-01");
	/* no TXT record published: the CA must fail the challenge */
	expect_ok(acme_challenge_accept(fx->client, ch->url, NULL, &p), &p);
	wait_authz_done(fx->client, o.authz[0], &a);
	assert_string_equal(a.status, "invalid");
	ch = need_challenge(&a, "dns-01");
	assert_string_equal(ch->status, "invalid");
	assert_non_null(strstr(ch->error_type, ACME_ERROR_PREFIX));
	assert_true(ch->error_detail[0] != '\0');
	print_message("failed challenge: %s: %s\n", ch->error_type, ch->error_detail);
	expect_ok(acme_order_fetch(fx->client, o.url, &o, &p), &p);
	assert_string_equal(o.status, "invalid");
}

static void test_problem_not_found_and_network(void **state)
{
	struct fixture *fx = *state;
	struct acme_client *c;
	struct acme_order o;
	struct acme_problem p;
	char url[160];
	int closed = free_port(0);

	/* an order URL the CA does not know: a 404 problem, not a crash or a parse error */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/my-order/no-such-order", fx->pebble_port);
	assert_int_equal(acme_order_fetch(fx->client, url, &o, &p), SE_EIO);
	assert_int_equal(p.status, 404);
	assert_true(p.detail[0] != '\0');
	/* nobody listening: status 0 and the host in the message */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/dir", closed);
	c = new_client(url, fx->cert, NULL, NULL, fx->account_key);
	assert_int_equal(acme_directory_load(c, &p), SE_EIO);
	assert_int_equal(p.status, 0);
	snprintf(url, sizeof(url), "connecting to 127.0.0.1:%d: ", closed);
	assert_non_null(strstr(p.detail, url));
	acme_client_destroy(c);
	/* TLS verification is on: without Pebble's certificate as trust anchor it fails */
	c = new_client(fx->dir_url, NULL, NULL, NULL, fx->account_key);
	assert_int_equal(acme_directory_load(c, &p), SE_EIO);
	assert_int_equal(p.status, 0);
	print_message("untrusted CA: %s\n", p.detail);
	acme_client_destroy(c);
}

/* 6. external account binding -------------------------------------------------------------------*/

static void test_eab(void **state)
{
	struct fixture *fx = *state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	struct acme_client *c = new_client(fx->eab_dir_url, fx->cert, NULL, NULL, key);
	char kid[ACME_URL_MAX], wrong[64];
	struct acme_problem p;

	assert_int_equal(acme_directory_eab_required(c, &p), 1);
	assert_int_equal(acme_account_register(c, NULL, kid, sizeof(kid), &p), SE_EIO);
	assert_true(acme_problem_is(&p, "externalAccountRequired"));
	assert_true(p.status >= 400 && p.status < 500);
	acme_client_destroy(c);
	/* a MAC key that is not the CA's */
	make_eab_key(wrong);
	c = new_client(fx->eab_dir_url, fx->cert, "kid-1", wrong, key);
	assert_int_equal(acme_account_register(c, NULL, kid, sizeof(kid), &p), SE_EIO);
	assert_true(p.status >= 400 && p.status < 500);
	print_message("wrong EAB key: %s\n", p.detail);
	acme_client_destroy(c);
	c = new_client(fx->eab_dir_url, fx->cert, "kid-1", fx->eab_hmac, key);
	expect_ok(acme_account_register(c, NULL, kid, sizeof(kid), &p), &p);
	assert_non_null(strstr(kid, "https://127.0.0.1:"));
	acme_client_destroy(c);
	EVP_PKEY_free(key);
}

/* 7. ARI ----------------------------------------------------------------------------------------*/

static void test_ari_pebble_has_none(void **state)
{
	struct fixture *fx = *state;
	struct acme_renewal_window w;
	struct acme_problem p;
	struct acme_order o;
	char id[200];

	assert_non_null(fx->issued_der);
	assert_int_equal(acme_ari_cert_id(fx->issued_der, (size_t)fx->issued_len, id, sizeof(id)),
			 0);
	assert_non_null(strchr(id, '.'));
	/* Pebble 2.4's directory has no renewalInfo */
	assert_int_equal(
	    acme_renewal_info(fx->client, fx->issued_der, (size_t)fx->issued_len, &w, &p),
	    SE_ENOTFOUND);
	assert_int_equal(p.status, 0);
	/* so a renewal order's "replaces" is left out rather than sent to a CA without ARI */
	expect_ok(acme_order_create(fx->client, (const char *const[]){"app.customer-a.com"}, 1, id,
				    &o, &p),
		  &p);
}

/* The certificate of RFC 9773 §4.1's example: AKI keyIdentifier 69:88:5B:…:D4, serial
 * 00:87:65:43:21. */
static int rfc9773_example_cert(EVP_PKEY *key, unsigned char **der)
{
	static const unsigned char keyid[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40,
					      0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0,
					      0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	X509 *x = X509_new();
	BIGNUM *serial = NULL;
	int len;

	akid->keyid = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(akid->keyid, keyid, sizeof(keyid));
	assert_true(BN_hex2bn(&serial, "87654321") > 0);
	BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x));
	X509_set_version(x, X509_VERSION_3);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	assert_int_equal(X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509(x, der);
	BN_free(serial);
	AUTHORITY_KEYID_free(akid);
	X509_free(x);
	return len;
}

#define WINDOW_JSON                                                                                \
	"{\"suggestedWindow\":{\"start\":\"2031-01-02T04:00:00Z\","                                \
	"\"end\":\"2031-01-03T04:00:00.5+01:00\"},\"explanationURL\":\"https://x\"}"

/* A CA that offers renewalInfo, played by the tiny TLS server with canned answers: its
 * directory points renewalInfo at ARI_PATH; "/ari/busy" answers a rateLimited problem with an
 * HTTP-date Retry-After two minutes ahead, the rest of "/ari/" a window. */
struct fake_ca {
	struct tls_server s;
	X509 *cert;
	EVP_PKEY *key;
	char dir[512], window[512], busy[512], url[128];
	struct route routes[3];
};

static void fake_ca_start(struct fixture *fx, struct fake_ca *ca, const char *ari_path)
{
	char date[64];
	time_t t = time(NULL) + 120;
	struct tm tm;
	FILE *f;

	f = fopen(fx->cert, "r");
	ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(fx->key, "r");
	ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(ca->window, sizeof(ca->window),
		 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nRetry-After: 21600\r\n"
		 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(WINDOW_JSON), WINDOW_JSON);
	snprintf(ca->busy, sizeof(ca->busy),
		 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
		 "Retry-After: %s\r\nConnection: close\r\n\r\n{\"type\":\"urn:ietf:params:acme:"
		 "error:rateLimited\",\"detail\":\"slow down\",\"status\":503}",
		 date);
	ca->routes[0] = (struct route){"/dir", ca->dir};
	ca->routes[1] = (struct route){"/ari/busy", ca->busy};
	ca->routes[2] = (struct route){"/ari/", ca->window};
	tls_server_start(&ca->s, 0, ca->cert, ca->key, ca->routes, 3);
	/* written before the first request: the server thread only reads it on demand */
	snprintf(
	    ca->dir, sizeof(ca->dir),
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
	    "{\"newNonce\":\"https://127.0.0.1:%d/n\",\"newAccount\":\"https://127.0.0.1:%d/a\","
	    "\"newOrder\":\"https://127.0.0.1:%d/o\",\"renewalInfo\":\"https://127.0.0.1:%d%s\"}",
	    ca->s.port, ca->s.port, ca->s.port, ca->s.port, ari_path);
	snprintf(ca->url, sizeof(ca->url), "https://127.0.0.1:%d/dir", ca->s.port);
}

static void fake_ca_stop(struct fake_ca *ca)
{
	tls_server_stop(&ca->s);
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
}

static void test_ari_window_from_fake_ca(void **state)
{
	struct fixture *fx = *state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	unsigned char *der = NULL;
	int len = rfc9773_example_cert(key, &der);
	struct acme_renewal_window w;
	struct acme_client *c;
	struct acme_problem p;
	struct fake_ca ca;
	char id[200], expect[256];

	assert_int_equal(acme_ari_cert_id(der, (size_t)len, id, sizeof(id)), 0);
	assert_string_equal(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	fake_ca_start(fx, &ca, "/ari");
	c = new_client(ca.url, fx->cert, NULL, NULL, fx->account_key);
	expect_ok(acme_renewal_info(c, der, (size_t)len, &w, &p), &p);
	pthread_mutex_lock(&ca.s.lock);
	snprintf(expect, sizeof(expect), "/ari/%s", id);
	assert_string_equal(ca.s.last_path, expect);
	pthread_mutex_unlock(&ca.s.lock);
	assert_int_equal(w.start_us, (int64_t)1925092800 * 1000000);
	assert_int_equal(w.end_us, (int64_t)(1925092800 + 86400 - 3600) * 1000000 + 500000);
	assert_int_equal(w.retry_after_s, 21600);
	assert_string_equal(w.explanation_url, "https://x");
	acme_client_destroy(c);
	fake_ca_stop(&ca);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

static void test_ari_problem_with_http_date(void **state)
{
	struct fixture *fx = *state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	unsigned char *der = NULL;
	int len = rfc9773_example_cert(key, &der);
	struct acme_renewal_window w;
	struct acme_client *c;
	struct acme_problem p;
	struct fake_ca ca;

	fake_ca_start(fx, &ca, "/ari/busy/");
	c = new_client(ca.url, fx->cert, NULL, NULL, fx->account_key);
	assert_int_equal(acme_renewal_info(c, der, (size_t)len, &w, &p), SE_EIO);
	assert_int_equal(p.status, 503);
	assert_true(acme_problem_is(&p, "rateLimited"));
	assert_string_equal(p.detail, "slow down");
	assert_in_range(p.retry_after_s, 115, 120);
	acme_client_destroy(c);
	fake_ca_stop(&ca);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

/* 8. tls-alpn-01 --------------------------------------------------------------------------------*/

static void test_tls_alpn01_certificate_shape(void **state)
{
	static const char keyauth[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.thumb";
	static const char name[] = "alpn.customer-d.com";
	EVP_PKEY *key = EVP_EC_gen("P-256");
	unsigned char digest[32], want[34] = {0x04, 0x20};
	const ASN1_OCTET_STRING *value;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	X509_EXTENSION *ext;
	X509 *x = NULL;
	int idx;

	assert_int_equal(acme_tls_alpn01_certificate(name, keyauth, key, &x), 0);
	assert_int_equal(X509_verify(x, key), 1);
	assert_sans(x, (const char *const[]){name}, 1);
	idx = X509_get_ext_by_OBJ(x, oid, -1);
	assert_true(idx >= 0);
	ext = X509_get_ext(x, idx);
	assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
	value = X509_EXTENSION_get_data(ext);
	SHA256((const unsigned char *)keyauth, strlen(keyauth), digest);
	memcpy(want + 2, digest, sizeof(digest));
	assert_int_equal(ASN1_STRING_length(value), sizeof(want));
	assert_memory_equal(ASN1_STRING_get0_data(value), want, sizeof(want));
	assert_int_equal(X509_cmp_time(X509_get0_notAfter(x), NULL), 1);
	assert_int_equal(X509_cmp_time(X509_get0_notBefore(x), NULL), -1);
	ASN1_OBJECT_free(oid);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* Pebble itself validates a tls-alpn-01 challenge against the builder's certificate. */
static void test_tls_alpn01_validated_by_pebble(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = {"alpn.customer-d.com"};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char keyauth[ACME_KEY_AUTHZ_MAX];
	const struct acme_challenge *ch;
	struct acme_challenge accepted;
	struct acme_order o;
	struct acme_authz a;
	struct acme_problem p;
	struct tls_server s;
	X509 *cert = NULL;

	expect_ok(acme_order_create(fx->client, names, 1, NULL, &o, &p), &p);
	expect_ok(acme_authz_fetch(fx->client, o.authz[0], &a, &p), &p);
	assert_string_equal(a.identifier, names[0]);
	assert_int_equal(a.wildcard, 0);
	ch = need_challenge(&a, "tls-alpn-01");
	assert_int_equal(acme_key_authorization(fx->client, ch->token, keyauth, sizeof(keyauth)),
			 0);
	assert_int_equal(acme_tls_alpn01_certificate(names[0], keyauth, key, &cert), 0);
	tls_server_start(&s, fx->tls_port, cert, key, NULL, 0);
	expect_ok(acme_challenge_accept(fx->client, ch->url, &accepted, &p), &p);
	assert_string_equal(accepted.type, "tls-alpn-01");
	wait_authz_done(fx->client, o.authz[0], &a);
	tls_server_stop(&s);
	if (strcmp(a.status, "valid") != 0)
		fail_msg("tls-alpn-01 authorization is %s: %s", a.status,
			 need_challenge(&a, "tls-alpn-01")->error_detail);
	assert_true(s.handshakes >= 1);
	wait_order(fx->client, &o, "ready");
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void test_authz_deactivate(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = {"gone.customer-e.com"};
	struct acme_order o;
	struct acme_authz a;
	struct acme_problem p;

	expect_ok(acme_order_create(fx->client, names, 1, NULL, &o, &p), &p);
	expect_ok(acme_authz_deactivate(fx->client, o.authz[0], &p), &p);
	expect_ok(acme_authz_fetch(fx->client, o.authz[0], &a, &p), &p);
	assert_string_equal(a.status, "deactivated");
}

static void test_dns01_value_matches_rfc(void **state)
{
	struct fixture *fx = *state;
	char thumb[ACME_THUMBPRINT_MAX], keyauth[ACME_KEY_AUTHZ_MAX], txt[ACME_DNS01_VALUE_MAX];
	unsigned char digest[32];
	char expect[64];

	assert_int_equal(acme_account_thumbprint(fx->client, thumb, sizeof(thumb)), 0);
	assert_int_equal(strlen(thumb), 43);
	assert_int_equal(acme_key_authorization(fx->client, "tok-EN_1", keyauth, sizeof(keyauth)),
			 0);
	snprintf(expect, sizeof(expect), "tok-EN_1.%s", thumb);
	assert_string_equal(keyauth, expect);
	assert_int_equal(acme_dns01_txt_value(fx->client, "tok-EN_1", txt, sizeof(txt)), 0);
	assert_int_equal(strlen(txt), 43);
	SHA256((const unsigned char *)keyauth, strlen(keyauth), digest);
	/* spot-check against OpenSSL's own base64 of the digest */
	EVP_EncodeBlock((unsigned char *)expect, digest, sizeof(digest));
	for (char *q = expect; *q; q++)
		*q = *q == '+' ? '-' : *q == '/' ? '_' : *q;
	expect[43] = '\0';
	assert_string_equal(txt, expect);
	/* a token that could escape a URL path or a file name is refused */
	assert_int_equal(acme_key_authorization(fx->client, "../x", keyauth, sizeof(keyauth)),
			 SE_EINVAL);
}

/* Parsers of CA input: dates, Retry-After and base64url -----------------------------------------*/

static void test_parsers(void **state)
{
	unsigned char *bin = NULL;
	int64_t us, secs;
	size_t n;
	char text[16];

	assert_int_equal(acme__parse_rfc3339("2031-01-02T04:00:00Z", &us), 0);
	assert_int_equal(us, (int64_t)1925092800 * 1000000);
	assert_int_equal(acme__parse_rfc3339("2031-01-02T05:30:00.25+01:30", &us), 0);
	assert_int_equal(us, (int64_t)1925092800 * 1000000 + 250000);
	assert_int_equal(acme__parse_rfc3339("2031-01-02t04:00:00.1234567z", &us), 0);
	assert_int_equal(us, (int64_t)1925092800 * 1000000 + 123456);
	assert_int_equal(acme__parse_rfc3339("2031-01-02T04:00:00", &us), SE_EINVAL);
	assert_int_equal(acme__parse_rfc3339("2031-13-02T04:00:00Z", &us), SE_EINVAL);
	assert_int_equal(acme__parse_rfc3339("2031-01-02T04:00:00Zjunk", &us), SE_EINVAL);
	assert_int_equal(acme__parse_rfc3339("", &us), SE_EINVAL);

	assert_int_equal(acme__parse_retry_after("120", 0, &secs), 0);
	assert_int_equal(secs, 120);
	assert_int_equal(
	    acme__parse_retry_after("Thu, 02 Jan 2031 04:00:30 GMT", 1925092800, &secs), 0);
	assert_int_equal(secs, 30);
	/* a date in the past means now, an absurd delay is capped */
	assert_int_equal(
	    acme__parse_retry_after("Thu, 02 Jan 2031 04:00:30 GMT", 1925099999, &secs), 0);
	assert_int_equal(secs, 0);
	assert_int_equal(acme__parse_retry_after("99999999999999", 0, &secs), 0);
	assert_int_equal(secs, 366LL * 86400);
	assert_int_equal(acme__parse_retry_after("-5", 0, &secs), SE_EINVAL);
	assert_int_equal(acme__parse_retry_after("soon", 0, &secs), SE_EINVAL);
	assert_int_equal(acme__parse_retry_after("12x", 0, &secs), SE_EINVAL);

	assert_int_equal(acme__b64url_encode("", 0, text, sizeof(text)), 0);
	assert_int_equal(acme__b64url_encode("\xfb\xff", 2, text, sizeof(text)), 3);
	assert_string_equal(text, "-_8");
	assert_int_equal(acme__b64url_encode("abcdefghijkl", 12, text, sizeof(text)), SE_ETOOBIG);
	/* either alphabet, padding or not */
	assert_int_equal(acme__b64url_decode("-_8", &bin, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(bin, "\xfb\xff", 2);
	free(bin);
	assert_int_equal(acme__b64url_decode("+/8=", &bin, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(bin, "\xfb\xff", 2);
	free(bin);
	assert_int_equal(acme__b64url_decode("a", &bin, &n), SE_EINVAL);
	assert_int_equal(acme__b64url_decode("ab!c", &bin, &n), SE_EINVAL);
	assert_int_equal(acme__b64url_valid("abc-_"), 1);
	assert_int_equal(acme__b64url_valid("ab/c"), 0);
	assert_int_equal(acme__b64url_valid(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parsers),
	    cmocka_unit_test(test_directory_and_account),
	    cmocka_unit_test(test_client_rejects_bad_config),
	    cmocka_unit_test(test_dns01_value_matches_rfc),
	    cmocka_unit_test(test_order_dns01_wildcard),
	    cmocka_unit_test(test_order_http01_rsa),
	    cmocka_unit_test(test_problem_order_not_ready),
	    cmocka_unit_test(test_problem_failed_challenge),
	    cmocka_unit_test(test_problem_not_found_and_network),
	    cmocka_unit_test(test_eab),
	    cmocka_unit_test(test_ari_pebble_has_none),
	    cmocka_unit_test(test_ari_window_from_fake_ca),
	    cmocka_unit_test(test_ari_problem_with_http_date),
	    cmocka_unit_test(test_tls_alpn01_certificate_shape),
	    cmocka_unit_test(test_tls_alpn01_validated_by_pebble),
	    cmocka_unit_test(test_authz_deactivate),
	    cmocka_unit_test(test_badnonce_and_threads),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
