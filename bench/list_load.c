/* List latency benchmark: times GETs of the custom-hostname list in the shapes a dashboard
 * sends (filters, orders, pages) and of single hostnames, against a zone that bench/list-latency
 * filled with N hostnames named h0.DOMAIN … h(N-1).DOMAIN, and prints p50/p99/max per shape.
 *
 * Method: one HTTP/1.1 keep-alive connection with libcurl; each request is timed from before
 * curl_easy_perform to after the whole response (CLOCK_MONOTONIC). URLs are built before the
 * clock starts; a get by id first looks the id up by name, untimed. Every status is checked and
 * every answer must hold what the shape asks for (a page of results, or the one hostname).
 *
 * usage: list_load --base URL --zone ID --token T --count N --domain D --reads R SHAPE…
 * SHAPE is LABEL=QUERY, QUERY the part after /zones/ID/custom_hostnames: "?per_page=50&page=
 * {page:50}" or "/{id}". Placeholders: {i} a random row index, {page:P} a random page of P rows,
 * {id} the id of a random row. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_MAX (4 * 1024 * 1024)

struct options {
	const char *base, *zone, *token, *domain;
	long count, reads;
};

struct body {
	char *data;
	size_t len;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	size_t take = size * n;

	if (take > BODY_MAX - 1 - b->len)
		take = BODY_MAX - 1 - b->len;
	memcpy(b->data + b->len, p, take);
	b->len += take;
	b->data[b->len] = '\0';
	return size * n;
}

/* GET URL; its duration in ms, or -1 when it did not answer 200. */
static double timed_get(CURL *c, const char *url, struct body *b)
{
	long status = 0;
	double start, took;
	CURLcode rc;

	b->len = 0;
	b->data[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	start = now_ms();
	rc = curl_easy_perform(c);
	took = now_ms() - start;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || status != 200) {
		fprintf(stderr, "list_load: GET %s -> %ld (%s) %.300s\n", url, status,
			curl_easy_strerror(rc), b->data);
		return -1;
	}
	return took;
}

/* The id of row I, looked up by name (untimed); 0 when found. */
static int id_of(CURL *c, const struct options *o, long i, struct body *b, char id[37])
{
	char url[1024];
	const char *p;

	snprintf(url, sizeof(url), "%s/zones/%s/custom_hostnames?hostname=h%ld.%s", o->base,
		 o->zone, i, o->domain);
	if (timed_get(c, url, b) < 0 || !(p = strstr(b->data, "\"id\":\"")))
		return -1;
	memcpy(id, p + 6, 36);
	id[36] = '\0';
	return 0;
}

/* QUERY with its placeholders filled into OUT; 0, or -1 for an unknown placeholder. */
static int expand(CURL *c, const struct options *o, const char *query, unsigned *seed,
		  struct body *b, char *out, size_t len)
{
	size_t k = (size_t)snprintf(out, len, "%s/zones/%s/custom_hostnames", o->base, o->zone);

	for (const char *q = query; *q && k < len - 1; q++) {
		long per = 0;
		char id[37];

		if (*q != '{') {
			out[k++] = *q;
			continue;
		}
		if (strncmp(q, "{i}", 3) == 0) {
			k += (size_t)snprintf(out + k, len - k, "%ld", (long)(rand_r(seed) % o->count));
			q += 2;
		} else if (sscanf(q, "{page:%ld}", &per) == 1 && per > 0) {
			long pages = (o->count + per - 1) / per;

			k += (size_t)snprintf(out + k, len - k, "%ld", 1 + (long)(rand_r(seed) % pages));
			q = strchr(q, '}');
		} else if (strncmp(q, "{id}", 4) == 0) {
			if (id_of(c, o, (long)(rand_r(seed) % o->count), b, id))
				return -1;
			k += (size_t)snprintf(out + k, len - k, "%s", id);
			q += 3;
		} else {
			return -1;
		}
	}
	out[k < len ? k : len - 1] = '\0';
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Times R requests of SHAPE ("LABEL=QUERY") and prints its line; 0, or -1 on a failure. */
static int run_shape(CURL *c, const struct options *o, const char *shape, struct body *b,
		     double *ms)
{
	const char *eq = strchr(shape, '=');
	unsigned seed = 12345;
	char url[2048];

	if (!eq)
		return -1;
	for (long r = 0; r < o->reads; r++) {
		if (expand(c, o, eq + 1, &seed, b, url, sizeof(url)) ||
		    (ms[r] = timed_get(c, url, b)) < 0)
			return -1;
		/* Every shape asks for something that exists: an empty answer is a failure. */
		if (!strstr(b->data, "\"id\":\"")) {
			fprintf(stderr, "list_load: %s found nothing: %.300s\n", url, b->data);
			return -1;
		}
	}
	qsort(ms, (size_t)o->reads, sizeof(double), by_value);
	printf("  %-30.*s %6ld %9.3f %9.3f %9.3f   %s\n", (int)(eq - shape), shape, o->reads,
	       ms[(o->reads - 1) / 2], ms[(long)((double)(o->reads - 1) * 0.99)], ms[o->reads - 1],
	       eq + 1);
	fflush(stdout);
	return 0;
}

static int parse(int argc, char **argv, struct options *o, int *first_shape)
{
	int i;

	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--base"))
			o->base = argv[i + 1];
		else if (!strcmp(argv[i], "--zone"))
			o->zone = argv[i + 1];
		else if (!strcmp(argv[i], "--token"))
			o->token = argv[i + 1];
		else if (!strcmp(argv[i], "--domain"))
			o->domain = argv[i + 1];
		else if (!strcmp(argv[i], "--count"))
			o->count = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--reads"))
			o->reads = atol(argv[i + 1]);
		else
			return -1;
	}
	*first_shape = i;
	return o->base && o->zone && o->token && o->domain && o->count > 0 && o->reads > 0 &&
		       i < argc
		   ? 0
		   : -1;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct curl_slist *headers = NULL;
	struct body b = {0};
	char auth[256];
	double *ms;
	CURL *c;
	int first, rc = 0;

	if (parse(argc, argv, &o, &first)) {
		fprintf(stderr, "usage: list_load --base URL --zone ID --token T --count N --domain D "
				"--reads R LABEL=QUERY…\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	b.data = malloc(BODY_MAX);
	ms = calloc((size_t)o.reads, sizeof(double));
	if (!c || !b.data || !ms)
		return 1;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o.token);
	headers = curl_slist_append(NULL, auth);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	printf("  %-30s %6s %9s %9s %9s   %s\n", "shape", "n", "p50 ms", "p99 ms", "max ms",
	       "query");
	for (int i = first; i < argc && rc == 0; i++)
		rc = run_shape(c, &o, argv[i], &b, ms);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	free(b.data);
	free(ms);
	return rc ? 1 : 0;
}
