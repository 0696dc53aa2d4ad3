/*
 * util.h -- two small helpers every agent module needs: formatting a message into a caller's
 * error buffer, and copying a byte range into a NUL-terminated string.
 */
#ifndef DRIFTD_AGENT_UTIL_H
#define DRIFTD_AGENT_UTIL_H

#include <stddef.h>

/* snprintf into err (nothing when err is NULL or errlen 0). */
void agent_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A malloc'd NUL-terminated copy of s[0..n), or NULL on no memory. */
char *agent_strndup(const char *s, size_t n);

#endif
