/* Unit tests of the edge's chunked body framer (src/edge/http_body.c): trailer fields checked,
 * filtered and passed on, re-encoded or, for HTTP/2 clients, handed over as lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "edge/http_frame.h"

/* Frames the chunked body IN, arriving PIECE bytes at a time, in place behind its input as the
 * edge runs it: the bytes written into OUT (NUL-terminated), the trailer lines of a decoded
 * body into TRAILERS; the bytes taken, or -1 when malformed. */
static ssize_t frame(const char *in, size_t piece, int decode, char *out, char *trailers)
{
	struct http_body b;
	char buf[HTTP_BODY_SLACK + 64];
	size_t n = strlen(in), done = 0, o = 0, t = 0;

	assert_true(piece <= 64);
	http_body_start(&b, HTTP_BODY_CHUNKED, 0);
	if (decode)
		http_body_decode(&b);
	while (done < n && !b.done) {
		size_t len = n - done < piece ? n - done : piece, got, t_got;
		ssize_t used;

		memcpy(buf + HTTP_BODY_SLACK, in + done, len);
		used = http_body_step_trailers(&b, buf + HTTP_BODY_SLACK, len, buf, &got,
					       trailers ? trailers + t : NULL, &t_got);
		if (used < 0)
			return -1;
		memcpy(out + o, buf, got);
		o += got;
		t += t_got;
		done += (size_t)used;
	}
	out[o] = '\0';
	if (trailers)
		trailers[t] = '\0';
	return b.done ? (ssize_t)done : 0;
}

static const char body[] = "3\r\nabc\r\n0\r\n"
			   "Server-Timing: db;dur=53\r\n"
			   "Content-Length: 9\r\n"
			   "X-Forwarded-For: 10.0.0.1\r\n"
			   "host: evil.example\r\n"
			   "Set-Cookie: a=b\r\n"
			   "If-Match: *\r\n"
			   "Content-Type: text/evil\r\n"
			   "Content-Digest: sha-256=:AAAA=:\r\n"
			   "grpc-status: 0\r\n"
			   "\r\n";

static void test_trailers_filtered_and_passed_on(void **state)
{
	static const char last[] = "\r\n0\r\n"
				   "Server-Timing: db;dur=53\r\n"
				   "Content-Digest: sha-256=:AAAA=:\r\n"
				   "grpc-status: 0\r\n"
				   "\r\n";
	char out[512];

	assert_int_equal(frame(body, 64, 0, out, NULL), (ssize_t)strlen(body));
	assert_memory_equal(out, "3\r\nabc", 6);
	assert_string_equal(out + 6, last);
	/* whatever the pieces (the data then comes in chunks of their size), the same trailers */
	for (size_t piece = 1; piece <= 64; piece++) {
		assert_int_equal(frame(body, piece, 0, out, NULL), (ssize_t)strlen(body));
		assert_true(strlen(out) > strlen(last));
		assert_string_equal(out + strlen(out) - strlen(last), last);
	}
}

static void test_decoded_body_hands_trailers_over(void **state)
{
	char out[512], trailers[512];

	for (size_t piece = 1; piece <= 64; piece++) {
		assert_int_equal(frame(body, piece, 1, out, trailers), (ssize_t)strlen(body));
		assert_string_equal(out, "abc");
		assert_string_equal(trailers, "Server-Timing: db;dur=53\r\n"
					      "Content-Digest: sha-256=:AAAA=:\r\n"
					      "grpc-status: 0\r\n");
	}
	/* without a place for them they are dropped */
	assert_int_equal(frame(body, 7, 1, out, NULL), (ssize_t)strlen(body));
	assert_string_equal(out, "abc");
}

static void test_long_trailer_name_dropped(void **state)
{
	char name[HTTP_TRAILER_NAME_MAX + 2], in[256], out[512];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(in, sizeof(in), "1\r\na\r\n0\r\n%s: 1\r\n%.*s: 2\r\n\r\n", name,
		 HTTP_TRAILER_NAME_MAX, name);
	for (size_t piece = 1; piece <= 64; piece++) {
		assert_int_equal(frame(in, piece, 0, out, NULL), (ssize_t)strlen(in));
		/* the longest name that passes is written before the slack runs out */
		assert_true(strstr(out, "\r\n0\r\nxxxx") != NULL);
		assert_null(strstr(out, ": 1"));
		assert_non_null(strstr(out, ": 2\r\n\r\n"));
	}
}

static void test_no_trailers_last_chunk(void **state)
{
	char out[64];

	assert_int_equal(frame("0\r\n\r\n", 1, 0, out, NULL), 5);
	assert_string_equal(out, "0\r\n\r\n");
	assert_int_equal(frame("0;ext=1\r\n\r\n", 3, 0, out, NULL), 11);
	assert_string_equal(out, "0\r\n\r\n");
}

static void test_malformed_trailers_refused(void **state)
{
	static const char *const bad[] = {
	    "0\r\nX-T : 1\r\n\r\n",   /* whitespace before the colon */
	    "0\r\nX-T: 1\n\r\n",      /* bare LF */
	    "0\r\nX-T: a\rb\r\n\r\n", /* bare CR */
	    "0\r\n folded\r\n\r\n",   /* obs-fold */
	    "0\r\nX(T): 1\r\n\r\n",   /* not a token */
	    "0\r\nX-T: \x01\r\n\r\n", /* a control character */
	};
	char out[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(frame(bad[i], 64, 0, out, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trailers_filtered_and_passed_on),
	    cmocka_unit_test(test_decoded_body_hands_trailers_over),
	    cmocka_unit_test(test_long_trailer_name_dropped),
	    cmocka_unit_test(test_no_trailers_last_chunk),
	    cmocka_unit_test(test_malformed_trailers_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
