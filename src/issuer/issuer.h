/* The issuer role: worker threads that lease "hostname" jobs from the store and advance each
 * hostname's certificate pack one durable step at a time (keys, DCV, ACME or internal CA,
 * certificates). Everything it knows between steps lives in the store, so any process running
 * the role resumes any pack after a crash. */
#ifndef SAASEDGE_ISSUER_ISSUER_H
#define SAASEDGE_ISSUER_ISSUER_H

#include "lib/config.h"
#include "lib/secretbox.h"
#include "store/store.h"

struct issuer;

/* Opens the internal CA under cfg->data_dir and starts cfg->issuer.workers threads. CFG, ST and
 * BOX are borrowed and must outlive the issuer. *out is stopped and freed with issuer_stop.
 * SE_E* when the CA cannot be opened or a thread cannot start. Call from the main thread. */
int issuer_start(const struct config *cfg, struct store *st, const struct secretbox *box,
		 struct issuer **out);
/* Asks the workers to stop, waits for them (each finishes its current step) and frees IS.
 * NULL is fine. */
void issuer_stop(struct issuer *is);

#endif
