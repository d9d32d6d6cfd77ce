/* Page arithmetic of Cloudflare's list endpoints (pure functions, unit-tested). */
#ifndef SAASEDGE_API_PAGINATION_H
#define SAASEDGE_API_PAGINATION_H

#include <stddef.h>
#include <stdint.h>

#define API_PER_PAGE_MIN 5
#define API_PER_PAGE_MAX 1000
#define API_PER_PAGE_DEFAULT 20

struct api_page {
	int64_t page;     /* from 1 */
	int64_t per_page; /* API_PER_PAGE_MIN..API_PER_PAGE_MAX */
};

/* Parses the "page" and "per_page" query values (NULL = absent) into OUT. On a bad value returns
 * -1 and writes a message naming the parameter into ERR. */
int api_page_parse(const char *page, const char *per_page, struct api_page *out, char *err,
		   size_t err_len);
/* Rows to skip for PAGE (saturates instead of overflowing for absurd pages). */
int64_t api_page_offset(const struct api_page *page);
/* ceil(total / per_page); 0 when TOTAL is 0. */
int64_t api_page_total_pages(int64_t total, int64_t per_page);

#endif
