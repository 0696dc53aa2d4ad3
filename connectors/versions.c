/*
 * versions.c -- the client libraries' versions: librdkafka and libmicrohttpd report theirs at
 * run time, hiredis and jansson only at build time.
 */
#include "connectors/versions.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <stdio.h>

int conn_versions(char *buf, size_t cap)
{
	return snprintf(buf, cap, "librdkafka %s hiredis %d.%d.%d jansson %s libmicrohttpd %s",
			rd_kafka_version_str(), HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH,
			JANSSON_VERSION, MHD_get_version());
}
