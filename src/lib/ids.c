#include "lib/ids.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "lib/error.h"

static const char hex_digits[] = "0123456789abcdef";

int ids_random(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : SE_ECRYPTO;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int ids_uuid(char out[IDS_UUID_LEN + 1])
{
	unsigned char b[16];
	char hex[33];
	int rc = ids_random(b, sizeof(b));

	if (rc)
		return rc;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	to_hex(b, sizeof(b), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
	return 0;
}

int ids_hex32(char out[IDS_ZONE_LEN + 1])
{
	unsigned char b[16];
	int rc = ids_random(b, sizeof(b));

	if (rc)
		return rc;
	to_hex(b, sizeof(b), out);
	return 0;
}

int ids_api_token(char out[IDS_TOKEN_LEN + 1])
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char b[IDS_TOKEN_LEN];
	int rc = ids_random(b, sizeof(b));

	if (rc)
		return rc;
	for (size_t i = 0; i < IDS_TOKEN_LEN; i++)
		out[i] = alphabet[b[i] & 63]; /* 64 symbols: no modulo bias */
	out[IDS_TOKEN_LEN] = '\0';
	return 0;
}

void ids_sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
	to_hex(md, sizeof(md), out);
}

int ids_is_uuid(const char *s)
{
	for (int i = 0; i < IDS_UUID_LEN; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return s[IDS_UUID_LEN] == '\0';
}

int ids_is_hex32(const char *s)
{
	for (int i = 0; i < IDS_ZONE_LEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return s[IDS_ZONE_LEN] == '\0';
}
