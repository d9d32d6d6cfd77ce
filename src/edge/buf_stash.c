/* Buffers that closed connections and finished exchanges give back, kept by their loop for the
 * next ones (no lock: only the loop's thread uses its stash). Two sizes are kept, the ones
 * every exchange allocates: a request head's (edge.max_header_bytes + 1) and a relay's
 * (RELAY_BUF); any other is freed. Last in, first out, so a buffer taken is one that is likely
 * still in the CPU's cache.
 *
 * Why: an HTTP/2 stream is an exchange of its own, and each allocated and freed a head buffer
 * and two relay buffers; for small requests the allocator's bookkeeping of those blocks cost
 * more than the rest of the stream's own work (nginx takes its buffers from per-request pools). */
#include "edge/conn_int.h"

#include <stdlib.h>

void buf_stash_init(struct edge_loop *l)
{
	l->stash[0].cap = RELAY_BUF;
	l->stash[1].cap = (size_t)l->edge->cfg->edge.max_header_bytes + 1;
}

static struct buf_stash *stash_of(struct edge_loop *l, size_t cap)
{
	for (size_t i = 0; i < sizeof(l->stash) / sizeof(l->stash[0]); i++)
		if (l->stash[i].cap == cap)
			return &l->stash[i];
	return NULL;
}

char *buf_stash_take(struct edge_loop *l, size_t cap)
{
	struct buf_stash *s = stash_of(l, cap);

	if (s && s->n > 0)
		return s->bufs[--s->n];
	return malloc(cap);
}

void buf_stash_give(struct edge_loop *l, struct buf *b)
{
	struct buf_stash *s = b->data ? stash_of(l, b->cap) : NULL;

	if (s && s->n < BUF_STASH_MAX)
		s->bufs[s->n++] = b->data;
	else
		free(b->data);
	*b = (struct buf){0};
}

void buf_stash_dispose(struct edge_loop *l)
{
	for (size_t i = 0; i < sizeof(l->stash) / sizeof(l->stash[0]); i++) {
		while (l->stash[i].n > 0)
			free(l->stash[i].bufs[--l->stash[i].n]);
	}
}
