# agent/ -- the daemons: the only layer that sees both stats/ and connectors/. driftd.c and
# driftctl.c hold little more than main; everything else is in libagent.a, which the tests link.
AGENT_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir) $(GSL_CFLAGS) $(RDKAFKA_CFLAGS) \
	$(HIREDIS_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS) $(NETTLE_CFLAGS)

noinst_LIBRARIES += agent/libagent.a
agent_libagent_a_CPPFLAGS = $(AGENT_CPPFLAGS)
agent_libagent_a_SOURCES = \
	agent/about.h agent/about.c \
	agent/accuracy.h agent/accuracy.c \
	agent/admin.h agent/admin.c \
	agent/baseline.h agent/baseline.c \
	agent/cmdline.h agent/cmdline.c \
	agent/config.h agent/config_impl.h agent/config.c agent/config_value.c \
	agent/config_load.c agent/config_check.c agent/config_doc.c \
	agent/jsonpos.h agent/jsonpos.c agent/ascii.h \
	agent/ctl.h agent/ctl.c \
	agent/decide.h agent/decide.c \
	agent/demo.h agent/demo.c \
	agent/engine.h agent/engine.c \
	agent/baselines.h agent/baselines.c \
	agent/pairs.h agent/pairs.c \
	agent/watermark.h agent/watermark.c \
	agent/emit.h agent/emit.c \
	agent/checkpoint.h agent/checkpoint.c \
	agent/coverage.h agent/coverage.c \
	agent/late_labels.h agent/late_labels.c \
	agent/event.h agent/event.c \
	agent/generate.h agent/generate.c \
	agent/join_table.h agent/join_table.c \
	agent/json_out.h \
	agent/log.h agent/log.c \
	agent/metrics.h agent/metrics.c \
	agent/mockkafka.h agent/mockkafka.c \
	agent/rules.h agent/rules.c \
	agent/run.h agent/run.c \
	agent/serve.h agent/serve.c \
	agent/metrics_snapshot.h agent/metrics_snapshot.c \
	agent/timefmt.h agent/timefmt.c \
	agent/traffic.h agent/traffic.c \
	agent/util.h agent/util.c \
	agent/window.h agent/window.c \
	agent/window_codec.h agent/window_codec.c

AGENT_LIBS = agent/libagent.a $(CONN_LIBS) $(STATS_LIBS)

bin_PROGRAMS += driftd driftctl
driftd_CPPFLAGS = $(AGENT_CPPFLAGS)
driftd_SOURCES = agent/driftd.c
driftd_LDADD = $(AGENT_LIBS)
driftctl_CPPFLAGS = $(AGENT_CPPFLAGS)
driftctl_SOURCES = agent/driftctl.c
driftctl_LDADD = $(AGENT_LIBS)
