/* The TLS 1.2 cipher suites the edge offers, and the rule that a hostname's
 * ssl.settings.ciphers can only narrow them (decision 0021). */
#include "edge/edge_int.h"

#include "lib/strlist.h"

/* ECDHE key exchange (forward secrecy) with an AEAD cipher (no CBC: Lucky13-style padding
 * oracles; no RSA key transport: a stolen key would decrypt recorded traffic): Mozilla's
 * "intermediate" profile without its DHE suites, which only very old clients need and which
 * cost a slow finite-field exchange. ECDSA first, then RSA, AES-128 before AES-256 before
 * ChaCha20 as in that profile; the server's order wins (SSL_OP_CIPHER_SERVER_PREFERENCE). */
static const char *const tls12_suites[] = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
};

const char edge_tls12_cipher_list[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
				      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
				      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

int edge_tls12_cipher_allowed(const char *name)
{
	return strlist_contains(tls12_suites, STRLIST_LEN(tls12_suites), name);
}
