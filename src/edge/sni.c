/* Certificate selection in the ClientHello callback: read SNI, find the name's entry in the
 * cache (or hand the name to a lookup thread and retry the callback once it is back), pick the
 * ECDSA certificate when the client's suites and signature algorithms allow it and RSA
 * otherwise, set the pre-parsed certificate, chain and key (a few µs), and apply the name's
 * TLS settings. */
#include "edge/conn_int.h"

#include "edge/client_hello.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "metrics/metrics.h"

/* The SNI into OUT (see client_hello_parse_sni): a name that is not a hostname is refused here,
 * before it can become a Host header, a log value or a store lookup. */
static enum client_hello_sni read_sni(SSL *ssl, char *out, size_t len)
{
	const unsigned char *p = NULL;
	size_t n = 0;

	if (!SSL_client_hello_get0_ext(ssl, CLIENT_HELLO_EXT_SERVER_NAME, &p, &n))
		p = NULL;
	return client_hello_parse_sni(p, n, out, len);
}

/* ECDSA when both the client's suites and its signature algorithms allow it: a client that
 * offers only RSA-authenticated suites gets the RSA certificate even if it lists ECDSA
 * signatures, or no suite would be left to agree on. */
static int client_takes_ecdsa(SSL *ssl)
{
	const unsigned char *p = NULL;
	size_t n = 0;

	n = SSL_client_hello_get0_ciphers(ssl, &p);
	if (!client_hello_suites_ecdsa(p, n))
		return 0;
	p = NULL;
	if (!SSL_client_hello_get0_ext(ssl, CLIENT_HELLO_EXT_SIGALGS, &p, &n))
		p = NULL;
	return client_hello_sigalgs_ecdsa(p, n);
}

static int apply_settings(SSL *ssl, const struct edge_entry *e)
{
	if (e->min_version > TLS1_2_VERSION && !SSL_set_min_proto_version(ssl, e->min_version))
		return -1;
	if (e->no_tls13)
		SSL_set_options(ssl, SSL_OP_NO_TLSv1_3);
	if (e->ciphers && !SSL_set_cipher_list(ssl, e->ciphers))
		ERR_clear_error(); /* an unknown list keeps the defaults rather than failing */
	return 0;
}

static int use_default(SSL *ssl, struct edge_conn *c, int *al)
{
	struct edge *edge = c->loop->edge;

	if (!edge->default_leaf) {
		c->name_refused = 1;
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	c->cert_kind = MC_DEFAULT;
	if (!SSL_use_cert_and_key(ssl, edge->default_leaf, edge->default_key, edge->default_chain,
				  1)) {
		ERR_clear_error();
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

static int serve_entry(SSL *ssl, struct edge_conn *c, struct edge_entry *e, int slot, int *al)
{
	if (apply_settings(ssl, e) != 0 ||
	    !SSL_use_cert_and_key(ssl, e->leaf[slot], e->key[slot], e->chain[slot], 1)) {
		ERR_clear_error();
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	c->cert_kind = slot == ENTRY_EC ? MC_ECDSA : MC_RSA;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* The entry for the SNI: the lookup's answer when one just came back (cached or not), else
 * the cache's; NULL on a miss. A reference for the caller. */
static struct edge_entry *find_entry(struct edge *edge, struct edge_conn *c)
{
	struct edge_entry *e = c->looked_up;

	c->looked_up = NULL;
	if (e && strcmp(e->name, c->sni) == 0)
		return e;
	edge_entry_unref(e);
	e = cert_cache_get(edge->cache, c->sni);
	/* once per handshake: a lookup that came back empty (it raced with a change) sends the
	 * callback round again, and that is the same client waiting */
	if (c->cert_tries == 0)
		metrics_count(M_EDGE_CACHE_LOOKUPS, e ? ML_HIT : ML_MISS, 0);
	return e;
}

static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct edge *edge = arg;
	struct edge_conn *c = SSL_get_app_data(ssl);
	struct edge_entry *e;
	int takes_ecdsa, slot;

	switch (read_sni(ssl, c->sni, sizeof(c->sni))) {
	case CLIENT_HELLO_SNI_OK:
		break;
	case CLIENT_HELLO_SNI_ABSENT:
		return use_default(ssl, c, al);
	case CLIENT_HELLO_SNI_INVALID:
		c->name_refused = 1;
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (c->acme_alpn || acme_alpn_offered(ssl))
		return acme_alpn_client_hello(ssl, c, al);
	takes_ecdsa = client_takes_ecdsa(ssl);
	c->sni_need = takes_ecdsa ? ENTRY_NEED_ECDSA_CLIENT : ENTRY_NEED_RSA_CLIENT;
	e = find_entry(edge, c);
	if (!e)
		return SSL_CLIENT_HELLO_RETRY; /* conn.c sends the name to a lookup thread */
	if (!edge_entry_servable(e)) {
		edge_entry_unref(e);
		return use_default(ssl, c, al);
	}
	slot = edge_entry_pick(e, takes_ecdsa);
	if (!e->leaf[slot]) { /* cached, but that certificate is not decoded yet */
		edge_entry_unref(e);
		return SSL_CLIENT_HELLO_RETRY;
	}
	edge_entry_unref(c->entry);
	c->entry = e; /* the connection keeps the entry (origin, settings) */
	return serve_entry(ssl, c, e, slot, al);
}

/* ALPN: h2 first when edge.http2 is on and the name's ssl.settings.http2 is not "off" (its
 * entry was chosen by the ClientHello callback, which runs before this one), then http/1.1;
 * without a match no protocol is selected and the client falls back to HTTP/1.1. */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h1[] = "\x08http/1.1", both[] = "\x02h2\x08http/1.1";
	struct edge_conn *c = SSL_get_app_data(ssl);
	int h2 = c->loop->edge->cfg->edge.http2 && !(c->entry && c->entry->no_http2);
	unsigned char *sel = NULL;
	unsigned char sel_len = 0;

	if (c->acme_alpn)
		return acme_alpn_select(out, outlen, in, inlen);
	if (SSL_select_next_proto(&sel, &sel_len, h2 ? both : h1,
				  h2 ? sizeof(both) - 1 : sizeof(h1) - 1, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	*outlen = sel_len;
	return SSL_TLSEXT_ERR_OK;
}

int edge_tls_ctx_create(struct edge *e, SSL_CTX **out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	*out = NULL;
	if (!ctx)
		return SE_ECRYPTO;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* TLS 1.3 suites in the order browsers offer them, AES-128-GCM first, as Cloudflare's and
	 * Go's servers prefer too; OpenSSL's default puts AES-256-GCM-SHA384 first, and clients
	 * that keep that order (curl, Python) would cost 3.4 % more per handshake: on a CPU
	 * without SHA extensions the SHA-384 key schedule is the dearer one. */
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
				      "TLS_CHACHA20_POLY1305_SHA256");
	/* TLS 1.2: forward-secret AEAD suites only (tls_policy.c); OpenSSL's default would offer
	 * CBC and RSA key transport too. */
	if (!SSL_CTX_set_cipher_list(ctx, edge_tls12_cipher_list)) {
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return SE_ECRYPTO;
	}
	/* Without read-ahead OpenSSL reads a record's 5-byte header and then its body: two reads
	 * per record. Every path reads until SSL_read/SSL_do_handshake wants more, so bytes
	 * buffered inside OpenSSL are never left waiting for an epoll event. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, e);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	*out = ctx;
	return 0;
}
