#include "api/csr_input.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ISO 3166-1 alpha-2, the assigned codes (checked against the iso-codes package), sorted. A CA
 * refuses a CSR with an unassigned country, so refusing it here saves the customer a round. */
static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW";

/* The X.520 bound keys_build_csr applies to every subject field. */
#define FIELD_MAX KEYS_CN_MAX

int csr_country_known(const char *code)
{
	char up[3];

	if (strlen(code) != 2 || !isalpha((unsigned char)code[0]) ||
	    !isalpha((unsigned char)code[1]))
		return 0;
	up[0] = (char)toupper((unsigned char)code[0]);
	up[1] = (char)toupper((unsigned char)code[1]);
	up[2] = '\0';
	for (const char *p = countries; *p; p += p[2] ? 3 : 2)
		if (p[0] == up[0] && p[1] == up[1])
			return 1;
	return 0;
}

void csr_request_dispose(struct csr_request *rq)
{
	free(rq->sans);
	rq->sans = NULL;
	rq->n_sans = 0;
}

/* A member that is JSON null counts as absent, as in the hostname bodies. */
static const json_t *member(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* *OUT = the string member KEY: 1..FIELD_MAX bytes of printable UTF-8 (no control character),
 * or absent/"" when OPTIONAL. -1 when it breaks that. */
static int text_field(const json_t *body, const char *key, int optional, const char **out)
{
	const json_t *v = member(body, key);
	const char *s;
	size_t len;

	*out = optional ? "" : NULL;
	if (!v)
		return optional ? 0 : -1;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = strlen(s);
	if ((len == 0 && !optional) || len > FIELD_MAX || len != json_string_length(v))
		return -1;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return -1;
	*out = s;
	return 0;
}

static int subject_fields(const json_t *body, struct csr_request *rq, struct api_response *res)
{
	static const char why[] = "it must be a non-empty string of at most 64 characters";
	const json_t *v = member(body, "country");

	if (!json_is_string(v) || !csr_country_known(json_string_value(v)))
		return api_fail(res, API_ERR_CSR_COUNTRY,
				"it must be an ISO 3166-1 alpha-2 code such as \"US\""),
		       -1;
	rq->country[0] = (char)toupper((unsigned char)json_string_value(v)[0]);
	rq->country[1] = (char)toupper((unsigned char)json_string_value(v)[1]);
	rq->country[2] = '\0';
	if (text_field(body, "state", 0, &rq->state))
		return api_fail(res, API_ERR_CSR_STATE, why), -1;
	if (text_field(body, "locality", 0, &rq->locality))
		return api_fail(res, API_ERR_CSR_LOCALITY, why), -1;
	if (text_field(body, "organization", 0, &rq->organization))
		return api_fail(res, API_ERR_CSR_ORGANIZATION, why), -1;
	if (text_field(body, "organizational_unit", 1, &rq->organizational_unit))
		return api_fail(res, API_ERR_CSR_FIELD,
				"organizational_unit must be a string of at most 64 characters"),
		       -1;
	return 0;
}

/* Maps a hostname verdict about a SAN to the CSR code of the same meaning. */
static void san_fail(struct api_response *res, enum hostname_verdict verdict, const char *reason)
{
	switch (verdict) {
	case HOSTNAME_NON_ASCII:
		api_fail(res, API_ERR_CSR_SAN_NON_ASCII, reason);
		break;
	case HOSTNAME_RESERVED_TLD:
		api_fail(res, API_ERR_CSR_SAN_RESERVED, reason);
		break;
	case HOSTNAME_NO_REGISTRABLE:
		api_fail(res, API_ERR_CSR_SAN_UNPARSABLE, reason);
		break;
	case HOSTNAME_EXAMPLE_DOMAIN:
		api_fail(res, API_ERR_CSR_SAN_EXAMPLE, reason);
		break;
	default:
		api_fail(res, API_ERR_CSR_SAN_INVALID, reason);
		break;
	}
}

static int sans_field(const json_t *body, struct csr_request *rq, struct api_response *res)
{
	const json_t *v = member(body, "sans");
	char reason[200];
	size_t n;

	if (!v || (json_is_array(v) && json_array_size(v) == 0))
		return api_fail(res, API_ERR_CSR_NO_SAN, NULL), -1;
	if (!json_is_array(v))
		return api_fail(res, API_ERR_CSR_SAN_INVALID, "sans must be an array of strings"),
		       -1;
	n = json_array_size(v);
	if (n > KEYS_MAX_NAMES)
		return api_fail(res, API_ERR_CSR_SAN_INVALID, "at most 100 SANs"), -1;
	rq->sans = calloc(n, sizeof(*rq->sans));
	if (!rq->sans)
		return api_fail(res, API_ERR_INTERNAL, NULL), -1;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		enum hostname_verdict verdict;

		if (!json_is_string(e)) {
			api_fail(res, API_ERR_CSR_SAN_INVALID, "each SAN must be a string");
			goto fail;
		}
		verdict = hostname_normalize(json_string_value(e), 1, rq->sans[rq->n_sans], reason,
					     sizeof(reason));
		if (verdict != HOSTNAME_OK) {
			san_fail(res, verdict, reason);
			goto fail;
		}
		/* A repeated name would be a repeated SAN entry: keep the first. */
		int dup = 0;
		for (size_t k = 0; k < rq->n_sans && !dup; k++)
			dup = strcmp(rq->sans[k], rq->sans[rq->n_sans]) == 0;
		if (!dup)
			rq->n_sans++;
	}
	return 0;
fail:
	csr_request_dispose(rq);
	return -1;
}

static int common_name_field(const json_t *body, struct csr_request *rq, struct api_response *res)
{
	const json_t *v = member(body, "common_name");
	char reason[200];

	if (!json_is_string(v) || json_string_length(v) == 0)
		return api_fail(res, API_ERR_CSR_COMMON_NAME, "it must be a non-empty string"), -1;
	if (json_string_length(v) > KEYS_CN_MAX)
		return api_fail(res, API_ERR_CSR_CN_TOO_LONG, NULL), -1;
	/* The CN goes into the SAN extension too (CAs validate SANs, not the CN), so it must be
	 * a name a certificate can carry. */
	if (hostname_normalize(json_string_value(v), 1, rq->common_name, reason, sizeof(reason)) !=
	    HOSTNAME_OK) {
		char why[260];

		snprintf(why, sizeof(why), "it must be a hostname (%s)", reason);
		return api_fail(res, API_ERR_CSR_COMMON_NAME, why), -1;
	}
	return 0;
}

static int optional_text(const json_t *body, const char *key, size_t max, const char **out,
			 struct api_response *res)
{
	const json_t *v = member(body, key);
	char why[96];

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(why, sizeof(why), "%s must be a string of at most %zu bytes", key, max);
		return api_fail(res, API_ERR_CSR_FIELD, why), -1;
	}
	*out = json_string_value(v);
	return 0;
}

int csr_input_parse(const json_t *body, struct csr_request *rq, struct api_response *res)
{
	const json_t *v;

	memset(rq, 0, sizeof(*rq));
	if (!json_is_object(body))
		return api_fail(res, API_ERR_BAD_JSON, NULL), -1;
	if (subject_fields(body, rq, res) || common_name_field(body, rq, res))
		return -1;
	rq->key_type = KEY_RSA_2048;
	rq->key_type_name = "rsa2048";
	if ((v = member(body, "key_type"))) {
		const char *kt = json_is_string(v) ? json_string_value(v) : "";

		if (strcmp(kt, "p256v1") == 0) {
			rq->key_type = KEY_ECDSA_P256;
			rq->key_type_name = "p256v1";
		} else if (strcmp(kt, "rsa2048") != 0) {
			return api_fail(res, API_ERR_CSR_KEY_TYPE, NULL), -1;
		}
	}
	if (optional_text(body, "name", 255, &rq->name, res) ||
	    optional_text(body, "description", 1024, &rq->description, res))
		return -1;
	return sans_field(body, rq, res);
}
