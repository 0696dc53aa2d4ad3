# connectors/ -- Kafka, Redis, JSON codecs, HTTP. Knows nothing of statistics: never includes a
# stats/ header and references no stats_* symbol (checked by tests/tools/check-layering.sh).
CONN_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir) $(RDKAFKA_CFLAGS) $(HIREDIS_CFLAGS) \
	$(JANSSON_CFLAGS) $(MHD_CFLAGS)

noinst_LIBRARIES += connectors/libconnectors.a
connectors_libconnectors_a_CPPFLAGS = $(CONN_CPPFLAGS)
connectors_libconnectors_a_SOURCES = connectors/versions.h connectors/versions.c

CONN_LIBS = connectors/libconnectors.a $(RDKAFKA_LIBS) $(HIREDIS_LIBS) $(JANSSON_LIBS) $(MHD_LIBS)
