/* The approval page of email DCV, served by the API outside /client/v4: whoever holds the
 * mailed link may approve, so the link's token is the only credential. GET shows the page (mail
 * scanners fetch links, so it changes nothing); only POST approves. */
#ifndef SAASEDGE_API_ROUTES_APPROVAL_H
#define SAASEDGE_API_ROUTES_APPROVAL_H

#include "store/store.h"

/* An HTML answer. */
struct api_html {
	unsigned status;
	char *html; /* owned (malloc'd); NULL when out of memory */
};

/* 1 when URL (the raw request path) is an approval link's, else 0. */
int api_approval_match(const char *url);

/* Answers METHOD on the approval link URL into PAGE (caller frees page->html): the page for a
 * pending link, the approval for a POST on one, 404 for an unknown token, 410 for a used or
 * expired one (nothing changed), 405 for other methods. Runs on an API thread; reads and writes
 * only the store. */
void api_approval_serve(struct store *st, const char *method, const char *url,
			struct api_html *page);

#endif
