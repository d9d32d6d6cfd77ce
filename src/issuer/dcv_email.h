/* Email DCV for the internal CA (steps of issue_internal.c): the five role addresses of the
 * hostname's registered domain are shown, one approval link is mailed per validation attempt,
 * and the pack goes on once the link's page was used (src/api/routes_approval.c). */
#ifndef SAASEDGE_ISSUER_DCV_EMAIL_H
#define SAASEDGE_ISSUER_DCV_EMAIL_H

#include "issuer/issuer_int.h"

/* Step "order" with method email: OUT shows validation_records [{"emails": […]}], the
 * attempt's clock starts, and the next step is "mail". */
int dcv_email_prepare(struct pack_work *w, struct step_out *out);
/* Step "mail": a new approval token (only its hash stored), the link mailed to the five
 * addresses; then step "check". A failed send is explained in OUT and retried with backoff,
 * with a new token. Blocks the worker up to ~10 s on the SMTP server. */
int dcv_email_mail(struct pack_work *w, struct step_out *out);
/* Within step "check": 0 when this attempt's approval was given; 1 when OUT says to wait (the
 * approval makes the job due at once); < 0 on a store error. */
int dcv_email_check(struct pack_work *w, struct step_out *out);

#endif
