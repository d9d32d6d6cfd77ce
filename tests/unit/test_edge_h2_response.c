/* Unit tests of the HTTP/1.1 response head → HTTP/2 HEADERS translation
 * (src/edge/h2_response.c), on heads read by the edge's strict scanner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge/h2_response.h"

static struct http_field fields[32];
static struct http_head head = {.fields = fields, .max_fields = 32};

/* The fields of TEXT (a response head) as "name=value" lines. */
static void translate(const char *text, char *out, size_t len)
{
	struct h2_fields f;
	size_t o = 0;

	http_head_reset(&head, 1);
	assert_int_equal(http_head_scan(&head, text, strlen(text)), 1);
	assert_int_equal(h2_response_fields(&head, &f), 0);
	out[0] = '\0';
	for (size_t i = 0; i < f.n; i++)
		o += (size_t)snprintf(out + o, len - o, "%.*s=%.*s\n", (int)f.nv[i].namelen,
				      f.nv[i].name, (int)f.nv[i].valuelen, f.nv[i].value);
	h2_fields_dispose(&f);
}

static void test_status_first_names_lower_case(void **state)
{
	char out[512];

	translate("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n"
		  "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Custom:  v \r\n\r\n",
		  out, sizeof(out));
	assert_string_equal(out, ":status=200\ncontent-type=text/html\ncontent-length=12\n"
				 "set-cookie=a=1\nset-cookie=b=2\nx-custom=v\n");
}

/* RFC 9113 8.2.2: nothing of the HTTP/1.1 connection crosses over. */
static void test_connection_fields_dropped(void **state)
{
	char out[512];

	translate("HTTP/1.1 404 Not Found\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: "
		  "timeout=5\r\nX-Hop: 1\r\nTransfer-Encoding: chunked\r\nProxy-Connection: x\r\n"
		  "Upgrade: h2c\r\nVary: Accept\r\n\r\n",
		  out, sizeof(out));
	assert_string_equal(out, ":status=404\nvary=Accept\n");
}

static void test_interim_response(void **state)
{
	char out[512];

	translate("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n", out,
		  sizeof(out));
	assert_string_equal(out, ":status=103\nlink=</style.css>; rel=preload\n");
}

static void test_trailer_fields(void **state)
{
	static const char lines[] = "Server-Timing: db;dur=53 \r\ngrpc-status:0\r\nX-E:\t\r\n";
	struct h2_fields f;
	char out[256];
	size_t o = 0;

	assert_int_equal(h2_trailer_fields(lines, strlen(lines), &f), 0);
	for (size_t i = 0; i < f.n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%.*s=%.*s\n", (int)f.nv[i].namelen,
				      f.nv[i].name, (int)f.nv[i].valuelen, f.nv[i].value);
	out[o] = '\0';
	assert_string_equal(out, "server-timing=db;dur=53\ngrpc-status=0\nx-e=\n");
	h2_fields_dispose(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_first_names_lower_case),
	    cmocka_unit_test(test_connection_fields_dropped),
	    cmocka_unit_test(test_interim_response),
	    cmocka_unit_test(test_trailer_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
