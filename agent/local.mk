# agent/ -- the daemons: the only layer that sees both stats/ and connectors/. driftd.c holds
# little more than main; everything else is in libagent.a, which the tests link.
AGENT_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir) $(GSL_CFLAGS) $(RDKAFKA_CFLAGS) \
	$(HIREDIS_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS)

noinst_LIBRARIES += agent/libagent.a
agent_libagent_a_CPPFLAGS = $(AGENT_CPPFLAGS)
agent_libagent_a_SOURCES = agent/about.h agent/about.c

bin_PROGRAMS += driftd
driftd_CPPFLAGS = $(AGENT_CPPFLAGS)
driftd_SOURCES = agent/driftd.c
driftd_LDADD = agent/libagent.a $(CONN_LIBS) $(STATS_LIBS)
