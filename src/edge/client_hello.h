/* The parts of a TLS ClientHello the edge reads before it picks a certificate: the server_name
 * extension (RFC 6066 §3) and the signature_algorithms extension (RFC 8446 §4.2.3). They work
 * on the extensions' raw bytes, so the ClientHello callback (sni.c) and the fuzz target
 * (tests/fuzz/fuzz_client_hello.c) run the same code. No allocation: this runs per handshake. */
#ifndef SAASEDGE_EDGE_CLIENT_HELLO_H
#define SAASEDGE_EDGE_CLIENT_HELLO_H

#include <stddef.h>

#define CLIENT_HELLO_EXT_SERVER_NAME 0
#define CLIENT_HELLO_EXT_SIGALGS     13

enum client_hello_sni {
	CLIENT_HELLO_SNI_OK = 0,  /* OUT holds a valid hostname */
	CLIENT_HELLO_SNI_ABSENT,  /* no host_name in the extension: the default certificate */
	CLIENT_HELLO_SNI_INVALID, /* malformed, or not a hostname: refuse the handshake */
};

/* The host_name of the server_name extension body EXT (N bytes) into OUT (LEN bytes), lower
 * case without one trailing dot. It must be LDH labels of 1 to 63 characters, 253 in all (no
 * "*.", no control or non-ASCII byte: an SNI ends up in Host headers and logs); anything else
 * in a well-framed extension is CLIENT_HELLO_SNI_INVALID, as is a malformed extension. OUT is
 * "" unless the verdict is CLIENT_HELLO_SNI_OK. */
enum client_hello_sni client_hello_parse_sni(const unsigned char *ext, size_t n, char *out,
					     size_t len);

/* 1 when the signature_algorithms extension body EXT (N bytes) offers an ECDSA scheme, or when
 * EXT is NULL (extension absent: a TLS 1.2 client without it takes ECDSA by default when it
 * offered ECDSA suites, and a wrong pick costs that client only a retry); else 0. */
int client_hello_sigalgs_ecdsa(const unsigned char *ext, size_t n);

/* 1 when the ClientHello's cipher suites SUITES (N bytes, two per suite) let the edge use its
 * ECDSA certificate: a TLS 1.3 suite (authentication is not part of those) or one of the
 * edge's ECDSA TLS 1.2 suites. 0 for a client offering only RSA-authenticated suites, which
 * must get the RSA certificate whatever signature algorithms it lists. */
int client_hello_suites_ecdsa(const unsigned char *suites, size_t n);

#endif
