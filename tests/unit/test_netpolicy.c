/* Unit tests of src/lib/netpolicy.c (the outbound address policy), the SNI rules of
 * src/edge/client_hello.c and the log escaping of src/lib/log.c: every internal range and its
 * IPv4-mapped form is refused, the allow-list lets exactly its networks through, bad CIDRs are
 * config errors, IP literals in every spelling and well-known internal names are caught as
 * text, an SNI that is not a hostname is invalid, and no value can start a new log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "edge/client_hello.h"
#include "lib/config.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/netpolicy.h"

/* TEXT (an IPv4 or IPv6 address) as a socket address. */
static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		ss.ss_family = AF_INET6;
	}
	return ss;
}

static enum netpolicy_class classify(const char *text)
{
	struct sockaddr_storage ss = addr(text);

	return netpolicy_classify((struct sockaddr *)&ss, 0);
}

static int allows(const struct netpolicy *p, const char *text)
{
	struct sockaddr_storage ss = addr(text);

	return netpolicy_allows(p, (struct sockaddr *)&ss, 0);
}

struct class_case {
	const char *addr;
	enum netpolicy_class cls;
};

static const struct class_case classes[] = {
    {"127.0.0.1", NETPOLICY_LOOPBACK},
    {"127.255.255.254", NETPOLICY_LOOPBACK},
    {"::1", NETPOLICY_LOOPBACK},
    {"::ffff:127.0.0.1", NETPOLICY_LOOPBACK},
    {"0.0.0.0", NETPOLICY_UNSPECIFIED},
    {"0.1.2.3", NETPOLICY_UNSPECIFIED},
    {"::", NETPOLICY_UNSPECIFIED},
    {"::ffff:0.0.0.0", NETPOLICY_UNSPECIFIED},
    {"169.254.169.254", NETPOLICY_LINK_LOCAL},
    {"::ffff:169.254.169.254", NETPOLICY_LINK_LOCAL},
    {"::ffff:a9fe:a9fe", NETPOLICY_LINK_LOCAL},
    {"fe80::1", NETPOLICY_LINK_LOCAL},
    {"febf:ffff::1", NETPOLICY_LINK_LOCAL},
    {"10.0.0.1", NETPOLICY_PRIVATE},
    {"10.255.255.255", NETPOLICY_PRIVATE},
    {"172.16.0.1", NETPOLICY_PRIVATE},
    {"172.31.255.255", NETPOLICY_PRIVATE},
    {"192.168.1.1", NETPOLICY_PRIVATE},
    {"::ffff:10.1.2.3", NETPOLICY_PRIVATE},
    {"fc00::1", NETPOLICY_ULA},
    {"fd12:3456::1", NETPOLICY_ULA},
    {"100.64.0.1", NETPOLICY_CGNAT},
    {"100.127.255.255", NETPOLICY_CGNAT},
    {"100.100.100.200", NETPOLICY_CGNAT},
    {"224.0.0.1", NETPOLICY_MULTICAST},
    {"239.255.255.250", NETPOLICY_MULTICAST},
    {"ff02::1", NETPOLICY_MULTICAST},
    {"255.255.255.255", NETPOLICY_RESERVED},
    {"240.0.0.1", NETPOLICY_RESERVED},
    {"::7f00:1", NETPOLICY_RESERVED},           /* IPv4-compatible, deprecated */
    {"64:ff9b::7f00:1", NETPOLICY_LOOPBACK},     /* NAT64 of 127.0.0.1 */
    {"64:ff9b::a9fe:a9fe", NETPOLICY_LINK_LOCAL}, /* NAT64 of 169.254.169.254 */
    {"2002:7f00:1::1", NETPOLICY_LOOPBACK},      /* 6to4 of 127.0.0.1 */
    {"2002:a00:1::1", NETPOLICY_PRIVATE},        /* 6to4 of 10.0.0.1 */
    /* public, including neighbours of the ranges above */
    {"8.8.8.8", NETPOLICY_PUBLIC},
    {"1.1.1.1", NETPOLICY_PUBLIC},
    {"172.15.255.255", NETPOLICY_PUBLIC},
    {"172.32.0.0", NETPOLICY_PUBLIC},
    {"100.63.255.255", NETPOLICY_PUBLIC},
    {"100.128.0.0", NETPOLICY_PUBLIC},
    {"169.253.255.255", NETPOLICY_PUBLIC},
    {"11.0.0.0", NETPOLICY_PUBLIC},
    {"126.255.255.255", NETPOLICY_PUBLIC},
    {"128.0.0.0", NETPOLICY_PUBLIC},
    {"198.51.100.7", NETPOLICY_PUBLIC},
    {"::ffff:8.8.8.8", NETPOLICY_PUBLIC},
    {"2606:4700:4700::1111", NETPOLICY_PUBLIC},
    {"2001:db8::1", NETPOLICY_PUBLIC},
};

static void test_classify(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		enum netpolicy_class got = classify(classes[i].addr);

		if (got != classes[i].cls)
			fail_msg("%s: class %s, expected %s", classes[i].addr,
				 netpolicy_class_name(got), netpolicy_class_name(classes[i].cls));
	}
}

static void test_default_refuses_internal(void **state)
{
	struct netpolicy empty;
	char err[256];

	(void)state;
	assert_int_equal(netpolicy_parse("", &empty, err, sizeof(err)), 0);
	assert_int_equal(empty.n, 0);
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		assert_int_equal(allows(&empty, classes[i].addr),
				 classes[i].cls == NETPOLICY_PUBLIC);
	assert_int_equal(allows(NULL, "127.0.0.1"), 0);
	assert_int_equal(allows(NULL, "8.8.8.8"), 1);
}

static void test_allow_list(void **state)
{
	struct netpolicy p;
	char err[256];

	(void)state;
	assert_int_equal(netpolicy_parse(" 127.0.0.0/8 ,::1/128,10.1.0.0/16, fd00::/8,169.254.169.254",
					 &p, err, sizeof(err)),
			 0);
	assert_int_equal(p.n, 5);
	assert_true(allows(&p, "127.0.0.1"));
	assert_true(allows(&p, "127.9.9.9"));
	assert_true(allows(&p, "::ffff:127.0.0.1")); /* the mapped form matches the IPv4 entry */
	assert_true(allows(&p, "::1"));
	assert_true(allows(&p, "10.1.255.255"));
	assert_false(allows(&p, "10.2.0.0"));
	assert_false(allows(&p, "10.0.255.255"));
	assert_true(allows(&p, "fd12::1"));
	assert_false(allows(&p, "fc00::1"));
	assert_true(allows(&p, "169.254.169.254"));
	assert_false(allows(&p, "169.254.169.253"));
	assert_false(allows(&p, "192.168.0.1"));
	assert_false(allows(&p, "64:ff9b::7f00:1")); /* NAT64 is not the listed IPv4 network */
	assert_true(allows(&p, "8.8.8.8"));

	/* prefix lengths that do not end on a byte */
	assert_int_equal(netpolicy_parse("10.64.0.0/10,172.16.0.0/13,fe80::/10", &p, err,
					 sizeof(err)),
			 0);
	assert_true(allows(&p, "10.64.0.0"));
	assert_true(allows(&p, "10.127.255.255"));
	assert_false(allows(&p, "10.128.0.0"));
	assert_false(allows(&p, "10.63.255.255"));
	assert_true(allows(&p, "172.23.255.255"));
	assert_false(allows(&p, "172.24.0.0"));
	assert_true(allows(&p, "febf::1"));
	assert_false(allows(&p, "fec0::1"));

	/* 0.0.0.0/0 lets every IPv4 address through, but no IPv6 one */
	assert_int_equal(netpolicy_parse("0.0.0.0/0", &p, err, sizeof(err)), 0);
	assert_true(allows(&p, "10.0.0.1"));
	assert_false(allows(&p, "fc00::1"));
	assert_int_equal(netpolicy_parse("::/0", &p, err, sizeof(err)), 0);
	assert_true(allows(&p, "fc00::1"));
	assert_true(allows(&p, "10.0.0.1")); /* mapped: ::/0 is every address */
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = {
	    "10.0.0.0/33", "::/129", "10.0.0.1/8", "fd00::1/8", "10.0.0.0/", "10.0.0.0/x",
	    "10.0.0.0/-1", "10.0.0.0/0008", "ten", "10.0.0", "127.0.0.0/8,", "127.0.0.0/8,,::1",
	    ",127.0.0.0/8", "localhost", "10.0.0.0/8 junk", "[::1]/128", "0x7f.0.0.0/8",
	};
	struct netpolicy p;
	char err[256], list[2048] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (netpolicy_parse(bad[i], &p, err, sizeof(err)) != SE_ECONFIG)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_true(err[0] != '\0');
		assert_int_equal(p.n, 0);
	}
	assert_int_equal(netpolicy_parse("10.0.0.1/8", &p, err, sizeof(err)), SE_ECONFIG);
	assert_non_null(strstr(err, "10.0.0.1/8"));
	for (int i = 0; i <= NETPOLICY_MAX_NETS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s10.%d.0.0/16",
			 i ? "," : "", i);
	assert_int_equal(netpolicy_parse(list, &p, err, sizeof(err)), SE_ECONFIG);
}

static void test_config_key(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	config_defaults(&cfg, 0);
	assert_int_equal(cfg.edge.origin_allow.n, 0);
	config_defaults(&cfg, 1); /* --dev: loopback, as every dev name resolves to 127.0.0.1 */
	assert_true(allows(&cfg.edge.origin_allow, "127.0.0.1"));
	assert_true(allows(&cfg.edge.origin_allow, "::1"));
	assert_false(allows(&cfg.edge.origin_allow, "10.0.0.1"));
	assert_int_equal(config_set(&cfg, "edge.origin_allow_networks", "10.0.0.0/8", err,
				    sizeof(err)),
			 0);
	assert_true(allows(&cfg.edge.origin_allow, "10.0.0.1"));
	assert_false(allows(&cfg.edge.origin_allow, "127.0.0.1"));
	assert_int_equal(config_set(&cfg, "edge.origin_allow_networks", "10.0.0.0/33", err,
				    sizeof(err)),
			 SE_ECONFIG);
	assert_non_null(strstr(err, "edge.origin_allow_networks"));
	assert_non_null(strstr(err, "10.0.0.0/33"));
}

static void test_check_host(void **state)
{
	static const char *const refused[] = {
	    "169.254.169.254", "::1", "0.0.0.0", "127.0.0.1", "10.0.0.7", "::ffff:127.0.0.1",
	    "2130706433", "0x7f.1", "127.1", "017700000001", "localhost", "foo.localhost",
	    "localhost.localdomain", "metadata.google.internal", "metadata.goog", "metadata",
	    "instance-data", "ip6-localhost", "fd00::5", "100.100.100.200",
	};
	static const char *const allowed[] = {
	    "origin.provider.com", "8.8.8.8", "2606:4700::1", "backend.internal",
	    "localhost.provider.com", "metadata.provider.com", "1.2.3.4444",
	};
	struct netpolicy none, loop;
	char reason[256], err[128];

	(void)state;
	netpolicy_parse("", &none, err, sizeof(err));
	netpolicy_parse("127.0.0.0/8,::1/128", &loop, err, sizeof(err));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		reason[0] = '\0';
		if (netpolicy_check_host(&none, refused[i], reason, sizeof(reason)) != SE_EPERM)
			fail_msg("%s was allowed", refused[i]);
		assert_non_null(strstr(reason, refused[i]));
		assert_non_null(strstr(reason, "edge.origin_allow_networks"));
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (netpolicy_check_host(&none, allowed[i], reason, sizeof(reason)) != 0)
			fail_msg("%s was refused: %s", allowed[i], reason);
	}
	/* the allow-list lets the loopback literals and names through, nothing else */
	assert_int_equal(netpolicy_check_host(&loop, "127.0.0.1", reason, sizeof(reason)), 0);
	assert_int_equal(netpolicy_check_host(&loop, "::1", reason, sizeof(reason)), 0);
	assert_int_equal(netpolicy_check_host(&loop, "localhost", reason, sizeof(reason)), 0);
	assert_int_equal(netpolicy_check_host(&loop, "2130706433", reason, sizeof(reason)), 0);
	assert_int_equal(netpolicy_check_host(&loop, "169.254.169.254", reason, sizeof(reason)),
			 SE_EPERM);
	assert_non_null(strstr(reason, "link-local"));
	assert_int_equal(
	    netpolicy_check_host(&loop, "metadata.google.internal", reason, sizeof(reason)),
	    SE_EPERM);
}

/* The server_name extension body for NAME (LEN bytes). */
static size_t sni_ext(const char *name, size_t len, unsigned char *out)
{
	out[0] = (unsigned char)((len + 3) >> 8);
	out[1] = (unsigned char)(len + 3);
	out[2] = 0;
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
	memcpy(out + 5, name, len);
	return len + 5;
}

static enum client_hello_sni parse_sni(const char *name, size_t len, char *out)
{
	unsigned char ext[600];

	return client_hello_parse_sni(ext, sni_ext(name, len, ext), out, 256);
}

static void test_sni(void **state)
{
	static const char *const invalid[] = {
	    "x\r\ntransfer-encoding: chunked\r\nx-pad: y.wild.example.com",
	    "*.wild.example.com", "a..b.com", ".a.com", "a.com..", "-a.com", "a-.com", "a_b.com",
	    "a b.com", "caf\xc3\xa9.com", "a.com/", "a:443", "a\tb.com", ".", "a\x7f.com",
	};
	char out[256], name[300];
	unsigned char ext[16];

	(void)state;
	assert_int_equal(parse_sni("Shop.Example.COM", 16, out), CLIENT_HELLO_SNI_OK);
	assert_string_equal(out, "shop.example.com");
	assert_int_equal(parse_sni("shop.example.com.", 17, out), CLIENT_HELLO_SNI_OK);
	assert_string_equal(out, "shop.example.com");
	assert_int_equal(parse_sni("xn--caf-dma.example", 19, out), CLIENT_HELLO_SNI_OK);
	assert_int_equal(parse_sni("localhost", 9, out), CLIENT_HELLO_SNI_OK);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (parse_sni(invalid[i], strlen(invalid[i]), out) != CLIENT_HELLO_SNI_INVALID)
			fail_msg("SNI \"%s\" was accepted", invalid[i]);
		assert_string_equal(out, "");
	}
	assert_int_equal(parse_sni("a\0b.com", 7, out), CLIENT_HELLO_SNI_INVALID);
	/* lengths: a 63-character label and a 253-character name are the largest */
	memset(name, 'a', 64);
	memcpy(name + 63, ".com", 4);
	assert_int_equal(parse_sni(name, 67, out), CLIENT_HELLO_SNI_OK); /* 63 + ".com" */
	memset(name, 'a', 64);
	memcpy(name + 64, ".com", 4);
	assert_int_equal(parse_sni(name, 68, out), CLIENT_HELLO_SNI_INVALID);
	for (int i = 0; i < 300; i += 2) {
		name[i] = 'a';
		name[i + 1] = '.';
	}
	name[252] = 'a';
	assert_int_equal(parse_sni(name, 253, out), CLIENT_HELLO_SNI_OK);
	name[253] = 'a';
	assert_int_equal(parse_sni(name, 254, out), CLIENT_HELLO_SNI_INVALID);
	/* framing */
	assert_int_equal(client_hello_parse_sni(NULL, 0, out, sizeof(out)), CLIENT_HELLO_SNI_ABSENT);
	assert_int_equal(client_hello_parse_sni(ext, 4, out, sizeof(out)), CLIENT_HELLO_SNI_INVALID);
	sni_ext("a.com", 5, ext);
	ext[2] = 1; /* not host_name */
	assert_int_equal(client_hello_parse_sni(ext, 10, out, sizeof(out)), CLIENT_HELLO_SNI_INVALID);
	sni_ext("a.com", 5, ext);
	assert_int_equal(client_hello_parse_sni(ext, 9, out, sizeof(out)), CLIENT_HELLO_SNI_INVALID);
	ext[4] = 9; /* name longer than the extension */
	assert_int_equal(client_hello_parse_sni(ext, 10, out, sizeof(out)), CLIENT_HELLO_SNI_INVALID);
}

static void test_sigalgs(void **state)
{
	static const unsigned char rsa_only[] = {0, 4, 0x08, 0x04, 0x04, 0x01};
	static const unsigned char with_ecdsa[] = {0, 4, 0x08, 0x04, 0x04, 0x03};

	(void)state;
	assert_int_equal(client_hello_sigalgs_ecdsa(NULL, 0), 1);
	assert_int_equal(client_hello_sigalgs_ecdsa(rsa_only, sizeof(rsa_only)), 0);
	assert_int_equal(client_hello_sigalgs_ecdsa(with_ecdsa, sizeof(with_ecdsa)), 1);
	assert_int_equal(client_hello_sigalgs_ecdsa(with_ecdsa, 1), 0);
}

/* What log_write puts on stderr for one call, read back through a temporary file. */
static void log_capture(char *out, size_t len, const char *value)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	log_write(LOG_INFO, "edge msg=\"test\" hostname=%s end=1", value);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, len - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

static void test_log_escaping(void **state)
{
	char line[8192], big[3000];
	const char *nl;

	(void)state;
	log_capture(line, sizeof(line), "x\r\nts=2026-01-01T00:00:00.000Z level=error msg=\"forged\"");
	nl = strchr(line, '\n');
	assert_non_null(nl);
	assert_string_equal(nl, "\n"); /* one line, ended by the logger's own newline */
	assert_null(strchr(line, '\r'));
	assert_non_null(strstr(line, "hostname=x\\r\\nts=2026-01-01T00:00:00.000Z level=error"));
	assert_non_null(strstr(line, " end=1\n"));

	log_capture(line, sizeof(line), "a\x01\x1b[31m\x7f\xc3\xa9\tb\\n");
	assert_non_null(strstr(line, "hostname=a\\x01\\x1b[31m\\x7f\\xc3\\xa9\\tb\\\\n end=1\n"));

	log_capture(line, sizeof(line), "plain.example.com");
	assert_non_null(strstr(line, "level=info edge msg=\"test\" hostname=plain.example.com end=1\n"));

	/* a long value of bytes to escape: cut at the buffer, never inside an escape, one line */
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_capture(line, sizeof(line), big);
	assert_string_equal(strchr(line, '\n'), "\n");
	nl = strchr(line, '\n');
	assert_true(nl[-1] == 'n' && nl[-2] == '\\');
	for (const char *p = line; *p; p++)
		assert_true(*p == '\n' ? p == nl : (*p >= 0x20 && *p < 0x7f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),     cmocka_unit_test(test_default_refuses_internal),
	    cmocka_unit_test(test_allow_list),   cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_config_key),   cmocka_unit_test(test_check_host),
	    cmocka_unit_test(test_sni),          cmocka_unit_test(test_sigalgs),
	    cmocka_unit_test(test_log_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
