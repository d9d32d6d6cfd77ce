/* Unit tests of Early Hints (src/edge/early_hints.c): which links of a Link field become
 * hints, and what the per-loop cache learns from a response. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "edge/early_hints.h"

static const char *select_links(const char *value, size_t cap)
{
	static char out[EARLY_HINTS_MAX + 1];
	size_t len = 0;

	early_hints_select(value, strlen(value), out, &len, cap);
	out[len] = '\0';
	return out;
}

static void test_only_hint_relations(void **state)
{
	assert_string_equal(
	    select_links("</a.css>; rel=preload; as=style, </b.css>; "
			 "rel=stylesheet, <https://cdn.example>; rel=preconnect",
			 EARLY_HINTS_MAX),
	    "</a.css>; rel=preload; as=style, <https://cdn.example>; rel=preconnect");
	assert_string_equal(select_links("</m.js>; REL=\"modulepreload\"", EARLY_HINTS_MAX),
			    "</m.js>; REL=\"modulepreload\"");
	/* one of several types; a type that only starts like a hint is not one */
	assert_string_equal(
	    select_links("</x>; rel=\"alternate preload\", </y>; rel=preloads", EARLY_HINTS_MAX),
	    "</x>; rel=\"alternate preload\"");
	assert_string_equal(select_links("</nothing>; as=style", EARLY_HINTS_MAX), "");
}

static void test_commas_inside_uri_and_quotes(void **state)
{
	assert_string_equal(select_links("</a,b.css>; title=\"x, rel=preload\"; rel=preload, "
					 "</c>; title=\"rel=preload, y\"",
					 EARLY_HINTS_MAX),
			    "</a,b.css>; title=\"x, rel=preload\"; rel=preload");
}

static void test_malformed_skipped(void **state)
{
	assert_string_equal(select_links("a.css; rel=preload, </ok>; rel=preload", EARLY_HINTS_MAX),
			    "</ok>; rel=preload");
	assert_string_equal(select_links("</unterminated; rel=preload", EARLY_HINTS_MAX), "");
	assert_string_equal(select_links("</q>; rel=\"preload", EARLY_HINTS_MAX), "");
	assert_string_equal(select_links(", , ;;, <", EARLY_HINTS_MAX), "");
}

static void test_cap_leaves_out_what_does_not_fit(void **state)
{
	assert_string_equal(select_links("</a>; rel=preload, </much-longer>; rel=preload, </b>; "
					 "rel=preload",
					 36),
			    "</a>; rel=preload, </b>; rel=preload");
}

static const char *learn(struct hint_cache *hc, const char *path, const char *response)
{
	static struct http_field fields[16];
	static struct http_head head = {.fields = fields, .max_fields = 16};

	http_head_reset(&head, 1);
	assert_int_equal(http_head_scan(&head, response, strlen(response)), 1);
	hint_cache_learn(hc, "app.example.com", path, strlen(path), &head);
	return hint_cache_lookup(hc, "app.example.com", path, strlen(path));
}

static void test_cache_learns_html_pages_only(void **state)
{
	struct hint_cache *hc = hint_cache_create();
	const char *links;

	assert_non_null(hc);
	links = learn(hc, "/",
		      "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
		      "Link: </a.css>; rel=preload; as=style\r\n"
		      "Link: <https://fonts.example>; rel=preconnect\r\n\r\n");
	assert_string_equal(
	    links, "</a.css>; rel=preload; as=style, <https://fonts.example>; rel=preconnect");
	assert_null(hint_cache_lookup(hc, "other.example.com", "/", 1));
	assert_null(hint_cache_lookup(hc, "app.example.com", "/?q", 3));
	/* not a page, or not a 200: nothing learnt, nothing forgotten */
	assert_null(learn(hc, "/api",
			  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			  "Link: </a.css>; rel=preload\r\n\r\n"));
	assert_string_equal(
	    learn(hc, "/",
		  "HTTP/1.1 500 Oops\r\nContent-Type: text/html\r\n"
		  "Link: </b.css>; rel=preload\r\n\r\n"),
	    "</a.css>; rel=preload; as=style, <https://fonts.example>; rel=preconnect");
	assert_null(learn(hc, "/x",
			  "HTTP/1.1 200 OK\r\nContent-Type: text/htmlx\r\n"
			  "Link: </b.css>; rel=preload\r\n\r\n"));
	/* the page changed: its new hints, then none */
	assert_string_equal(learn(hc, "/",
				  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
				  "Link: </b.css>; rel=preload\r\n\r\n"),
			    "</b.css>; rel=preload");
	assert_null(learn(hc, "/", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"));
	hint_cache_destroy(hc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_hint_relations),
	    cmocka_unit_test(test_commas_inside_uri_and_quotes),
	    cmocka_unit_test(test_malformed_skipped),
	    cmocka_unit_test(test_cap_leaves_out_what_does_not_fit),
	    cmocka_unit_test(test_cache_learns_html_pages_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
