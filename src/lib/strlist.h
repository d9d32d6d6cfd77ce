/* Fixed lists of accepted strings: enum values of the API, setting names, CA names. */
#ifndef SAASEDGE_LIB_STRLIST_H
#define SAASEDGE_LIB_STRLIST_H

#include <stddef.h>

#define STRLIST_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 1 when S equals one of the N strings of LIST, else 0. */
int strlist_contains(const char *const *list, size_t n, const char *s);

#endif
