/* Early Hints (early_hints.h): the Link parser (RFC 8288 3: link-value = "<" URI-Reference ">"
 * *( OWS ";" OWS link-param ), several separated by commas; a comma may also sit inside the
 * URI or a quoted-string) and the per-loop cache, direct-mapped: a new page takes its slot
 * from whatever was there, so memory stays bounded however many paths are visited. */
#include "edge/early_hints.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HINT_SLOTS    1024
#define HINT_PATH_MAX 1024 /* longer paths are not remembered */

struct hint_slot {
	uint64_t hash;
	char *key;   /* HOST "\n" PATH */
	char *links; /* what a 103 carries */
};

struct hint_cache {
	struct hint_slot slots[HINT_SLOTS];
};

/* ---- the Link field ------------------------------------------------------------------------ */

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The index just past the quoted-string starting at V[I] (a '"'); LEN, with *CLOSED 0, when it
 * never ends. */
static size_t skip_quoted(const char *v, size_t len, size_t i, int *closed)
{
	*closed = 0;
	for (i++; i < len; i++) {
		if (v[i] == '\\') {
			i++;
		} else if (v[i] == '"') {
			*closed = 1;
			return i + 1;
		}
	}
	return len;
}

/* Past one character of a link, a quoted-string at once. */
static size_t skip_one(const char *v, size_t len, size_t i)
{
	int closed;

	return v[i] == '"' ? skip_quoted(v, len, i, &closed) : i + 1;
}

/* 1 when the relation types REL (space-separated) name a hint a browser acts on early. */
static int rel_is_hint(const char *rel, size_t n)
{
	static const char *const hints[] = {"preload", "preconnect", "modulepreload"};
	size_t i = 0;

	while (i < n) {
		size_t start;

		while (i < n && is_ows(rel[i]))
			i++;
		start = i;
		while (i < n && !is_ows(rel[i]))
			i++;
		for (size_t k = 0; k < sizeof(hints) / sizeof(hints[0]); k++) {
			if (i - start == strlen(hints[k]) &&
			    strncasecmp(rel + start, hints[k], i - start) == 0)
				return 1;
		}
	}
	return 0;
}

/* One link-param at V[*I] (just past its ';'): *I moves past it; 1 when it is a rel naming a
 * hint. */
static int param_is_hint(const char *v, size_t len, size_t *i)
{
	size_t p = *i, name, name_end, val, val_end;

	while (p < len && is_ows(v[p]))
		p++;
	name = p;
	while (p < len && v[p] != '=' && v[p] != ';' && v[p] != ',' && !is_ows(v[p]))
		p++;
	name_end = p;
	while (p < len && is_ows(v[p]))
		p++;
	if (p >= len || v[p] != '=') {
		*i = p;
		return 0;
	}
	p++;
	while (p < len && is_ows(v[p]))
		p++;
	val = p;
	if (p < len && v[p] == '"') {
		int closed;

		p = skip_quoted(v, len, p, &closed);
		if (!closed) {
			*i = p;
			return 0;
		}
		val++;
		val_end = p - 1;
	} else {
		while (p < len && v[p] != ';' && v[p] != ',' && !is_ows(v[p]))
			p++;
		val_end = p;
	}
	*i = p;
	return name_end - name == 3 && strncasecmp(v + name, "rel", 3) == 0 && val_end > val &&
	       rel_is_hint(v + val, val_end - val);
}

size_t early_hints_select(const char *v, size_t len, char *out, size_t *out_len, size_t cap)
{
	size_t i = 0, added = 0;

	while (i < len) {
		size_t start, end;
		const char *gt;
		int wanted = 0;

		while (i < len && (is_ows(v[i]) || v[i] == ','))
			i++;
		if (i >= len)
			break;
		start = i;
		if (v[i] != '<' || !(gt = memchr(v + i, '>', len - i))) {
			while (i < len && v[i] != ',') /* not a link-value: skip to the next one */
				i = skip_one(v, len, i);
			continue;
		}
		i = (size_t)(gt - v) + 1;
		while (i < len && v[i] != ',') {
			if (v[i] == ';') {
				i++;
				wanted |= param_is_hint(v, len, &i);
			} else {
				i = skip_one(v, len, i);
			}
		}
		end = i;
		while (end > start && is_ows(v[end - 1]))
			end--;
		if (!wanted || *out_len + (*out_len ? 2 : 0) + (end - start) > cap)
			continue;
		if (*out_len) {
			memcpy(out + *out_len, ", ", 2);
			*out_len += 2;
		}
		memcpy(out + *out_len, v + start, end - start);
		*out_len += end - start;
		added++;
	}
	return added;
}

/* ---- the cache ------------------------------------------------------------------------------ */

struct hint_cache *hint_cache_create(void)
{
	return calloc(1, sizeof(struct hint_cache));
}

void hint_cache_destroy(struct hint_cache *hc)
{
	if (!hc)
		return;
	for (size_t i = 0; i < HINT_SLOTS; i++) {
		free(hc->slots[i].key);
		free(hc->slots[i].links);
	}
	free(hc);
}

/* FNV-1a over HOST "\n" PATH. */
static uint64_t key_hash(const char *host, const char *path, size_t path_len)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = host; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '\n') * 1099511628211ULL;
	for (size_t i = 0; i < path_len; i++)
		h = (h ^ (unsigned char)path[i]) * 1099511628211ULL;
	return h;
}

static int key_is(const struct hint_slot *s, uint64_t hash, const char *host, const char *path,
		  size_t path_len)
{
	size_t host_len = strlen(host);

	return s->key && s->hash == hash && strncmp(s->key, host, host_len) == 0 &&
	       s->key[host_len] == '\n' && strlen(s->key + host_len + 1) == path_len &&
	       memcmp(s->key + host_len + 1, path, path_len) == 0;
}

const char *hint_cache_lookup(const struct hint_cache *hc, const char *host, const char *path,
			      size_t path_len)
{
	uint64_t hash = key_hash(host, path, path_len);
	const struct hint_slot *s = &hc->slots[hash % HINT_SLOTS];

	return key_is(s, hash, host, path, path_len) ? s->links : NULL;
}

/* 1 when R's Content-Type is text/html. */
static int is_html(const struct http_head *r)
{
	for (size_t i = 0; i < r->n_fields; i++) {
		const struct http_field *f = &r->fields[i];

		if (http_name_is(f->name, f->name_len, "content-type"))
			return f->value_len >= 9 && strncasecmp(f->value, "text/html", 9) == 0 &&
			       (f->value_len == 9 || f->value[9] == ';' || is_ows(f->value[9]));
	}
	return 0;
}

void hint_cache_learn(struct hint_cache *hc, const char *host, const char *path, size_t path_len,
		      const struct http_head *r)
{
	char links[EARLY_HINTS_MAX];
	size_t links_len = 0, host_len = strlen(host);
	uint64_t hash;
	struct hint_slot *s;
	char *key, *copy;

	if (r->status != 200 || !is_html(r) || path_len > HINT_PATH_MAX)
		return;
	for (size_t i = 0; i < r->n_fields; i++) {
		if (http_name_is(r->fields[i].name, r->fields[i].name_len, "link"))
			early_hints_select(r->fields[i].value, r->fields[i].value_len, links,
					   &links_len, sizeof(links));
	}
	hash = key_hash(host, path, path_len);
	s = &hc->slots[hash % HINT_SLOTS];
	if (links_len == 0) { /* the page has no hints now: forget those it had */
		if (key_is(s, hash, host, path, path_len)) {
			free(s->key);
			free(s->links);
			*s = (struct hint_slot){0};
		}
		return;
	}
	key = malloc(host_len + 1 + path_len + 1);
	copy = malloc(links_len + 1);
	if (!key || !copy) {
		free(key);
		free(copy);
		return;
	}
	memcpy(key, host, host_len);
	key[host_len] = '\n';
	memcpy(key + host_len + 1, path, path_len);
	key[host_len + 1 + path_len] = '\0';
	memcpy(copy, links, links_len);
	copy[links_len] = '\0';
	free(s->key);
	free(s->links);
	*s = (struct hint_slot){.hash = hash, .key = key, .links = copy};
}
