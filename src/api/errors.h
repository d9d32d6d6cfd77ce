/* Every error the API answers, in one table: HTTP status, Cloudflare error code and message.
 * A message that contains "%s" takes a detail (a reason, a parameter name); the others ignore
 * it. Messages follow Cloudflare's documented texts where one exists (docs/api.md). */
#ifndef SAASEDGE_API_ERRORS_H
#define SAASEDGE_API_ERRORS_H

#define API_ERRORS(X)                                                                             \
	X(BAD_JSON, 400, 1400, "Unable to decode the JSON request body. Check your input and try "  \
			       "again.")                                                          \
	X(BAD_QUERY, 400, 1400, "%s")                                                             \
	X(BODY_TOO_LARGE, 413, 1400, "The request body is larger than %s bytes.")                 \
	X(BAD_METADATA, 400, 1401, "Unable to encode the Custom Metadata as JSON (%s). Check your " \
				   "input and try again.")                                        \
	X(QUOTA, 403, 1405, "Quota exceeded. This zone may hold %s custom hostnames.")            \
	X(DUPLICATE, 409, 1406, "Duplicate custom hostname found.")                               \
	X(WILDCARD_CONFLICT, 409, 1406, "Duplicate custom hostname found: %s.")                   \
	X(HOSTNAME_INVALID, 400, 1407,                                                            \
	  "Invalid custom hostname (%s). Custom hostnames have to be smaller than 256 characters " \
	  "in length, cannot be IP addresses, cannot contain any special characters such as "     \
	  "``~`!@#$%%^&*()=+{}[]\\|;:'\",<>/?`` and cannot begin or end with a hyphen.")          \
	X(HOSTNAME_NON_ASCII, 400, 1408, "Custom hostnames with non-ASCII characters are not "     \
					 "supported (%s). Check your input and try again.")      \
	X(HOSTNAME_RESERVED, 400, 1409,                                                           \
	  "Reserved top domain custom hostnames, such as 'test', 'example', 'invalid' or "        \
	  "'localhost', is not supported (%s). Check your input and try again.")                  \
	X(HOSTNAME_UNPARSABLE, 400, 1410, "Unable to parse custom hostname - %s. Check your input " \
					  "and try again.")                                      \
	X(HOSTNAME_EXAMPLE, 400, 1411, "Custom hostnames ending in example.com, example.net, or "  \
				       "example.org are prohibited. Check your input and try again.") \
	X(METADATA_WILDCARD, 400, 1412, "Custom metadata for wildcard custom hostnames is not "    \
					"supported. Check your input and try again.")            \
	X(ORIGIN_INVALID, 400, 1415, "Invalid custom origin hostname (%s). Check your input and "  \
				     "try again.")                                               \
	X(ORIGIN_NON_ASCII, 400, 1416, "Custom origin hostnames with non-ASCII characters are not " \
				       "supported (%s). Check your input and try again.")        \
	X(ORIGIN_WILDCARD, 400, 1420, "Wildcard custom origin hostnames are not supported. Check " \
				      "your input and try again.")                               \
	X(HTTP2_SETTING, 400, 1422, "Invalid `http2` setting. Only 'on' or 'off' is accepted.")    \
	X(TLS12_ONLY_SETTING, 400, 1423, "Invalid `tls_1_2_only` setting. Only 'on' or 'off' is "  \
					 "accepted.")                                            \
	X(TLS13_SETTING, 400, 1424, "Invalid `tls_1_3` setting. Only 'on' or 'off' is accepted.")  \
	X(MIN_TLS_SETTING, 400, 1425, "Invalid `min_tls_version` setting. Only '1.0','1.1','1.2' " \
				      "or '1.3' is accepted.")                                   \
	X(CERT_PARSE, 400, 1426, "The certificate that you uploaded cannot be parsed (%s). Check " \
				 "your input and try again.")                                    \
	X(CERT_EXPIRED, 400, 1426, "The certificate that you uploaded is not valid now (%s). "     \
				   "Upload a current certificate.")                              \
	X(CERT_EMPTY, 400, 1427, "The certificate that you uploaded is empty. Check your input "  \
				 "and try again.")                                               \
	X(KEY_PARSE, 400, 1428, "The private key you uploaded cannot be parsed (%s). Check your "  \
				"input and try again.")                                          \
	X(KEY_MISMATCH, 400, 1429, "The private key you uploaded does not match the certificate. " \
				   "Check your input and try again.")                            \
	X(CUSTOM_CSR_ID, 400, 1430, "The custom CSR ID is invalid. Check your input and try "      \
				    "again.")                                                    \
	X(CUSTOM_CSR_NOT_FOUND, 404, 1431, "The custom CSR was not found.")                       \
	X(CUSTOM_CERT_NOT_FOUND, 404, 1436, "The certificate pack or the certificate was not "    \
					    "found on this custom hostname.")                    \
	X(DCV_METHOD, 400, 1432, "The validation method is not supported. Only `http`, `txt`, "    \
				 "`email` or `cname` are accepted.")                             \
	X(DCV_EMAIL_ACME, 400, 1432, "email validation is only available with the internal CA: " \
				     "certificate authority '%s' validates over ACME, which has " \
				     "no email method. Use `http`, `txt` or `cname`, or "        \
				     "certificate_authority `internal`.")                        \
	X(DCV_TYPE, 400, 1433, "The validation type is not supported. Only 'dv' is accepted.")     \
	X(SSL_INVALID, 400, 1434, "The SSL attribute is invalid: %s.")                            \
	X(ID_INVALID, 400, 1435, "The custom hostname ID is invalid. Check your input and try "    \
				 "again.")                                                       \
	X(NOT_FOUND, 404, 1436, "The custom hostname was not found.")                             \
	X(CONTAIN_INVALID, 400, 1437, "Invalid %s query parameter. It has to be smaller than 256 " \
				      "characters in length and cannot contain any special "     \
				      "characters.")                                             \
	X(ID_WITH_FILTERS, 400, 1438, "Cannot specify other filter parameters in addition to "     \
				      "`id`. Only one must be specified.")                       \
	X(HOSTNAME_IMMUTABLE, 409, 1439, "Modifying the custom hostname is not supported. Delete " \
					 "it and create the new one.")                           \
	X(DCV_BOTH_REQUIRED, 400, 1440, "Both validation type and validation method are "          \
					"required.")                                             \
	X(CERT_UNTRUSTED, 400, 1441, "The certificate that you uploaded is having trouble "         \
				     "bundling against the public trust store (%s). Check your " \
				     "input and try again.")                                     \
	X(CIPHERS_SETTING, 400, 1442, "Invalid `ciphers` setting (%s). Refer to the documentation " \
				      "for the list of accepted cipher suites.")                 \
	X(CIPHERS_TLS13, 400, 1443, "Cipher suite selection is not supported for a minimum TLS "   \
				    "version of 1.3.")                                           \
	X(CERT_MANY_LEAVES, 400, 1444, "The certificate chain that you uploaded has multiple "     \
				       "leaf certificates. Check your input and try again.")     \
	X(CERT_NO_LEAF, 400, 1445, "The certificate chain that you uploaded has no leaf "          \
				   "certificates. Check your input and try again.")              \
	X(CERT_HOSTNAME, 400, 1446, "The certificate that you uploaded does not include the "      \
				    "custom hostname - %s. Review your input and try again.")    \
	X(CERT_SIGALG, 400, 1447, "The certificate that you uploaded does not use a supported "    \
				  "signature algorithm (%s). Only SHA-256/ECDSA, SHA-384/ECDSA, "  \
				  "SHA-256/RSA, and SHA-1/RSA signature algorithms are "         \
				  "supported.")                                                  \
	X(WILDCARD_HTTP, 400, 1448, "Custom hostnames with wildcards cannot be validated over "    \
				    "http. Use the txt, cname or email validation method.")      \
	X(BUNDLE_METHOD, 400, 1449, "The request input `bundle_method` must be one of: "           \
				    "ubiquitous, optimal, force.")                               \
	/* Custom CSRs: their own code table (the numbers mean other things for hostnames). */   \
	X(CSR_FIELD, 400, 1400, "%s")                                                             \
	X(CSR_COUNTRY, 400, 1405, "Country field is required: %s.")                               \
	X(CSR_STATE, 400, 1406, "State field is required: %s.")                                   \
	X(CSR_LOCALITY, 400, 1407, "Locality field is required: %s.")                             \
	X(CSR_ORGANIZATION, 400, 1408, "Organization field is required: %s.")                     \
	X(CSR_COMMON_NAME, 400, 1409, "Common Name field is required: %s.")                       \
	X(CSR_CN_TOO_LONG, 400, 1410, "The specified Common Name is too long. Maximum allowed "    \
				      "length is 64 characters.")                                \
	X(CSR_NO_SAN, 400, 1411, "At least one subject alternative name (SAN) is required.")       \
	X(CSR_SAN_INVALID, 400, 1412, "Invalid subject alternative name(s) (SAN) (%s). SANs have " \
				      "to be smaller than 256 characters in length, cannot be IP " \
				      "addresses and cannot contain any special characters.")    \
	X(CSR_SAN_NON_ASCII, 400, 1413, "SANs with non-ASCII characters are not supported (%s).")  \
	X(CSR_SAN_RESERVED, 400, 1414, "Reserved top domain SANs, such as 'test', 'example', "     \
				       "'invalid' or 'localhost', are not supported (%s).")      \
	X(CSR_SAN_UNPARSABLE, 400, 1415, "Unable to parse SAN(s) - %s.")                          \
	X(CSR_SAN_EXAMPLE, 400, 1416, "SANs ending in example.com, example.net, or example.org "   \
				      "are prohibited (%s).")                                    \
	X(CSR_KEY_TYPE, 400, 1417, "Invalid key type. Only 'rsa2048' or 'p256v1' is accepted.")   \
	X(CSR_ID_INVALID, 400, 1418, "The custom CSR ID is invalid.")                             \
	X(CSR_NOT_FOUND, 404, 1419, "The custom CSR was not found.")                              \
	X(CSR_IN_USE, 409, 1420, "The custom CSR is associated with an active certificate pack. "  \
				 "You will need to delete all associated active certificate "    \
				 "packs before you can delete the custom CSR.")                  \
	X(FALLBACK_NOT_FOUND, 404, 1551, "No fallback origin is set for this zone.")              \
	X(AUTH_MISSING, 400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")   \
	X(AUTH_FORMAT, 400, 6003, "Invalid request headers")                                      \
	X(AUTH_BAD_TOKEN, 403, 9109, "Invalid access token")                                      \
	X(AUTH_BAD_KEY, 403, 9103, "Unknown X-Auth-Key or X-Auth-Email")                          \
	X(AUTH_ZONE, 403, 10000, "Authentication error")                                          \
	X(RATE_LIMITED, 429, 971, "Please wait and consider throttling your request speed")       \
	X(BAD_ZONE_ID, 400, 7003, "Could not route to %s, perhaps your object identifier is "      \
				  "invalid?")                                                    \
	X(NO_ROUTE, 404, 7003, "Could not route to %s, perhaps your object identifier is "         \
			       "invalid?")                                                       \
	X(METHOD_NOT_ALLOWED, 405, 10405, "Method not allowed")                                   \
	X(INTERNAL, 500, 1500, "Internal Server Error")                                           \
	/* Notifications (/accounts/{id}/alerting/v3): Cloudflare documents no codes; ours. */     \
	X(ALERTING_INPUT, 400, 17000, "%s")                                                       \
	X(WEBHOOK_NOT_FOUND, 404, 17002, "Webhook destination not found")                         \
	X(POLICY_NOT_FOUND, 404, 17003, "Policy not found")                                       \
	X(UNAVAILABLE, 503, 1503, "Service temporarily unavailable, please retry")

enum api_error {
#define API_ERROR_ENUM(name, http, code, msg) API_ERR_##name,
	API_ERRORS(API_ERROR_ENUM)
#undef API_ERROR_ENUM
	API_ERR_COUNT_
};

/* HTTP status, Cloudflare code and message format of ERR. */
unsigned api_error_http_status(enum api_error err);
int api_error_code(enum api_error err);
const char *api_error_format(enum api_error err);

#endif
