# connectors/ -- Kafka, Redis, JSON codecs, HTTP. Knows nothing of statistics: never includes a
# stats/ header and references no stats_* symbol (checked by tests/tools/check-layering.sh).
CONN_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir) $(RDKAFKA_CFLAGS) $(HIREDIS_CFLAGS) \
	$(JANSSON_CFLAGS) $(MHD_CFLAGS) $(NETTLE_CFLAGS)

noinst_LIBRARIES += connectors/libconnectors.a
connectors_libconnectors_a_CPPFLAGS = $(CONN_CPPFLAGS)
connectors_libconnectors_a_CXXFLAGS = $(AM_CXXFLAGS) -fno-exceptions $(SIMDJSON_CFLAGS)
connectors_libconnectors_a_SOURCES = \
	connectors/versions.h connectors/versions.c \
	connectors/text.h connectors/text.c \
	connectors/clock.h connectors/clock.c \
	connectors/endpoint.h connectors/endpoint.c \
	connectors/buf.h connectors/hash.h \
	connectors/record.h connectors/record_impl.h connectors/record.c \
	connectors/record_nonfinite.c \
	connectors/record_jansson.c \
	connectors/label_decoder.h connectors/label_decoder.c \
	connectors/io.h connectors/io_impl.h connectors/io.c connectors/io_file.c \
	connectors/store.h connectors/store_impl.h connectors/store.c \
	connectors/atomic_file.h connectors/atomic_file.c \
	connectors/store_dir_impl.h connectors/store_dir.c connectors/store_dir_ckpt.c \
	connectors/store_redis_conn.h connectors/store_redis_conn.c connectors/store_redis.c \
	connectors/store_redis_ckpt.c \
	connectors/kafka.h connectors/kafka.c \
	connectors/kafka_census.h connectors/kafka_census.c \
	connectors/http.h connectors/http.c \
	connectors/alertmanager.h connectors/alertmanager.c
# the one C++ file: simdjson On-Demand behind a C ABI (record_impl.h)
if HAVE_SIMDJSON
connectors_libconnectors_a_SOURCES += connectors/record_simdjson.cc
endif

CONN_LIBS = connectors/libconnectors.a $(RDKAFKA_LIBS) $(HIREDIS_LIBS) $(JANSSON_LIBS) \
	$(MHD_LIBS) $(SIMDJSON_LIBS) $(NETTLE_LIBS)
