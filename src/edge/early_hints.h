/* 103 Early Hints from the Link fields of HTML responses, as Cloudflare sends them: for a
 * hostname whose ssl.settings.early_hints is "on", each loop remembers the preload, preconnect
 * and modulepreload links of the last HTML page it relayed for each path, and a later GET of
 * that path over HTTP/2 is sent them as a 103 before the origin has answered. Browsers act on
 * a 103 only over HTTP/2 and later, so HTTP/1.1 clients are sent none. Loop thread only. */
#ifndef SAASEDGE_EDGE_EARLY_HINTS_H
#define SAASEDGE_EDGE_EARLY_HINTS_H

#include <stddef.h>

#include "edge/http_frame.h"

#define EARLY_HINTS_MAX 2048 /* bytes of links sent in one 103 ("don't overhint") */

/* Appends to OUT (*out_len bytes so far, at most CAP) the links of the Link field VALUE (LEN
 * bytes, "<uri>; rel=preload; as=style, <uri>; rel=...") whose rel is preload, preconnect or
 * modulepreload, as they were written, ", " between two. A link that does not fit is left
 * out; malformed ones are skipped. Returns the number of links appended. */
size_t early_hints_select(const char *value, size_t len, char *out, size_t *out_len, size_t cap);

struct hint_cache;

/* NULL when out of memory. */
struct hint_cache *hint_cache_create(void);
void hint_cache_destroy(struct hint_cache *hc);

/* The links remembered for HOST and PATH (PATH_LEN bytes), or NULL. The string stays valid
 * until the cache is next changed. */
const char *hint_cache_lookup(const struct hint_cache *hc, const char *host, const char *path,
			      size_t path_len);

/* R is the final response to a GET of PATH on HOST: a 200 text/html page's links replace what
 * was remembered for it (a page without any forgets it); other responses change nothing. */
void hint_cache_learn(struct hint_cache *hc, const char *host, const char *path, size_t path_len,
		      const struct http_head *r);

#endif
