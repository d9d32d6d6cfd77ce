/* Unit tests of the HTTP/2 request translation (src/edge/h2_request.c): the HTTP/1.1 head it
 * writes is read back by the edge's strict HTTP/1.1 scanner, as the proxy will read it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge/h2_request.h"
#include "edge/http_frame.h"

/* Feeds the NAME, VALUE pairs (NULL-terminated) to R: 0 or the first refusal. */
static int feed(struct h2_request *r, const char *const *kv)
{
	int rc = 0;

	h2_request_init(r, 8192, 100);
	for (; kv[0] && rc == 0; kv += 2)
		rc = h2_request_field(r, kv[0], strlen(kv[0]), kv[1], strlen(kv[1]));
	return rc;
}

/* The head of the request KV (END_STREAM as given), checked by the HTTP/1.1 scanner into H. */
static char *head_of(const char *const *kv, int end_stream, int *chunked, struct http_head *h)
{
	struct h2_request r;
	char *head = NULL;
	size_t len = 0;

	assert_int_equal(feed(&r, kv), 0);
	assert_int_equal(h2_request_head(&r, end_stream, &head, &len, chunked), 0);
	h2_request_dispose(&r);
	http_head_reset(h, 0);
	assert_int_equal(http_head_scan(h, head, len), 1);
	assert_int_equal(h->head_len, len);
	return head;
}

/* The refusal of the request KV, at a field or at the head. */
static int refusal(const char *const *kv)
{
	struct h2_request r;
	char *head = NULL;
	size_t len = 0;
	int chunked = 0, rc = feed(&r, kv);

	if (rc == 0)
		rc = h2_request_head(&r, 1, &head, &len, &chunked);
	h2_request_dispose(&r);
	free(head);
	return rc;
}

static void test_get_becomes_an_http11_head(void **state)
{
	const char *const kv[] = {":method",          "GET",    ":scheme", "https",  ":authority",
				  "app.customer.com", ":path",  "/a?b=1",  "accept", "*/*",
				  "user-agent",       "curl/8", NULL};
	struct http_field fields[16];
	struct http_head h = {.fields = fields, .max_fields = 16};
	int chunked = -1;
	char *head = head_of(kv, 1, &chunked, &h);

	assert_string_equal(head, "GET /a?b=1 HTTP/1.1\r\nHost: app.customer.com\r\n"
				  "accept: */*\r\nuser-agent: curl/8\r\n\r\n");
	assert_int_equal(chunked, 0);
	assert_string_equal(h.method, "GET");
	assert_int_equal(h.n_host, 1);
	assert_int_equal(h.chunked, 0);
	assert_int_equal(h.n_cl, 0);
	free(head);
}

static void test_body_framing(void **state)
{
	const char *const sized[] = {":method",        "POST",      ":scheme", "https",
				     ":authority",     "a.example", ":path",   "/upload",
				     "content-length", "5",         NULL};
	const char *const unsized[] = {":method",   "POST",  ":scheme", "https", ":authority",
				       "a.example", ":path", "/upload", NULL};
	struct http_field fields[16];
	struct http_head h = {.fields = fields, .max_fields = 16};
	char size_line[24];
	int chunked = -1;
	char *head;

	/* its own Content-Length: passed on as it is */
	head = head_of(sized, 0, &chunked, &h);
	assert_int_equal(chunked, 0);
	assert_int_equal(h.n_cl, 1);
	assert_int_equal(h.content_length, 5);
	free(head);
	/* none, and DATA to come: chunked */
	head = head_of(unsized, 0, &chunked, &h);
	assert_int_equal(chunked, 1);
	assert_int_equal(h.chunked, 1);
	free(head);
	/* none, and the HEADERS frame ended the stream: no body */
	head = head_of(unsized, 1, &chunked, &h);
	assert_int_equal(chunked, 0);
	assert_int_equal(h.chunked, 0);
	assert_int_equal(h.n_cl, 0);
	free(head);
	assert_int_equal(h2_chunk_head(500, size_line), 5);
	assert_string_equal(size_line, "1f4\r\n");
}

/* RFC 9113 8.2.3: a client may split Cookie into one field per pair; HTTP/1.1 wants one. */
static void test_cookies_are_joined(void **state)
{
	const char *const kv[] = {":method",   "GET",   ":scheme", "https",  ":authority",
				  "a.example", ":path", "/",       "cookie", "a=1",
				  "accept",    "x",     "cookie",  "b=2",    NULL};
	struct http_field fields[16];
	struct http_head h = {.fields = fields, .max_fields = 16};
	int chunked;
	char *head = head_of(kv, 1, &chunked, &h);

	assert_non_null(strstr(head, "\r\ncookie: a=1; b=2\r\n"));
	assert_null(strstr(head, "cookie: a=1\r\n"));
	free(head);
}

static void test_host_from_authority_or_host_field(void **state)
{
	const char *const host_only[] = {":method", "GET",  ":scheme",   "https", ":path",
					 "/",       "host", "a.example", NULL};
	const char *const both_same[] = {":method",    "GET",       ":scheme", "https",
					 ":authority", "a.example", ":path",   "/",
					 "host",       "a.example", NULL};
	const char *const both_differ[] = {":method",    "GET",       ":scheme", "https",
					   ":authority", "a.example", ":path",   "/",
					   "host",       "b.example", NULL};
	const char *const neither[] = {":method", "GET", ":scheme", "https", ":path", "/", NULL};
	const char *const two_hosts[] = {":method", "GET",       ":scheme", "https",
					 ":path",   "/",         "host",    "a.example",
					 "host",    "a.example", NULL};
	const char *const userinfo[] = {":method",     "GET",   ":scheme", "https", ":authority",
					"u@a.example", ":path", "/",       NULL};
	struct http_field fields[16];
	struct http_head h = {.fields = fields, .max_fields = 16};
	int chunked;
	char *head;

	head = head_of(host_only, 1, &chunked, &h);
	assert_int_equal(h.n_host, 1);
	assert_memory_equal(h.host_value, "a.example", 9);
	free(head);
	head = head_of(both_same, 1, &chunked, &h);
	assert_int_equal(h.n_host, 1); /* written once */
	free(head);
	assert_int_equal(refusal(both_differ), 400);
	assert_int_equal(refusal(neither), 400);
	assert_int_equal(refusal(two_hosts), 400);
	assert_int_equal(refusal(userinfo), 400);
}

static void test_malformed_requests_refused(void **state)
{
	const char *const connect[] = {":method", "CONNECT", ":authority", "a.example:443", NULL};
	const char *const extended[] = {":method", "GET", ":protocol", "websocket", NULL};
	const char *const no_path[] = {":method",    "GET",       ":scheme", "https",
				       ":authority", "a.example", NULL};
	const char *const absolute[] = {":method",    "GET",       ":scheme", "https",
					":authority", "a.example", ":path",   "https://b.example/",
					NULL};
	const char *const spaced[] = {":method",   "GET",   ":scheme", "https", ":authority",
				      "a.example", ":path", "/a b",    NULL};
	const char *const scheme[] = {":method", "GET", ":scheme", "ftp", NULL};
	const char *const crlf[] = {":method",    "GET",         ":scheme", "https",
				    ":authority", "a.example",   ":path",   "/",
				    "x-a",        "1\r\nx-b: 2", NULL};
	const char *const lf[] = {":method", "GET", ":scheme", "https", ":authority", "a.example",
				  ":path",   "/",   "x-a",     "1\n",   NULL};
	const char *const upper[] = {":method",    "GET",       ":scheme", "https",
				     ":authority", "a.example", ":path",   "/",
				     "X-A",        "1",         NULL};
	const char *const colon[] = {":method",          "GET",       ":scheme", "https",
				     ":authority",       "a.example", ":path",   "/",
				     "content-length:0", "1",         NULL};
	const char *const late_pseudo[] = {":method", "GET",   ":scheme", "https", "accept",
					   "*/*",     ":path", "/",       NULL};
	/* RFC 9113 8.2.2: connection-specific fields make a request malformed */
	const char *const conn[] = {":method",    "GET",        ":scheme", "https",
				    ":authority", "a.example",  ":path",   "/",
				    "connection", "keep-alive", NULL};
	const char *const te_chunked[] = {":method",           "POST",      ":scheme", "https",
					  ":authority",        "a.example", ":path",   "/",
					  "transfer-encoding", "chunked",   NULL};
	const char *const te_gzip[] = {":method",    "GET",       ":scheme", "https",
				       ":authority", "a.example", ":path",   "/",
				       "te",         "gzip",      NULL};
	const char *const two_paths[] = {":method", "GET", ":scheme", "https",     ":path", "/a",
					 ":path",   "/b",  "host",    "a.example", NULL};
	const char *const te_trailers[] = {":method",    "GET",       ":scheme", "https",
					   ":authority", "a.example", ":path",   "/",
					   "te",         "trailers",  NULL};
	const char *const long_method[] = {":method", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL};

	assert_int_equal(refusal(connect), 405);
	assert_int_equal(refusal(extended), 400);
	assert_int_equal(refusal(no_path), 400);
	assert_int_equal(refusal(absolute), 400);
	assert_int_equal(refusal(spaced), 400);
	assert_int_equal(refusal(scheme), 400);
	assert_int_equal(refusal(crlf), 400);
	assert_int_equal(refusal(lf), 400);
	assert_int_equal(refusal(upper), 400);
	assert_int_equal(refusal(colon), 400);
	assert_int_equal(refusal(late_pseudo), 400);
	assert_int_equal(refusal(conn), 400);
	assert_int_equal(refusal(te_chunked), 400);
	assert_int_equal(refusal(te_gzip), 400);
	assert_int_equal(refusal(te_trailers), 0);
	assert_int_equal(refusal(two_paths), 400);
	assert_int_equal(refusal(long_method), 400);
}

/* The edge's limits for any request head: its size and its number of fields. */
static void test_limits(void **state)
{
	const char *const start[] = {":method",   "GET",   ":scheme", "https", ":authority",
				     "a.example", ":path", "/",       NULL};
	struct h2_request r;
	char name[16], big[300];
	int rc = 0, i;

	/* 100 fields pass, the 101st is refused */
	assert_int_equal(feed(&r, start), 0);
	for (i = 0; i < 101 && rc == 0; i++) {
		snprintf(name, sizeof(name), "x-%d", i);
		rc = h2_request_field(&r, name, strlen(name), "v", 1);
	}
	assert_int_equal(rc, 431);
	assert_int_equal(i, 101);
	assert_int_equal(h2_request_field(&r, "x", 1, "v", 1), 431); /* and it stays refused */
	h2_request_dispose(&r);
	/* 8192 bytes: about 27 fields of 300 bytes */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rc = 0;
	assert_int_equal(feed(&r, start), 0);
	for (i = 0; i < 40 && rc == 0; i++) {
		snprintf(name, sizeof(name), "x-%d", i);
		rc = h2_request_field(&r, name, strlen(name), big, strlen(big));
	}
	assert_int_equal(rc, 431);
	assert_in_range(i, 20, 30);
	h2_request_dispose(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_becomes_an_http11_head),
	    cmocka_unit_test(test_body_framing),
	    cmocka_unit_test(test_cookies_are_joined),
	    cmocka_unit_test(test_host_from_authority_or_host_field),
	    cmocka_unit_test(test_malformed_requests_refused),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
