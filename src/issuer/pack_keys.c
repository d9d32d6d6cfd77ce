/* The two private keys of a pack (ECDSA P-256 primary, RSA-2048 fallback) and the certificates
 * issued to them. Keys are generated here, on a worker thread (RSA takes 0.1-0.5 s, so the RSA
 * key comes from key_pool.c when it has one), sealed under the master key with the key id as
 * AAD, and owned by the pack so that deleting the hostname deletes them. */
#include "issuer/issuer_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/keys.h"
#include "lib/timeutil.h"
#include "lib/x509_info.h"

static int key_make(struct pack_work *w, enum key_type type)
{
	unsigned char *sealed = NULL;
	EVP_PKEY *pkey = NULL;
	char id[37];
	size_t len = 0;
	int rc;

	rc = ids_uuid(id);
	if (rc == 0)
		rc = keys_generate(type, &pkey);
	if (rc == 0)
		rc = keys_seal(w->is->box, pkey, id, &sealed, &len);
	if (rc == 0)
		rc = store_private_key_put(w->is->st, id, w->subj.pack_id, keys_type_name(type),
					   sealed, len);
	if (rc == 0)
		memcpy(w->state.key_ids[type], id, sizeof(id));
	free(sealed);
	EVP_PKEY_free(pkey);
	return rc;
}

/* A pooled key when there is one (RSA generation is the slowest part of an issuance), else a new
 * one. */
static int key_take_or_make(struct pack_work *w, enum key_type type)
{
	char id[37];
	int rc = key_pool_claim(w, type, id);

	if (rc == SE_ENOTFOUND)
		return key_make(w, type);
	if (rc == 0)
		memcpy(w->state.key_ids[type], id, sizeof(id));
	return rc;
}

int pack_keys_step(struct pack_work *w, struct step_out *out)
{
	int rc = key_make(w, KEY_ECDSA_P256);

	if (rc == 0)
		rc = key_take_or_make(w, KEY_RSA_2048);
	if (rc)
		return rc;
	w->state.step = PACK_STEP_ORDER;
	out->next = STEP_NOW;
	return 0;
}

int pack_key_load(struct pack_work *w, enum key_type type, EVP_PKEY **out)
{
	const char *id = w->state.key_ids[type];
	unsigned char *sealed = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (!id[0])
		return SE_ENOTFOUND;
	rc = store_private_key_get(w->is->st, id, &sealed, &len);
	if (rc == 0)
		rc = keys_unseal(w->is->box, type, sealed, len, id, out);
	free(sealed);
	return rc;
}

int pack_cert_add(struct pack_work *w, struct step_out *out, enum key_type type,
		  const unsigned char *leaf, size_t leaf_len, const unsigned char *chain,
		  size_t chain_len)
{
	struct store_certificate *c;
	struct cert_info info;
	int rc;

	if (out->n_certs == sizeof(out->certs) / sizeof(out->certs[0]))
		return SE_EINVAL;
	c = &out->certs[out->n_certs];
	memset(c, 0, sizeof(*c));
	memset(&info, 0, sizeof(info));
	rc = cert_info_from_der(leaf, leaf_len, &info);
	if (rc == 0)
		rc = ids_uuid(c->id);
	if (rc == 0 && (!(c->leaf_der = malloc(leaf_len)) ||
			(chain_len && !(c->chain_der = malloc(chain_len)))))
		rc = SE_ENOMEM;
	if (rc) {
		store_certificate_dispose(c);
		goto out;
	}
	memcpy(c->leaf_der, leaf, leaf_len);
	c->leaf_len = leaf_len;
	if (chain_len)
		memcpy(c->chain_der, chain, chain_len);
	c->chain_len = chain_len;
	snprintf(c->pack_id, sizeof(c->pack_id), "%s", w->subj.pack_id);
	snprintf(c->key_type, sizeof(c->key_type), "%s", keys_type_name(type));
	snprintf(c->private_key_id, sizeof(c->private_key_id), "%s", w->state.key_ids[type]);
	snprintf(c->serial, sizeof(c->serial), "%s", info.serial);
	c->not_before_us = info.not_before_us;
	c->not_after_us = info.not_after_us;
	c->created_at_us = time_now_us();
	out->n_certs++;
	if (w->state.not_after_us == 0 || info.not_after_us < w->state.not_after_us)
		w->state.not_after_us = info.not_after_us;
out:
	cert_info_dispose(&info);
	return rc;
}
