/* Unit tests of the edge's upgrade detection (src/edge/tunnel.c): a request asks to switch
 * protocols only with an Upgrade field and an "upgrade" token in Connection, in any case and
 * anywhere in the Connection list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge/conn_int.h"

/* 1 when the head with the given NAME, VALUE pairs (NULL-terminated), read by the edge's head
 * scanner, asks for a tunnel. */
static int wanted(const char *const *kv)
{
	struct http_field fields[16];
	struct http_head h = {.fields = fields, .max_fields = 16};
	char text[1024];
	size_t n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\n");

	for (; kv[0]; kv += 2)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s: %s\r\n", kv[0], kv[1]);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\r\n");
	http_head_reset(&h, 0);
	assert_int_equal(http_head_scan(&h, text, n), 1);
	return tunnel_wanted(&h);
}

static void test_websocket_request_wants_a_tunnel(void **state)
{
	const char *const plain[] = {"Host", "a.example", "Upgrade", "websocket", "Connection",
				     "Upgrade", NULL};
	const char *const listed[] = {"connection", "keep-alive, UPGRADE", "upgrade", "websocket",
				      NULL};
	const char *const spaced[] = {"Connection", " keep-alive ,\tupgrade ", "Upgrade", "x",
				      NULL};

	assert_true(wanted(plain));
	assert_true(wanted(listed));
	assert_true(wanted(spaced));
}

static void test_half_an_upgrade_is_none(void **state)
{
	const char *const no_connection[] = {"Upgrade", "websocket", NULL};
	const char *const no_upgrade[] = {"Connection", "upgrade", NULL};
	const char *const other_token[] = {"Connection", "upgrades, keep-alive", "Upgrade", "ws",
					   NULL};
	const char *const empty_upgrade[] = {"Connection", "upgrade", "Upgrade", "", NULL};
	const char *const none[] = {NULL};

	assert_false(wanted(no_connection));
	assert_false(wanted(no_upgrade));
	assert_false(wanted(other_token));
	assert_false(wanted(empty_upgrade));
	assert_false(wanted(none));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_websocket_request_wants_a_tunnel),
	    cmocka_unit_test(test_half_an_upgrade_is_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
