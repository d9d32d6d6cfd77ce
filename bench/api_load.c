/* API latency benchmark: creates N custom hostnames through the API, then gets and lists
 * (filtered by hostname) random ones of them, and prints p50/p99/max per operation.
 *
 * Method: C connections (default 1) over HTTP/1.1 keep-alive with libcurl, each request timed
 * from before curl_easy_perform to after the full response (CLOCK_MONOTONIC). Only requests are
 * timed: hostname names, JSON bodies and URLs are built before the clock starts. Every response
 * status is checked; a wrong one aborts the run.
 *
 * usage: api_load --base URL --zone ID --token T [-n N] [-c C] [--reads R] */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct options {
	const char *base, *zone, *token;
	long n, connections, reads;
};

struct worker {
	const struct options *opt;
	long first, count; /* hostname indexes this worker creates or reads */
	int reading;       /* 0: create; 1: get and list */
	double *create_ms, *get_ms, *list_ms;
	char **ids;        /* hostname ids, filled by creates */
	unsigned seed;
	int failed;
};

static char run_tag[16];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct buffer {
	char data[8192];
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct buffer *b = ud;
	size_t take = size * n;

	if (take > sizeof(b->data) - 1 - b->len)
		take = sizeof(b->data) - 1 - b->len;
	memcpy(b->data + b->len, p, take);
	b->len += take;
	b->data[b->len] = '\0';
	return size * n;
}

/* One timed request; returns its duration in ms, or -1 when the status is not EXPECT. */
static double timed(CURL *c, const char *method, const char *url, const char *body, long expect,
		    struct buffer *out)
{
	long status = 0;

	out->len = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPGET, body ? 0L : 1L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	double start = now_ms();
	CURLcode rc = curl_easy_perform(c);
	double took = now_ms() - start;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || status != expect) {
		fprintf(stderr, "api_load: %s %s -> %ld (%s) %s\n", method, url, status,
			curl_easy_strerror(rc), out->data);
		return -1;
	}
	return took;
}

static CURL *client(const struct options *opt, struct curl_slist **headers)
{
	char auth[128];
	CURL *c = curl_easy_init();

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", opt->token);
	*headers = curl_slist_append(NULL, auth);
	*headers = curl_slist_append(*headers, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	return c;
}

static void hostname_of(long i, char *out, size_t n)
{
	snprintf(out, n, "app-%ld.%s-customer.com", i, run_tag);
}

static void do_creates(struct worker *w, CURL *c, struct buffer *buf)
{
	char url[512], body[512], name[256];

	snprintf(url, sizeof(url), "%s/zones/%s/custom_hostnames", w->opt->base, w->opt->zone);
	for (long i = w->first; i < w->first + w->count && !w->failed; i++) {
		hostname_of(i, name, sizeof(name));
		snprintf(body, sizeof(body),
			 "{\"hostname\":\"%s\",\"ssl\":{\"method\":\"http\",\"type\":\"dv\"},"
			 "\"custom_metadata\":{\"customer\":\"%ld\"}}",
			 name, i);
		double ms = timed(c, "POST", url, body, 201, buf);
		if (ms < 0) {
			w->failed = 1;
			break;
		}
		w->create_ms[i] = ms;
		const char *id = strstr(buf->data, "\"id\":\"");
		w->ids[i] = id ? strndup(id + 6, 36) : NULL;
	}
}

static void do_reads(struct worker *w, CURL *c, struct buffer *buf)
{
	char url[512], name[256];

	for (long k = w->first; k < w->first + w->count && !w->failed; k++) {
		long i = (long)(rand_r(&w->seed) % (unsigned)w->opt->n);
		snprintf(url, sizeof(url), "%s/zones/%s/custom_hostnames/%s", w->opt->base,
			 w->opt->zone, w->ids[i]);
		double get = timed(c, "GET", url, NULL, 200, buf);
		hostname_of(i, name, sizeof(name));
		snprintf(url, sizeof(url), "%s/zones/%s/custom_hostnames?hostname=%s", w->opt->base,
			 w->opt->zone, name);
		double list = timed(c, "GET", url, NULL, 200, buf);
		if (get < 0 || list < 0 || !strstr(buf->data, "\"total_count\":1")) {
			fprintf(stderr, "api_load: list by hostname %s did not find it\n", name);
			w->failed = 1;
			break;
		}
		w->get_ms[k] = get;
		w->list_ms[k] = list;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct curl_slist *headers;
	struct buffer *buf = malloc(sizeof(*buf));
	CURL *c = client(w->opt, &headers);

	curl_easy_setopt(c, CURLOPT_WRITEDATA, buf);
	if (w->reading)
		do_reads(w, c, buf);
	else
		do_creates(w, c, buf);
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	free(buf);
	return NULL;
}

static int run_phase(struct worker *proto, long total, const struct options *opt)
{
	pthread_t threads[64];
	struct worker workers[64];
	long per = total / opt->connections;
	int failed = 0;

	for (long t = 0; t < opt->connections; t++) {
		workers[t] = *proto;
		workers[t].first = t * per;
		workers[t].count = t == opt->connections - 1 ? total - t * per : per;
		workers[t].seed = (unsigned)(t * 7919 + 1);
		pthread_create(&threads[t], NULL, work, &workers[t]);
	}
	for (long t = 0; t < opt->connections; t++) {
		pthread_join(threads[t], NULL);
		failed |= workers[t].failed;
	}
	return failed;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, double *ms, long n)
{
	qsort(ms, (size_t)n, sizeof(double), by_value);
	printf("  %-34s %8ld %9.3f %9.3f %9.3f\n", what, n, ms[(n - 1) / 2],
	       ms[(long)((double)(n - 1) * 0.99)], ms[n - 1]);
}

static int parse(int argc, char **argv, struct options *opt)
{
	opt->n = 1000;
	opt->connections = 1;
	opt->reads = 2000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--base"))
			opt->base = argv[i + 1];
		else if (!strcmp(argv[i], "--zone"))
			opt->zone = argv[i + 1];
		else if (!strcmp(argv[i], "--token"))
			opt->token = argv[i + 1];
		else if (!strcmp(argv[i], "-n"))
			opt->n = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "-c"))
			opt->connections = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--reads"))
			opt->reads = atol(argv[i + 1]);
		else
			return -1;
	}
	return opt->base && opt->zone && opt->token && opt->n > 0 && opt->connections > 0 &&
			       opt->connections <= 64 && opt->reads > 0
		       ? 0
		       : -1;
}

int main(int argc, char **argv)
{
	struct options opt = {0};

	if (parse(argc, argv, &opt)) {
		fprintf(stderr, "usage: api_load --base URL --zone ID --token T [-n N] [-c C] "
				"[--reads R]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(run_tag, sizeof(run_tag), "b%lx", (unsigned long)time(NULL) % 0xfffff);
	struct worker proto = {.opt = &opt};
	proto.create_ms = calloc((size_t)opt.n, sizeof(double));
	proto.get_ms = calloc((size_t)opt.reads, sizeof(double));
	proto.list_ms = calloc((size_t)opt.reads, sizeof(double));
	proto.ids = calloc((size_t)opt.n, sizeof(char *));

	double start = now_ms();
	if (run_phase(&proto, opt.n, &opt))
		return 1;
	double create_s = (now_ms() - start) / 1e3;
	proto.reading = 1;
	if (run_phase(&proto, opt.reads, &opt))
		return 1;

	printf("api_load: %ld creates over %ld keep-alive connection(s) in %.1f s (%.0f/s), then "
	       "%ld random gets and %ld lists filtered by ?hostname= with %ld rows in the zone\n",
	       opt.n, opt.connections, create_s, (double)opt.n / create_s, opt.reads, opt.reads,
	       opt.n);
	printf("  %-34s %8s %9s %9s %9s\n", "operation", "n", "p50 ms", "p99 ms", "max ms");
	long tail = opt.n / 10 > 0 ? opt.n / 10 : 1;
	double *last = malloc((size_t)tail * sizeof(double));
	memcpy(last, proto.create_ms + opt.n - tail, (size_t)tail * sizeof(double));
	report("create (all)", proto.create_ms, opt.n);
	report("create (last 10%: zone nearly full)", last, tail);
	report("get by id", proto.get_ms, opt.reads);
	report("list ?hostname=<name>", proto.list_ms, opt.reads);
	for (long i = 0; i < opt.n; i++)
		free(proto.ids[i]);
	free(proto.ids);
	free(last);
	free(proto.create_ms);
	free(proto.get_ms);
	free(proto.list_ms);
	curl_global_cleanup();
	return 0;
}
