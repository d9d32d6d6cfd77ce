/* Unit tests of the edge's upgrade detection (src/edge/tunnel.c): a request asks to switch
 * protocols only with an Upgrade field and an "upgrade" token in Connection, in any case and
 * anywhere in the Connection list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "edge/conn_int.h"

/* A head with the given NAME, VALUE pairs (NULL-terminated). */
static struct http_head *head_of(const char *const *kv)
{
	struct http_head *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	for (; kv[0]; kv += 2, h->n_fields++) {
		h->fields[h->n_fields].name = kv[0];
		h->fields[h->n_fields].name_len = strlen(kv[0]);
		h->fields[h->n_fields].value = kv[1];
		h->fields[h->n_fields].value_len = strlen(kv[1]);
	}
	return h;
}

static int wanted(const char *const *kv)
{
	struct http_head *h = head_of(kv);
	int r = tunnel_wanted(h);

	free(h);
	return r;
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
