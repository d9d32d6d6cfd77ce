/* SMTP through libcurl: the message is uploaded from memory, the envelope comes from the
 * arguments. libcurl's own error text (connection refused, a server reply) goes into ERR; the
 * message body never does, since it carries the approval link. */
#include "issuer/smtp_send.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"

struct upload {
	const char *data;
	size_t left;
};

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t take = size * n < u->left ? size * n : u->left;

	memcpy(buf, u->data, take);
	u->data += take;
	u->left -= take;
	return take;
}

/* The bare address of FROM: what is inside "<…>", else FROM itself. */
static void envelope_of(const char *from, char *out, size_t len)
{
	const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt && gt)
		snprintf(out, len, "<%.*s>", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, len, "<%s>", from);
}

int smtp_send(const char *url, const char *ca_file, const char *from, const char *const *rcpt,
	      size_t n, const char *message, long timeout_ms, char *err, size_t err_len)
{
	struct upload up = {message, strlen(message)};
	char sender[300], curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *to = NULL, *grown;
	CURL *h = NULL;
	CURLcode cc;
	int rc = SE_EIO;

	if (!url[0]) {
		snprintf(err, err_len, "no SMTP server is configured (email.smtp_url)");
		return SE_ECONFIG;
	}
	for (size_t i = 0; i < n; i++) {
		char addr[300];

		snprintf(addr, sizeof(addr), "<%s>", rcpt[i]);
		grown = curl_slist_append(to, addr);
		if (!grown) {
			rc = SE_ENOMEM;
			snprintf(err, err_len, "out of memory");
			goto out;
		}
		to = grown;
	}
	envelope_of(from, sender, sizeof(sender));
	h = curl_easy_init();
	if (!h) {
		snprintf(err, err_len, "could not start an SMTP client");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, sender);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, to);
	/* Some of the five role addresses of a domain often do not exist: deliver to the rest. */
#if LIBCURL_VERSION_NUM >= 0x080200
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &up);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	/* The mail carries the approval link, a credential: with CURLUSESSL_TRY a man in the
	 * middle who strips STARTTLS from the server's EHLO reply gets it in plain text. */
	curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		rc = 0;
	} else {
		snprintf(err, err_len, "%s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
	}
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(to);
	return rc;
}
