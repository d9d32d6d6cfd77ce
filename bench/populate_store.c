/* populate_store: fills a saasedge store with N hostnames for the start-up benchmark, through
 * the store's own API (src/store/store.h) rather than the CLI, which would take hours for 1M
 * names. Every hostname gets an active pack holding the same ECDSA (and optionally RSA)
 * certificate, each with its own sealed copy of the key: the edge loads certificates lazily, so
 * what start-up sees is the row count, not the variety of certificates. A wildcard certificate
 * (*.DOMAIN) keeps the served certificate valid for every name hN.DOMAIN.
 *
 * Usage: populate_store --data DIR --count N --domain DOMAIN --ecdsa CERT KEY [--rsa CERT KEY]
 *                       [--with-certs M] [--origin HOST:PORT]
 *        populate_store --data DIR --domain DOMAIN --list FILE [--origin HOST:PORT]
 * The second form gives each hostname its own certificates, one line per name in FILE:
 * "NAME ECDSA_CERT ECDSA_KEY RSA_CERT RSA_KEY" (PEM files), for the side-by-side comparison;
 * it is the CLI's `cert import` without a process per certificate. --origin sets every name's
 * custom origin. Prints the zone id. A row costs ~1 ms of SQLite with both certificates,
 * ~0.12 ms without:
 * --with-certs M gives certificates to the first M names only (h0…), which is what a start-up
 * probe touches, so 1M rows fill in minutes rather than a quarter of an hour. --statuses S1,S2,…
 * gives row i the pack status S[i mod n] (default: active), for the list benchmark's filters.
 * Run it on a tmpfs data dir when N is large: the store syncs every commit. */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/keys.h"
#include "lib/secretbox.h"
#include "lib/timeutil.h"
#include "lib/x509_info.h"
#include "cli/cli.h"
#include "store/store.h"

/* One certificate and key read once, stored for every hostname. */
struct pair {
	enum key_type type;
	EVP_PKEY *pkey;
	unsigned char *der;
	size_t der_len;
	struct cert_info info;
};

__attribute__((noreturn)) static void usage(void)
{
	fputs("usage: populate_store --data DIR --count N --domain DOMAIN --ecdsa CERT KEY "
	      "[--rsa CERT KEY] [--with-certs M] [--origin HOST:PORT] [--statuses S1,S2,…]\n"
	      "       populate_store --data DIR --domain DOMAIN --list FILE [--origin HOST:PORT]\n",
	      stderr);
	exit(2);
}

static void pair_dispose(struct pair *p)
{
	EVP_PKEY_free(p->pkey);
	OPENSSL_free(p->der);
	cert_info_dispose(&p->info);
	memset(p, 0, sizeof(*p));
}

static int pair_load(struct pair *p, enum key_type type, const char *cert, const char *key)
{
	FILE *cf = fopen(cert, "r"), *kf = fopen(key, "r");
	X509 *x = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	int len, rc = -1;

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->pkey = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
	if (!x || !p->pkey)
		goto out;
	len = i2d_X509(x, &p->der);
	if (len <= 0)
		goto out;
	p->der_len = (size_t)len;
	rc = cert_info_from_der(p->der, p->der_len, &p->info);
out:
	if (rc)
		fprintf(stderr, "populate_store: cannot read %s / %s\n", cert, key);
	X509_free(x);
	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
	return rc;
}

static int zone_make(struct store *st, const char *domain, int64_t quota, char *id_out)
{
	struct store_zone z;
	int rc;

	memset(&z, 0, sizeof(z));
	snprintf(z.name, sizeof(z.name), "%s", domain);
	z.quota = quota;
	z.created_at_us = time_now_us();
	rc = ids_hex32(z.id);
	if (rc == 0)
		rc = store_zone_create(st, &z);
	if (rc == 0)
		memcpy(id_out, z.id, sizeof(z.id));
	return rc;
}

/* --origin, "" for none. Packs are created active, as after a first served handshake, unless
 * --statuses says otherwise. */
static const char *origin_opt = "";
static char *statuses[16] = {"active"};
static int n_statuses = 1;

/* --statuses S1,S2,…: the pack status of row i is S[i mod n]. */
static int statuses_parse(char *list)
{
	n_statuses = 0;
	for (char *s = strtok(list, ","); s && n_statuses < 16; s = strtok(NULL, ","))
		statuses[n_statuses++] = s;
	return n_statuses ? 0 : -1;
}


/* Seals P's key bound to a fresh key id (as the issuer does) and stores it with the leaf. */
static int cert_put(struct store *st, const struct secretbox *box, const char *pack,
		    const struct pair *p)
{
	return cli_cert_store(st, box, pack, p->type, p->pkey, p->der, p->der_len, NULL, 0,
			      &p->info);
}

static int populate(struct store *st, const struct secretbox *box, const char *zone, long n,
		    long with_certs, const char *domain, const struct pair *pairs, int n_pairs)
{
	struct store_hostname h;
	char name[256];
	int rc = 0;

	for (long i = 0; i < n && rc == 0; i++) {
		snprintf(name, sizeof(name), "h%ld.%s", i, domain);
		rc = cli_cert_hostname_create(st, zone, name, statuses[i % n_statuses], origin_opt,
					      &h);
		for (int k = 0; k < n_pairs && rc == 0 && i < with_certs; k++)
			rc = cert_put(st, box, h.ssl.pack_id, &pairs[k]);
		store_hostname_dispose(&h);
		if (rc)
			fprintf(stderr, "populate_store: %s: %s\n", name, se_strerror(rc));
	}
	return rc;
}

/* One hostname with the certificates named on its line of the list file. */
static int list_line(struct store *st, const struct secretbox *box, const char *zone, char *line)
{
	char name[256], ec[1024], eck[1024], rsa[1024], rsak[1024];
	struct pair p[2];
	struct store_hostname h;
	int rc = SE_EINVAL;

	memset(p, 0, sizeof(p));
	memset(&h, 0, sizeof(h));
	if (sscanf(line, "%255s %1023s %1023s %1023s %1023s", name, ec, eck, rsa, rsak) == 5 &&
	    pair_load(&p[0], KEY_ECDSA_P256, ec, eck) == 0 &&
	    pair_load(&p[1], KEY_RSA_2048, rsa, rsak) == 0)
		rc = cli_cert_hostname_create(st, zone, name, "active", origin_opt, &h);
	for (int k = 0; k < 2 && rc == 0; k++)
		rc = cert_put(st, box, h.ssl.pack_id, &p[k]);
	store_hostname_dispose(&h);
	pair_dispose(&p[0]);
	pair_dispose(&p[1]);
	return rc;
}

static int populate_list(struct store *st, const struct secretbox *box, const char *zone,
			 const char *path)
{
	char line[5 * 1024 + 300];
	FILE *f = fopen(path, "r");
	int rc = f ? 0 : SE_EIO;

	while (rc == 0 && fgets(line, sizeof(line), f)) {
		rc = list_line(st, box, zone, line);
		if (rc)
			fprintf(stderr, "populate_store: %s", line);
	}
	if (f)
		fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	const char *data = NULL, *domain = NULL, *list = NULL;
	static struct pair pairs[2];
	struct secretbox box;
	struct store *st = NULL;
	char zone[33], keyfile[4096];
	int n_pairs = 0, rc;
	long n = 0, with_certs = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc)
			data = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			n = atol(argv[++i]);
		else if (!strcmp(argv[i], "--list") && i + 1 < argc)
			list = argv[++i];
		else if (!strcmp(argv[i], "--origin") && i + 1 < argc)
			origin_opt = argv[++i];
		else if (!strcmp(argv[i], "--with-certs") && i + 1 < argc)
			with_certs = atol(argv[++i]);
		else if (!strcmp(argv[i], "--statuses") && i + 1 < argc) {
			if (statuses_parse(argv[++i]))
				usage();
		}
		else if (!strcmp(argv[i], "--domain") && i + 1 < argc)
			domain = argv[++i];
		else if ((!strcmp(argv[i], "--ecdsa") || !strcmp(argv[i], "--rsa")) &&
			 i + 2 < argc && n_pairs < 2) {
			enum key_type t = argv[i][2] == 'e' ? KEY_ECDSA_P256 : KEY_RSA_2048;

			if (pair_load(&pairs[n_pairs++], t, argv[i + 1], argv[i + 2]))
				return 1;
			i += 2;
		} else
			usage();
	}
	if (!data || !domain || (!list && (n <= 0 || n_pairs == 0)))
		usage();
	if (with_certs < 0 || with_certs > n)
		with_certs = n;
	snprintf(keyfile, sizeof(keyfile), "%s/master.key", data);
	rc = store_open(data, getenv("SAASEDGE_STORE_URL"), &st);
	if (rc == 0)
		rc = secretbox_load(keyfile, 1, &box);
	if (rc == 0)
		rc = zone_make(st, domain, list ? 100000000 : n + 1, zone);
	if (rc == 0 && list)
		rc = populate_list(st, &box, zone, list);
	else if (rc == 0)
		rc = populate(st, &box, zone, n, with_certs, domain, pairs, n_pairs);
	if (rc == 0)
		printf("%s\n", zone);
	else
		fprintf(stderr, "populate_store: %s\n", se_strerror(rc));
	store_close(st);
	secretbox_wipe(&box);
	for (int k = 0; k < n_pairs; k++)
		pair_dispose(&pairs[k]);
	keys_thread_cleanup();
	return rc ? 1 : 0;
}
