/* Unpadded base64url (RFC 4648 §5), the only encoding JWS and ACME use. Decoding also takes the
 * standard alphabet and '=' padding, because CAs hand out EAB MAC keys in either form. */
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int acme__b64url_encode(const void *data, size_t n, char *out, size_t out_len)
{
	const unsigned char *in = data;
	size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	size_t o = 0, i = 0;

	if (need + 1 > out_len)
		return SE_ETOOBIG;
	for (; i + 2 < n; i += 3) {
		unsigned long v =
		    (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		out[o++] = alphabet[in[i] >> 2];
		out[o++] = alphabet[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = alphabet[in[i] >> 2];
		out[o++] = alphabet[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = alphabet[(in[i + 1] & 15) << 2];
	}
	out[o] = '\0';
	return (int)o;
}

static int sextet(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-' || ch == '+')
		return 62;
	if (ch == '_' || ch == '/')
		return 63;
	return -1;
}

int acme__b64url_valid(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		if (sextet(*s) < 0 || *s == '+' || *s == '/')
			return 0;
	}
	return 1;
}

int acme__b64url_decode(const char *text, unsigned char **out, size_t *out_len)
{
	size_t n = strlen(text);
	unsigned char *buf;
	unsigned long acc = 0;
	size_t o = 0;
	int bits = 0;

	while (n > 0 && text[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return SE_EINVAL;
	buf = malloc(n / 4 * 3 + 3);
	if (!buf)
		return SE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int v = sextet(text[i]);

		if (v < 0) {
			free(buf);
			return SE_EINVAL;
		}
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	*out = buf;
	*out_len = o;
	return 0;
}
