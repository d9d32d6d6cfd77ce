/* `saasedge cert import`: puts an operator's certificate and key into the store as an upload,
 * through the store function the API's custom_certificate uses, so that edges serve it
 * (migrations from nginx, and certificates issued elsewhere) and no issuer replaces it. The key
 * is sealed under the master key with the key id as AAD; the pack goes to pending_deployment
 * and the edges move it to active once they serve it. */
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/hostname.h"
#include "lib/ids.h"
#include "lib/keys.h"
#include "lib/secretbox.h"
#include "lib/timeutil.h"
#include "lib/x509_info.h"

#define CERT_FILE_MAX (1024 * 1024)

static const char cert_usage[] =
    "usage: saasedge cert import --hostname NAME --cert FILE --key FILE [--zone ID] --data DIR\n"
    "Stores a certificate (PEM, leaf first, then its chain) and its private key (PEM) for\n"
    "NAME as an uploaded certificate, like the API's custom_certificate. The hostname must\n"
    "exist, or --zone creates it. Importing the other key type (ECDSA or RSA) keeps the\n"
    "first: both are served. Prints the certificate pack id.\n";

/* What one import holds, released by import_dispose whatever the point of failure. */
struct import {
	char hostname[HOSTNAME_MAX + 1];
	const char *zone_opt;
	unsigned char **ders;
	size_t *lens;
	size_t n_ders;
	unsigned char *chain;
	size_t chain_len;
	X509 *leaf;
	EVP_PKEY *pkey;
	enum key_type type;
	struct cert_info info;
	struct store_hostname host;
};

static void import_dispose(struct import *im)
{
	cert_chain_free(im->ders, im->lens, im->n_ders);
	free(im->chain);
	X509_free(im->leaf);
	EVP_PKEY_free(im->pkey);
	cert_info_dispose(&im->info);
	store_hostname_dispose(&im->host);
}

/* *OUT = malloc'd NUL-terminated contents of PATH. */
static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int rc = SE_EIO;

	*out = NULL;
	if (!f)
		return SE_EIO;
	buf = malloc(CERT_FILE_MAX + 1);
	if (!buf) {
		rc = SE_ENOMEM;
		goto out;
	}
	n = fread(buf, 1, CERT_FILE_MAX + 1, f);
	if (ferror(f) || n > CERT_FILE_MAX)
		goto out;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

/* Wildcards keep their "*." and the rest is checked as a name; reserved and example domains
 * are accepted: an operator may well serve "app.internal". */
static int normalize_name(const char *name, char out[HOSTNAME_MAX + 1])
{
	char reason[256];
	int wild = hostname_is_wildcard(name);

	if (hostname_normalize_origin(name + (wild ? 2 : 0), out, reason, sizeof(reason)) !=
	    HOSTNAME_OK) {
		cli_error("invalid --hostname %s: %s", name, reason);
		return CLI_EXIT_USAGE;
	}
	if (wild) {
		if (strlen(out) + 2 > HOSTNAME_MAX)
			return CLI_EXIT_USAGE;
		memmove(out + 2, out, strlen(out) + 1);
		memcpy(out, "*.", 2);
	}
	return CLI_EXIT_OK;
}

static int load_chain(struct import *im, const char *path)
{
	const unsigned char *p;
	char *pem = NULL;
	size_t len = 0, used = 0;
	int rc = read_file(path, &pem, &len);

	if (rc == 0)
		rc = cert_chain_from_pem(pem, len, &im->ders, &im->lens, &im->n_ders);
	free(pem);
	if (rc) {
		cli_error("cannot read the certificate chain %s: %s", path, se_strerror(rc));
		return CLI_EXIT_FAIL;
	}
	for (size_t i = 1; i < im->n_ders; i++)
		im->chain_len += im->lens[i];
	im->chain = malloc(im->chain_len ? im->chain_len : 1);
	if (!im->chain)
		return CLI_EXIT_FAIL;
	for (size_t i = 1; i < im->n_ders; i++) {
		memcpy(im->chain + used, im->ders[i], im->lens[i]);
		used += im->lens[i];
	}
	p = im->ders[0];
	im->leaf = d2i_X509(NULL, &p, (long)im->lens[0]);
	if (!im->leaf || cert_info_from_der(im->ders[0], im->lens[0], &im->info)) {
		cli_error("the first certificate of %s cannot be used", path);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static int load_key(struct import *im, const char *path)
{
	FILE *f = fopen(path, "r");

	if (f) {
		im->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!im->pkey || keys_type_of(im->pkey, &im->type)) {
		cli_error("cannot read an EC or RSA private key (PEM) from %s", path);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* 1 when the certificate names NAME: X509_check_host for a plain name (wildcard certificates
 * cover it), the literal SAN for a wildcard hostname. */
static int covers(const struct import *im, const char *name)
{
	if (!hostname_is_wildcard(name))
		return X509_check_host(im->leaf, name, 0, 0, NULL) == 1;
	for (size_t i = 0; i < im->info.n_sans; i++) {
		if (strcasecmp(im->info.sans[i], name) == 0)
			return 1;
	}
	return 0;
}

static int validate(const struct import *im)
{
	int64_t now = time_now_us();

	if (X509_check_private_key(im->leaf, im->pkey) != 1) {
		cli_error("the private key does not match the certificate");
		return CLI_EXIT_FAIL;
	}
	if (!covers(im, im->hostname)) {
		cli_error("the certificate does not cover %s", im->hostname);
		return CLI_EXIT_FAIL;
	}
	if (im->info.not_after_us <= now) {
		cli_error("the certificate has expired");
		return CLI_EXIT_FAIL;
	}
	if (im->info.not_before_us > now) {
		cli_error("the certificate is not valid yet");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int cli_cert_hostname_create(struct store *st, const char *zone_id, const char *name,
			     const char *pack_status, const char *origin, struct store_hostname *h)
{
	int rc;

	memset(h, 0, sizeof(*h));
	snprintf(h->zone_id, sizeof(h->zone_id), "%s", zone_id);
	snprintf(h->hostname, sizeof(h->hostname), "%s", name);
	snprintf(h->status, sizeof(h->status), "active");
	snprintf(h->custom_origin_server, sizeof(h->custom_origin_server), "%s", origin);
	h->created_at_us = time_now_us();
	h->updated_at_us = h->created_at_us;
	h->ssl.enabled = 1;
	h->ssl.wildcard = hostname_is_wildcard(name);
	snprintf(h->ssl.status, sizeof(h->ssl.status), "%s", pack_status);
	snprintf(h->ssl.method, sizeof(h->ssl.method), "http");
	snprintf(h->ssl.type, sizeof(h->ssl.type), "dv");
	snprintf(h->ssl.bundle_method, sizeof(h->ssl.bundle_method), "ubiquitous");
	rc = ids_uuid(h->id);
	if (rc == 0)
		rc = ids_uuid(h->ownership_token);
	if (rc == 0)
		rc = ids_uuid(h->ssl.pack_id);
	if (rc == 0 && !(h->ssl.settings_json = strdup("{}")))
		rc = SE_ENOMEM;
	if (rc == 0)
		rc = store_hostname_create(st, h);
	return rc;
}

/* Fills im->host with the hostname; under --zone a missing one is created without ssl (its
 * pack comes with the upload), as the API does for a create that carries a certificate.
 * *CREATED says so. */
static int host_find(struct store *st, struct import *im, int *created)
{
	struct store_edge_entry e;
	int rc = store_edge_lookup(st, im->hostname, &e);

	*created = 0;
	if (rc == SE_ENOTFOUND && im->zone_opt) {
		struct store_hostname *h = &im->host;

		memset(h, 0, sizeof(*h));
		snprintf(h->zone_id, sizeof(h->zone_id), "%s", im->zone_opt);
		snprintf(h->hostname, sizeof(h->hostname), "%s", im->hostname);
		/* The operator holds the name's certificate: no ownership check to wait for. */
		snprintf(h->status, sizeof(h->status), "active");
		h->created_at_us = h->updated_at_us = time_now_us();
		rc = ids_uuid(h->id);
		if (rc == 0)
			rc = ids_uuid(h->ownership_token);
		if (rc == 0)
			rc = store_hostname_create(st, h);
		*created = rc == 0;
		return rc;
	}
	if (rc == SE_ENOTFOUND)
		cli_error("no hostname %s: create it first, or give --zone ID", im->hostname);
	if (rc)
		return rc;
	rc = store_hostname_get(st, e.zone_id, e.hostname_id, &im->host);
	store_edge_entry_dispose(&e);
	return rc;
}

/* Stores the certificate as an upload of its key type (store_custom_pack_attach, the path of
 * the API's custom_certificate): a new custom pack in pending_deployment that keeps the
 * certificate of the other key type when the hostname's pack was custom already, the
 * hostname's jobs dropped, in one transaction. */
static int attach(struct store *st, const struct secretbox *box, struct import *im)
{
	struct store_custom_pack p;
	struct store_custom_cert *cc = &p.certs[0];
	struct store_hostname *h = &im->host;
	unsigned char *sealed = NULL;
	int rc;

	memset(&p, 0, sizeof(p));
	p.n_certs = 1;
	p.keep_other_type = 1;
	p.uploaded_on_us = time_now_us();
	snprintf(cc->cert.key_type, sizeof(cc->cert.key_type), "%s", keys_type_name(im->type));
	snprintf(cc->cert.serial, sizeof(cc->cert.serial), "%s", im->info.serial);
	cc->cert.leaf_der = im->ders[0];
	cc->cert.leaf_len = im->lens[0];
	cc->cert.chain_der = im->chain_len ? im->chain : NULL;
	cc->cert.chain_len = im->chain_len;
	cc->cert.not_before_us = im->info.not_before_us;
	cc->cert.not_after_us = im->info.not_after_us;
	cc->pem_key_type = cc->cert.key_type;
	rc = ids_uuid(p.pack_id);
	if (rc == 0)
		rc = ids_uuid(cc->cert.id);
	if (rc == 0)
		rc = ids_uuid(cc->cert.private_key_id);
	if (rc == 0)
		rc = keys_seal(box, im->pkey, cc->cert.private_key_id, &sealed, &cc->sealed_len);
	cc->sealed_key = sealed;
	h->ssl.enabled = 1;
	h->ssl.custom = 1;
	if (!h->ssl.bundle_method[0])
		snprintf(h->ssl.bundle_method, sizeof(h->ssl.bundle_method), "ubiquitous");
	if (rc == 0)
		rc = store_custom_pack_attach(st, h, &p);
	if (rc == 0)
		snprintf(h->ssl.pack_id, sizeof(h->ssl.pack_id), "%s", p.pack_id);
	free(sealed);
	return rc;
}

int cli_cert_store(struct store *st, const struct secretbox *box, const char *pack,
		   enum key_type type, EVP_PKEY *pkey, const unsigned char *leaf, size_t leaf_len,
		   const unsigned char *chain, size_t chain_len, const struct cert_info *info)
{
	struct store_certificate c;
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	snprintf(c.pack_id, sizeof(c.pack_id), "%s", pack);
	snprintf(c.key_type, sizeof(c.key_type), "%s", keys_type_name(type));
	snprintf(c.serial, sizeof(c.serial), "%s", info->serial);
	c.leaf_der = (unsigned char *)leaf;
	c.leaf_len = leaf_len;
	c.chain_der = chain_len ? (unsigned char *)chain : NULL;
	c.chain_len = chain_len;
	c.not_before_us = info->not_before_us;
	c.not_after_us = info->not_after_us;
	c.created_at_us = time_now_us();
	rc = ids_uuid(c.id);
	if (rc == 0)
		rc = ids_uuid(c.private_key_id);
	if (rc == 0)
		rc = keys_seal(box, pkey, c.private_key_id, &sealed, &sealed_len);
	if (rc == 0)
		rc = store_private_key_put(st, c.private_key_id, pack, c.key_type, sealed,
					   sealed_len);
	if (rc == 0)
		rc = store_certificate_put(st, &c);
	free(sealed);
	return rc;
}

static int import_run(const struct config *cfg, struct import *im)
{
	struct store *st = NULL;
	struct secretbox box;
	int loaded = 0, created = 0;
	int rc;

	if (cli_load_master_key(cfg, &box) != CLI_EXIT_OK)
		return CLI_EXIT_FAIL;
	loaded = 1;
	rc = cli_open_store(cfg, &st) == CLI_EXIT_OK ? 0 : SE_EDB;
	if (rc == 0)
		rc = host_find(st, im, &created);
	if (rc == 0)
		rc = attach(st, &box, im);
	if (rc && created)
		store_hostname_delete(st, im->host.zone_id, im->host.id);
	if (rc == 0)
		printf("%s\n", im->host.ssl.pack_id);
	else if (rc != SE_ENOTFOUND || im->zone_opt)
		cli_error("cannot import the certificate for %s: %s", im->hostname,
			  se_strerror(rc));
	store_close(st);
	if (loaded)
		secretbox_wipe(&box);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int cert_import(int argc, char **argv)
{
	struct cli_opt opts[] = {
	    {.name = "--hostname"}, {.name = "--cert"}, {.name = "--key"}, {.name = "--zone"}};
	static struct import im; /* large: off the stack */
	struct cli_args args;
	struct config cfg;
	int rc = cli_args_split(argc, argv, opts, 4, &args);

	if (rc != CLI_EXIT_OK)
		return rc;
	memset(&im, 0, sizeof(im));
	im.zone_opt = opts[3].value;
	if (args.n_pos != 0 || !opts[0].value || !opts[1].value || !opts[2].value) {
		fputs(cert_usage, stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = cli_load_config(&args, &cfg);
	if (rc == CLI_EXIT_OK)
		rc = normalize_name(opts[0].value, im.hostname);
	if (rc == CLI_EXIT_OK)
		rc = load_chain(&im, opts[1].value);
	if (rc == CLI_EXIT_OK)
		rc = load_key(&im, opts[2].value);
	if (rc == CLI_EXIT_OK)
		rc = validate(&im);
	if (rc == CLI_EXIT_OK)
		rc = import_run(&cfg, &im);
	import_dispose(&im);
	cli_args_dispose(&args);
	return rc;
}

int cli_cert(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {{"import", cert_import}};

	return cli_dispatch("cert", cert_usage, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
