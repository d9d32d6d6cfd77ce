/* Unit tests of src/lib/netpolicy.c, the outbound address policy: every internal range and its
 * IPv4-mapped (and NAT64, 6to4) form is refused, the allow-list lets exactly its networks
 * through, bad CIDRs are config errors naming the entry, and IP literals in every spelling and
 * well-known internal names are caught as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "lib/config.h"
#include "lib/error.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),   cmocka_unit_test(test_default_refuses_internal),
	    cmocka_unit_test(test_allow_list), cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_config_key), cmocka_unit_test(test_check_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
