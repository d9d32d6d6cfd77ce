/* One mail over SMTP with libcurl: smtps://, or smtp:// with STARTTLS required (a server that
 * does not offer it, or a man in the middle that strips it, gets no mail), the server's
 * certificate checked either way. */
#ifndef SAASEDGE_ISSUER_SMTP_SEND_H
#define SAASEDGE_ISSUER_SMTP_SEND_H

#include <stddef.h>

/* Sends MESSAGE (a whole RFC 5322 message, CRLF line ends, borrowed) through the server at URL,
 * whose certificate must chain to the PEM CAs in CA_FILE ("" = the system's),
 * from envelope sender FROM (an address, or "Name <address>") to the N addresses in RCPT, in
 * one SMTP transaction; recipients the server refuses are skipped as long as one is accepted.
 * Blocks the calling thread up to TIMEOUT_MS. 0 on success; SE_EIO with ERR (a sentence that
 * holds no part of MESSAGE) otherwise; SE_ECONFIG when URL is empty. */
int smtp_send(const char *url, const char *ca_file, const char *from, const char *const *rcpt,
	      size_t n, const char *message, long timeout_ms, char *err, size_t err_len);

#endif
