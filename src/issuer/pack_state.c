/* The pack state document and its one reader and writer. The keys are the ones every earlier
 * version wrote, so a pack in the middle of an issuance when a node is upgraded goes on where it
 * was; absent keys read as zero or "", as they did when the steps read the document directly. */
#include "issuer/pack_state.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

static const char *const step_names[] = {
    [PACK_STEP_KEYS] = "keys",           [PACK_STEP_ORDER] = "order",
    [PACK_STEP_PREFLIGHT] = "preflight", [PACK_STEP_ACCEPT] = "accept",
    [PACK_STEP_POLL] = "poll",           [PACK_STEP_FINALIZE] = "finalize",
    [PACK_STEP_MAIL] = "mail",           [PACK_STEP_CHECK] = "check",
    [PACK_STEP_ISSUE] = "issue",         [PACK_STEP_DONE] = "done",
    [PACK_STEP_TIMED_OUT] = "timed_out",
};

const char *pack_step_name(enum pack_step step)
{
	return step_names[step];
}

static enum pack_step step_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof(step_names) / sizeof(step_names[0]); i++) {
		if (strcmp(name, step_names[i]) == 0)
			return (enum pack_step)i;
	}
	return PACK_STEP_KEYS;
}

int pack_state_copy(char *dst, size_t len, const char *value)
{
	size_t n = strlen(value);

	if (n >= len)
		return SE_EINVAL;
	memcpy(dst, value, n + 1);
	return 0;
}

void pack_state_init(struct pack_state *s, const char *sig, const char *ca)
{
	memset(s, 0, sizeof(*s));
	s->step = PACK_STEP_KEYS;
	pack_state_copy(s->sig, sizeof(s->sig), sig);
	pack_state_copy(s->ca, sizeof(s->ca), ca);
}

/* ---- load ---------------------------------------------------------------------------------- */

/* OBJ's string KEY into DST: absent is "", anything else that is not a string that fits is
 * SE_EINVAL. */
static int get_str(json_t *obj, const char *key, char *dst, size_t len)
{
	json_t *v = json_object_get(obj, key);

	dst[0] = '\0';
	if (!v)
		return 0;
	if (!json_is_string(v))
		return SE_EINVAL;
	return pack_state_copy(dst, len, json_string_value(v));
}

static int64_t get_int(json_t *obj, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(obj, key));
}

/* {"ecdsa": …, "rsa": …} into the per-key-type fields IDS. */
static int get_by_key_type(json_t *obj, const char *key, char *ids, size_t len)
{
	json_t *map = json_object_get(obj, key);
	int rc = 0;

	for (int t = 0; rc == 0 && t < PACK_STATE_KEY_TYPES; t++)
		rc = get_str(map, keys_type_name((enum key_type)t), ids + (size_t)t * len, len);
	return rc;
}

static int order_load(json_t *o, struct pack_order *out)
{
	json_t *authz = json_object_get(o, "authz"), *a;
	const char *key = json_string_value(json_object_get(o, "key"));
	size_t i;
	int rc;

	if (!key || keys_type_parse(key, &out->key) != 0 || json_array_size(authz) > ACME_MAX_AUTHZ)
		return SE_EINVAL;
	rc = get_str(o, "url", out->url, sizeof(out->url));
	if (rc == 0)
		rc = get_str(o, "finalize", out->finalize, sizeof(out->finalize));
	json_array_foreach(authz, i, a)
	{
		if (rc == 0 && !json_is_string(a))
			rc = SE_EINVAL;
		if (rc == 0)
			rc = pack_state_copy(out->authz[i], sizeof(out->authz[i]),
					     json_string_value(a));
	}
	out->n_authz = json_array_size(authz);
	out->stored = json_is_true(json_object_get(o, "stored"));
	return rc;
}

static int chal_load(json_t *c, struct pack_challenge *out)
{
	int rc = get_str(c, "authz", out->authz, sizeof(out->authz));

	if (rc == 0)
		rc = get_str(c, "url", out->url, sizeof(out->url));
	if (rc == 0)
		rc = get_str(c, "type", out->type, sizeof(out->type));
	if (rc == 0)
		rc = get_str(c, "name", out->name, sizeof(out->name));
	if (rc == 0)
		rc = get_str(c, "value", out->value, sizeof(out->value));
	out->accepted = json_is_true(json_object_get(c, "accepted"));
	return rc;
}

static int lists_load(json_t *doc, struct pack_state *out)
{
	json_t *orders = json_object_get(doc, "orders"), *chals = json_object_get(doc, "chals"), *v;
	size_t i;
	int rc = 0;

	if (json_array_size(orders) > PACK_STATE_MAX_ORDERS ||
	    json_array_size(chals) > PACK_STATE_MAX_CHALS)
		return SE_EINVAL;
	json_array_foreach(orders, i, v)
	{
		if (rc == 0)
			rc = order_load(v, &out->orders[i]);
	}
	out->n_orders = json_array_size(orders);
	json_array_foreach(chals, i, v)
	{
		if (rc == 0)
			rc = chal_load(v, &out->chals[i]);
	}
	out->n_chals = json_array_size(chals);
	return rc;
}

int pack_state_load(const char *text, struct pack_state *out)
{
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc)) {
		json_decref(doc);
		return SE_EINVAL;
	}
	out->step = step_parse(json_string_value(json_object_get(doc, "step")));
	out->ca_failures = get_int(doc, "ca_failures");
	out->tries = get_int(doc, "tries");
	out->vstart_us = get_int(doc, "vstart");
	out->istart_us = get_int(doc, "istart");
	out->records_written = json_is_true(json_object_get(doc, "records_written"));
	out->not_after_us = get_int(doc, "not_after");
	out->renew_at_us = get_int(doc, "renew_at");
	out->ari_check_at_us = get_int(doc, "ari_check_at");
	out->renewal = json_is_true(json_object_get(doc, "renewal"));
	rc = get_str(doc, "sig", out->sig, sizeof(out->sig));
	if (rc == 0)
		rc = get_str(doc, "ca", out->ca, sizeof(out->ca));
	if (rc == 0)
		rc = get_str(doc, "last_problem", out->last_problem, sizeof(out->last_problem));
	if (rc == 0)
		rc = get_str(doc, "dcv_value", out->dcv_value, sizeof(out->dcv_value));
	if (rc == 0)
		rc = get_by_key_type(doc, "keys", out->key_ids[0], sizeof(out->key_ids[0]));
	if (rc == 0)
		rc = get_by_key_type(doc, "replaces", out->replaces[0], sizeof(out->replaces[0]));
	if (rc == 0)
		rc = lists_load(doc, out);
	json_decref(doc);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- dump ---------------------------------------------------------------------------------- */

/* Each setter takes and checks the value's reference; a failure sticks in *RC. */
static void put(json_t *obj, const char *key, json_t *value, int *rc)
{
	if (json_object_set_new(obj, key, value) != 0)
		*rc = SE_ENOMEM;
}

static void put_int(json_t *obj, const char *key, int64_t v, int *rc)
{
	if (v)
		put(obj, key, json_integer((json_int_t)v), rc);
}

static void put_str(json_t *obj, const char *key, const char *v, int *rc)
{
	if (v[0])
		put(obj, key, json_string(v), rc);
}

static void put_true(json_t *obj, const char *key, int v, int *rc)
{
	if (v)
		put(obj, key, json_true(), rc);
}

static void append(json_t *list, json_t *value, int *rc)
{
	if (json_array_append_new(list, value) != 0)
		*rc = SE_ENOMEM;
}

static void put_by_key_type(json_t *doc, const char *key, const char *ids, size_t len, int *rc)
{
	json_t *map = json_object();

	for (int t = 0; map && t < PACK_STATE_KEY_TYPES; t++)
		put_str(map, keys_type_name((enum key_type)t), ids + (size_t)t * len, rc);
	if (map && json_object_size(map) == 0)
		json_decref(map);
	else
		put(doc, key, map, rc);
}

static json_t *order_dump(const struct pack_order *o, int *rc)
{
	json_t *obj = json_object(), *authz = json_array();

	for (size_t i = 0; authz && i < o->n_authz; i++)
		append(authz, json_string(o->authz[i]), rc);
	if (!obj) {
		json_decref(authz);
		*rc = SE_ENOMEM;
		return NULL;
	}
	put(obj, "key", json_string(keys_type_name(o->key)), rc);
	put(obj, "url", json_string(o->url), rc);
	put(obj, "finalize", json_string(o->finalize), rc);
	put(obj, "authz", authz, rc);
	put(obj, "stored", json_boolean(o->stored), rc);
	return obj;
}

static json_t *chal_dump(const struct pack_challenge *c, int *rc)
{
	json_t *obj = json_object();

	if (!obj) {
		*rc = SE_ENOMEM;
		return NULL;
	}
	put(obj, "authz", json_string(c->authz), rc);
	put(obj, "url", json_string(c->url), rc);
	put(obj, "type", json_string(c->type), rc);
	put(obj, "name", json_string(c->name), rc);
	put(obj, "value", json_string(c->value), rc);
	put(obj, "accepted", json_boolean(c->accepted), rc);
	return obj;
}

char *pack_state_dump(const struct pack_state *s)
{
	json_t *doc = json_object(), *orders = json_array(), *chals = json_array();
	char *text = NULL;
	int rc = doc && orders && chals ? 0 : SE_ENOMEM;

	if (rc) {
		json_decref(doc);
		json_decref(orders);
		json_decref(chals);
		return NULL;
	}
	put(doc, "sig", json_string(s->sig), &rc);
	put(doc, "step", json_string(pack_step_name(s->step)), &rc);
	put(doc, "ca", json_string(s->ca), &rc);
	put_int(doc, "ca_failures", s->ca_failures, &rc);
	put_int(doc, "tries", s->tries, &rc);
	put_int(doc, "vstart", s->vstart_us, &rc);
	put_int(doc, "istart", s->istart_us, &rc);
	put_true(doc, "records_written", s->records_written, &rc);
	put_str(doc, "last_problem", s->last_problem, &rc);
	for (size_t i = 0; i < s->n_orders; i++)
		append(orders, order_dump(&s->orders[i], &rc), &rc);
	for (size_t i = 0; i < s->n_chals; i++)
		append(chals, chal_dump(&s->chals[i], &rc), &rc);
	if (s->n_orders)
		put(doc, "orders", json_incref(orders), &rc);
	if (s->n_chals)
		put(doc, "chals", json_incref(chals), &rc);
	put_by_key_type(doc, "keys", s->key_ids[0], sizeof(s->key_ids[0]), &rc);
	put_by_key_type(doc, "replaces", s->replaces[0], sizeof(s->replaces[0]), &rc);
	put_int(doc, "not_after", s->not_after_us, &rc);
	put_int(doc, "renew_at", s->renew_at_us, &rc);
	put_int(doc, "ari_check_at", s->ari_check_at_us, &rc);
	put_true(doc, "renewal", s->renewal, &rc);
	put_str(doc, "dcv_value", s->dcv_value, &rc);
	if (rc == 0)
		text = json_dumps(doc, JSON_COMPACT);
	json_decref(orders);
	json_decref(chals);
	json_decref(doc);
	return text;
}
