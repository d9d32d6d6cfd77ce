/* Unit tests of src/lib/log.c's escaping: a value with CR LF cannot forge a second log line,
 * control bytes, DEL, non-ASCII and backslashes are escaped, plain lines are unchanged, and a
 * long line is cut without breaking an escape; and of log.format=json: the same fields as one
 * JSON object, which no value can break out of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/log.h"

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
	log_capture(line, sizeof(line),
		    "x\r\nts=2026-01-01T00:00:00.000Z level=error msg=\"forged\"");
	nl = strchr(line, '\n');
	assert_non_null(nl);
	assert_string_equal(nl, "\n"); /* one line, ended by the logger's own newline */
	assert_null(strchr(line, '\r'));
	assert_non_null(strstr(line, "hostname=x\\r\\nts=2026-01-01T00:00:00.000Z level=error"));
	assert_non_null(strstr(line, " end=1\n"));

	log_capture(line, sizeof(line), "a\x01\x1b[31m\x7f\xc3\xa9\tb\\n");
	assert_non_null(strstr(line, "hostname=a\\x01\\x1b[31m\\x7f\\xc3\\xa9\\tb\\\\n end=1\n"));

	log_capture(line, sizeof(line), "plain.example.com");
	assert_non_null(
	    strstr(line, "level=info edge msg=\"test\" hostname=plain.example.com end=1\n"));

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

static void test_json_fields(void **state)
{
	char out[512];

	log_logfmt_to_json("ts=2026-12-05T00:00:00.000Z level=info edge msg=\"edge serving\" "
			   "https_port=443 workers=2",
			   out, sizeof(out));
	assert_string_equal(out, "{\"ts\":\"2026-12-05T00:00:00.000Z\",\"level\":\"info\","
				 "\"component\":\"edge\",\"msg\":\"edge serving\","
				 "\"https_port\":\"443\",\"workers\":\"2\"}");
	/* a quote or a backslash inside a value stays inside a string (logfmt has no escape for a
	 * quote followed by a space: the value ends there, as a logfmt reader would end it) */
	log_logfmt_to_json("msg=\"say \"hi\" x=1\" path=a\\x0a\\\\b", out, sizeof(out));
	assert_string_equal(out, "{\"msg\":\"say \\\"hi\",\"x\":\"1\\\"\","
				 "\"path\":\"a\\\\x0a\\\\\\\\b\"}");
	log_logfmt_to_json("", out, sizeof(out));
	assert_string_equal(out, "{}");
	log_logfmt_to_json("msg=\"unterminated  k=", out, sizeof(out));
	assert_string_equal(out, "{\"msg\":\"unterminated  k=\"}");
}

static void test_json_cut_stays_an_object(void **state)
{
	char out[40];

	log_logfmt_to_json("ts=2026-12-05T00:00:00.000Z level=info msg=\"a long message\"", out,
			   sizeof(out));
	assert_string_equal(out, "{\"ts\":\"2026-12-05T00:00:00.000Z\"}");
}

static void test_json_written(void **state)
{
	char line[256];

	assert_int_not_equal(log_set_format("yaml"), 0);
	assert_int_equal(log_set_format("json"), 0);
	log_capture(line, sizeof(line), "a\r\nb");
	assert_non_null(strstr(line, "\"level\":\"info\",\"component\":\"edge\","
				     "\"msg\":\"test\",\"hostname\":\"a\\\\r\\\\nb\","
				     "\"end\":\"1\"}\n"));
	assert_string_equal(strchr(line, '\n'), "\n");
	assert_int_equal(log_set_format("logfmt"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_escaping),
	    cmocka_unit_test(test_json_fields),
	    cmocka_unit_test(test_json_cut_stays_an_object),
	    cmocka_unit_test(test_json_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
