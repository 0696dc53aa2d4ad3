/*
 * versions.h -- run-time versions of the client libraries the connectors use, for
 * `driftd --version` and driftd_build_info.
 */
#ifndef DRIFTD_CONN_VERSIONS_H
#define DRIFTD_CONN_VERSIONS_H

#include <stddef.h>

/* Writes "librdkafka X hiredis Y jansson Z libmicrohttpd W" into buf (NUL-terminated, truncated
 * to cap). Returns the length it needed, like snprintf. */
int conn_versions(char *buf, size_t cap);

#endif
