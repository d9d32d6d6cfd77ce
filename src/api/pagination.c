#include "api/pagination.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Strict decimal: no sign, no spaces, no trailing characters. */
static int parse_count(const char *s, int64_t *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int api_page_parse(const char *page, const char *per_page, struct api_page *out, char *err,
		   size_t err_len)
{
	out->page = 1;
	out->per_page = API_PER_PAGE_DEFAULT;
	if (page && (parse_count(page, &out->page) || out->page < 1)) {
		snprintf(err, err_len, "page must be a whole number from 1 (got '%s')", page);
		return -1;
	}
	if (per_page && (parse_count(per_page, &out->per_page) ||
			 out->per_page < API_PER_PAGE_MIN || out->per_page > API_PER_PAGE_MAX)) {
		snprintf(err, err_len, "per_page must be a whole number from %d to %d (got '%s')",
			 API_PER_PAGE_MIN, API_PER_PAGE_MAX, per_page);
		return -1;
	}
	return 0;
}

int64_t api_page_offset(const struct api_page *page)
{
	if (page->page - 1 > INT64_MAX / page->per_page)
		return INT64_MAX;
	return (page->page - 1) * page->per_page;
}

int64_t api_page_total_pages(int64_t total, int64_t per_page)
{
	return total <= 0 ? 0 : (total - 1) / per_page + 1;
}
