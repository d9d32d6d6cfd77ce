/* The operator commands' API client (api_client.h). */
#include "cli/api_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define CONNECT_TIMEOUT_S 10
#define TOTAL_TIMEOUT_S   60
#define ANSWER_MAX        (64 * 1024 * 1024) /* a page of hostnames is far smaller */

struct api_client {
	CURL *curl;
	char *base;   /* URL + "/client/v4" */
	char *bearer; /* "Authorization: Bearer " TOKEN */
};

struct answer {
	char *data;
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *grown;

	if (a->len + n > ANSWER_MAX || !(grown = realloc(a->data, a->len + n + 1)))
		return 0; /* curl then fails the transfer */
	memcpy(grown + a->len, data, n);
	a->data = grown;
	a->len += n;
	a->data[a->len] = '\0';
	return n;
}

struct api_client *api_client_new(const char *url, const char *token)
{
	struct api_client *c = calloc(1, sizeof(*c));
	size_t n = strlen(url);

	while (n && url[n - 1] == '/')
		n--;
	if (c && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		c->curl = curl_easy_init();
	if (c && c->curl) {
		c->base = malloc(n + sizeof("/client/v4"));
		c->bearer = malloc(strlen(token) + sizeof("Authorization: Bearer "));
	}
	if (!c || !c->curl || !c->base || !c->bearer) {
		cli_error("cannot start an HTTP client (out of memory or libcurl failed)");
		api_client_free(c);
		return NULL;
	}
	memcpy(c->base, url, n);
	strcpy(c->base + n, "/client/v4");
	strcpy(c->bearer, "Authorization: Bearer ");
	strcat(c->bearer, token);
	return c;
}

void api_client_free(struct api_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->base);
	if (c->bearer) /* the token is a secret: not left in freed memory */
		memset(c->bearer, 0, strlen(c->bearer));
	free(c->bearer);
	free(c);
}

char *api_client_escape(struct api_client *c, const char *part)
{
	char *e = curl_easy_escape(c->curl, part, 0);
	char *out = e ? strdup(e) : NULL;

	curl_free(e);
	return out;
}

/* The API's errors from ENVELOPE on stderr, one line each: "CODE: MESSAGE". */
static void print_errors(const json_t *envelope, long status)
{
	json_t *errors = json_object_get(envelope, "errors"), *e;
	size_t i;

	if (!json_array_size(errors)) {
		cli_error("the API answered %ld without saying why", status);
		return;
	}
	json_array_foreach(errors, i, e)
	{
		cli_error("%lld: %s", (long long)json_integer_value(json_object_get(e, "code")),
			  json_string_value(json_object_get(e, "message"))
			      ? json_string_value(json_object_get(e, "message"))
			      : "(no message)");
	}
}

int api_client_call(struct api_client *c, const char *method, const char *path, json_t *body,
		    json_t **envelope, long *status)
{
	struct answer a = {0};
	struct curl_slist *headers = NULL;
	char *url = malloc(strlen(c->base) + strlen(path) + 1), *text = NULL;
	long code = 0;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	json_error_t jerr;

	*envelope = NULL;
	if (status)
		*status = 0;
	if (body)
		text = json_dumps(body, JSON_COMPACT);
	headers = curl_slist_append(headers, c->bearer);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	if (url && headers && (!body || text)) {
		strcpy(url, c->base);
		strcat(url, path);
		curl_easy_reset(c->curl);
		curl_easy_setopt(c->curl, CURLOPT_URL, url);
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "saasedge-cli");
		curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long)TOTAL_TIMEOUT_S);
		curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &a);
		curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
		if (text)
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
		rc = curl_easy_perform(c->curl);
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	}
	curl_slist_free_all(headers);
	free(text);
	if (status)
		*status = code;
	if (rc != CURLE_OK) {
		cli_error("%s %s: %s", method, url ? url : path, curl_easy_strerror(rc));
		free(url);
		free(a.data);
		return CLI_EXIT_FAIL;
	}
	*envelope = a.data ? json_loadb(a.data, a.len, 0, &jerr) : NULL;
	free(a.data);
	if (!json_is_object(*envelope)) {
		cli_error("%s %s: the answer (%ld) is not the API's JSON: is this saasedge's API?",
			  method, url, code);
		free(url);
		json_decref(*envelope);
		*envelope = NULL;
		return CLI_EXIT_FAIL;
	}
	free(url);
	if (!json_is_true(json_object_get(*envelope, "success"))) {
		print_errors(*envelope, code);
		json_decref(*envelope);
		*envelope = NULL;
		return CLI_EXIT_FAIL;
	}
	return 0;
}
