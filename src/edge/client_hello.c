#include "edge/client_hello.h"

#include <string.h>

#include "lib/hostname.h"

enum client_hello_sni client_hello_parse_sni(const unsigned char *ext, size_t n, char *out,
					     size_t len)
{
	size_t name_len;

	if (len)
		out[0] = '\0';
	if (!ext)
		return CLIENT_HELLO_SNI_ABSENT;
	/* list length (2), name type (1) = host_name 0, name length (2), name */
	if (n < 5 || ((size_t)ext[0] << 8 | ext[1]) != n - 2 || ext[2] != 0)
		return CLIENT_HELLO_SNI_INVALID;
	name_len = (size_t)ext[3] << 8 | ext[4];
	if (name_len == 0 || name_len + 5 > n)
		return CLIENT_HELLO_SNI_INVALID;
	if (ext[5 + name_len - 1] == '.') /* one trailing dot: the same name */
		name_len--;
	if (name_len == 0 || name_len >= len)
		return CLIENT_HELLO_SNI_INVALID;
	for (size_t i = 0; i < name_len; i++) {
		unsigned char c = ext[5 + i];

		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	out[name_len] = '\0';
	if (!hostname_ldh_ok(out, name_len)) {
		out[0] = '\0';
		return CLIENT_HELLO_SNI_INVALID;
	}
	return CLIENT_HELLO_SNI_OK;
}

int client_hello_suites_ecdsa(const unsigned char *suites, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned id = (unsigned)suites[i] << 8 | suites[i + 1];

		/* TLS 1.3 (0x13xx); ECDHE-ECDSA-AES128-GCM-SHA256, -AES256-GCM-SHA384 and
		 * -CHACHA20-POLY1305, the ECDSA suites of the edge's TLS 1.2 list */
		if ((id >> 8) == 0x13 || id == 0xc02b || id == 0xc02c || id == 0xcca9)
			return 1;
	}
	return 0;
}

int client_hello_sigalgs_ecdsa(const unsigned char *ext, size_t n)
{
	if (!ext)
		return 1;
	if (n < 2)
		return 0;
	for (size_t i = 2; i + 1 < n; i += 2) {
		/* ecdsa_secp256r1_sha256 0x0403, _secp384r1_sha384 0x0503, _secp521r1_sha512
		 * 0x0603, ecdsa_sha1 0x0203, ecdsa_sha224 0x0303 */
		if (ext[i + 1] == 0x03 && ext[i] >= 0x02 && ext[i] <= 0x06)
			return 1;
	}
	return 0;
}
