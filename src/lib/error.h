/* One return convention for the whole program: 0 on success or a negative SE_E* code.
 * The table below generates the enum, the names and the messages; the API maps these codes to
 * HTTP statuses and Cloudflare error codes in exactly one place (src/api/errors.c). */
#ifndef SAASEDGE_LIB_ERROR_H
#define SAASEDGE_LIB_ERROR_H

#define SE_ERRORS(X)                                                        \
	X(NOMEM, "out of memory")                                           \
	X(INVAL, "invalid argument")                                        \
	X(NOTFOUND, "not found")                                            \
	X(EXISTS, "already exists")                                         \
	X(CONFLICT, "conflicts with another zone's hostname")               \
	X(IO, "input/output error")                                         \
	X(DB, "database error")                                             \
	X(CRYPTO, "cryptographic operation failed")                         \
	X(LEASE, "job lease lost to another worker")                        \
	X(QUOTA, "quota exceeded")                                          \
	X(BUSY, "resource busy")                                            \
	X(TOOBIG, "value too large")                                        \
	X(PERM, "permission denied")                                        \
	X(CONFIG, "configuration error")                                    \
	X(ADDRINUSE, "address already in use")                              \
	X(UNAVAILABLE, "database unavailable")

enum se_err {
	SE_OK = 0,
#define SE_ERR_ENUM(name, msg) SE_E##name,
	SE_EFIRST_ = -1000,
	SE_ERRORS(SE_ERR_ENUM)
#undef SE_ERR_ENUM
	SE_ELAST_
};

/* Static message for an SE_E* code (or "success"); never NULL. */
const char *se_strerror(int err);
/* Static name such as "SE_ENOTFOUND"; never NULL. */
const char *se_errname(int err);

#endif
