/* tls_floor: the least a TLS server can spend on a full handshake with OpenSSL, the floor the
 * edge benchmark prints beside saasedge, nginx and HAProxy. One thread, blocking sockets, one
 * SSL_CTX made at start with one ECDSA and one RSA certificate (OpenSSL picks by the client's
 * signature algorithms), SNI ignored, no session tickets, no session cache. Per connection: the
 * handshake, then an HTTP/1.1 answer to a request if one comes (tls_load --request), close_notify
 * back when the client's arrives, close. Nothing else: no logging, no timeouts (a client that
 * stalls stalls it; the benchmark's clients do not).
 *
 * Usage: tls_floor --listen HOST:PORT --ec CERT KEY --rsa CERT KEY */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char answer[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";

__attribute__((noreturn)) static void usage(void)
{
	fputs("usage: tls_floor --listen HOST:PORT --ec CERT KEY --rsa CERT KEY\n", stderr);
	exit(2);
}

static int listen_on(char *hostport)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *ai = NULL;
	char *colon = strrchr(hostport, ':');
	int fd = -1, one = 1;

	if (!colon)
		return -1;
	*colon = '\0';
	if (getaddrinfo(hostport, colon + 1, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
			bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int add_pair(SSL_CTX *ctx, const char *cert, const char *key)
{
	return SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 &&
	       SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 &&
	       SSL_CTX_check_private_key(ctx) == 1;
}

static SSL_CTX *make_ctx(char **pairs)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (!add_pair(ctx, pairs[0], pairs[1]) || !add_pair(ctx, pairs[2], pairs[3])) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void serve(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);
	char buf[4096];
	int n, one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ssl && SSL_set_fd(ssl, fd) && SSL_accept(ssl) == 1) {
		while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
			if (SSL_write(ssl, answer, sizeof(answer) - 1) <= 0)
				break;
		}
		if (SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN)
			SSL_shutdown(ssl);
	}
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
}

int main(int argc, char **argv)
{
	char *listen_addr = NULL, *pairs[4] = {0};
	SSL_CTX *ctx;
	int lfd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen_addr = argv[++i];
		else if (!strcmp(argv[i], "--ec") && i + 2 < argc)
			pairs[0] = argv[++i], pairs[1] = argv[++i];
		else if (!strcmp(argv[i], "--rsa") && i + 2 < argc)
			pairs[2] = argv[++i], pairs[3] = argv[++i];
		else
			usage();
	}
	if (!listen_addr || !pairs[0] || !pairs[2])
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (!(ctx = make_ctx(pairs))) {
		fprintf(stderr, "tls_floor: cannot load the certificates\n");
		return 1;
	}
	if ((lfd = listen_on(listen_addr)) < 0) {
		fprintf(stderr, "tls_floor: cannot listen on %s\n", listen_addr);
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd >= 0)
			serve(ctx, fd);
	}
}
