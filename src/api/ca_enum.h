/* ssl.certificate_authority as Cloudflare's typed clients accept it (docs/decisions/0030). */
#ifndef SAASEDGE_API_CA_ENUM_H
#define SAASEDGE_API_CA_ENUM_H

#include "lib/config.h"

/* The value of Cloudflare's CertificateCA enum (digicert, google, lets_encrypt, ssl_com) that
 * saasedge's CA named CA is, or NULL when it is none of them: CA must be one of those four names
 * and be configured as ca.<name> with an https directory of that CA's own domain. A name alone
 * proves nothing (a test CA may be called lets_encrypt), and an answer of another CA under one
 * of these names would be sent back by Terraform as that CA. CFG and CA are borrowed; the result
 * is a static string. */
const char *ca_enum_value(const struct config *cfg, const char *ca);

#endif
