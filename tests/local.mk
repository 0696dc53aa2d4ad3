# tests/ -- cmocka unit tests (TAP through automake's tap-driver), shell checks, fuzz-target
# replays, benchmarks (make bench) and fuzzers (make fuzz).
TEST_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir) -I$(top_srcdir)/tests/unit $(GSL_CFLAGS) \
	$(JANSSON_CFLAGS) $(CMOCKA_CFLAGS) -DDRIFTD_TEST_DATA='"$(abs_top_srcdir)/tests/data"'
TEST_AGENT_CPPFLAGS = $(TEST_CPPFLAGS) $(AGENT_CPPFLAGS)
TEST_AGENT_LIBS = $(AGENT_LIBS) $(CMOCKA_LIBS)

LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh .test
SH_LOG_COMPILER = $(SHELL)
# .test scripts print TAP (one counted result per check)
TEST_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	NM='$(NM)' CLANG_FORMAT='$(CLANG_FORMAT)' PYTHON3='$(PYTHON3)'; export top_srcdir \
	top_builddir NM CLANG_FORMAT PYTHON3;

# ---- unit tests: one program per module, tests/unit/<layer>/test_<module>.c ----
# Adding one is one line: its name in the list of its layer. automake builds it from its .c with
# the program-wide defaults AM_CPPFLAGS and LDADD below (every other program and library of the
# tree sets its own CPPFLAGS and LDADD or LIBADD, so the defaults reach only these tests) and
# `make check` runs it, TAP by tap-driver. The static libraries give each test only the objects
# it references: a stats/ test includes stats/ headers only and so links only stats/ code.
AM_CPPFLAGS = $(TEST_AGENT_CPPFLAGS)
LDADD = $(TEST_AGENT_LIBS)
EXTRA_DIST += tests/unit/testutil.h tests/unit/redisproc.h tests/unit/record_same.h \
	tests/unit/connectors/store_suite.h

STATS_UNIT_TESTS = \
	tests/unit/stats/test_codec \
	tests/unit/stats/test_hist \
	tests/unit/stats/test_edges \
	tests/unit/stats/test_cat \
	tests/unit/stats/test_divergence \
	tests/unit/stats/test_stattests \
	tests/unit/stats/test_sketch

CONN_UNIT_TESTS = \
	tests/unit/connectors/test_text \
	tests/unit/connectors/test_endpoint \
	tests/unit/connectors/test_record \
	tests/unit/connectors/test_label_decoder \
	tests/unit/connectors/test_io_file \
	tests/unit/connectors/test_kafka \
	tests/unit/connectors/test_store_dir \
	tests/unit/connectors/test_store_redis \
	tests/unit/connectors/test_http \
	tests/unit/connectors/test_alertmanager

AGENT_UNIT_TESTS = \
	tests/unit/agent/test_config \
	tests/unit/agent/test_jsonpos \
	tests/unit/agent/test_baseline \
	tests/unit/agent/test_window \
	tests/unit/agent/test_rules \
	tests/unit/agent/test_decide \
	tests/unit/agent/test_event \
	tests/unit/agent/test_watermark \
	tests/unit/agent/test_coverage \
	tests/unit/agent/test_join_table \
	tests/unit/agent/test_engine \
	tests/unit/agent/test_checkpoint \
	tests/unit/agent/test_log \
	tests/unit/agent/test_metrics \
	tests/unit/agent/test_admin

UNIT_TESTS = $(STATS_UNIT_TESTS) $(CONN_UNIT_TESTS) $(AGENT_UNIT_TESTS)
# `make check-valgrind` (./dev valgrind, CI): the unit tests again under valgrind memcheck, in a
# log of their own; any error or definitely lost block fails the test (exit 99)
VALGRIND_CMD = valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no
check-valgrind: $(UNIT_TESTS)
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$(UNIT_TESTS)" LOG_COMPILER="$(VALGRIND_CMD)" \
		TEST_SUITE_LOG=test-suite-valgrind.log
.PHONY: check-valgrind
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

# ---- integration tests: real programs end to end, one TAP script each. A new one sources
# tests/integration/lib.sh (TAP helpers, a temp dir, redis-server and mock-kafka, cleanup of
# everything it started) and is one line: its name in INTEGRATION_TESTS. ----
INTEGRATION_TESTS = tests/integration/driftctl.test tests/integration/replay.test \
	tests/integration/demo.test tests/integration/kafka.test \
	tests/integration/restart.test tests/integration/labels.test \
	tests/integration/scale.test tests/integration/prometheus.test \
	tests/integration/alertmanager.test tests/integration/outbox.test \
	tests/integration/kafka-log.test tests/integration/http-limits.test \
	tests/integration/liveness.test tests/integration/group-stop.test \
	tests/integration/takeover.test
# churn (issue 11): three agents on six partitions, counted from the producer side (churn.sh)
INTEGRATION_TESTS += tests/integration/churn-together.test \
	tests/integration/churn-staggered.test tests/integration/churn-sigkill.test \
	tests/integration/churn-sigterm.test tests/integration/churn-added.test \
	tests/integration/churn-rolling.test
# operators' packaging: alert rules, dashboard, man pages, deployment examples, make install
INTEGRATION_TESTS += tests/integration/promtool-rules.test \
	tests/integration/grafana-dashboard.test tests/integration/man-pages.test \
	tests/integration/packaging.test tests/integration/install.test
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib.sh tests/integration/churn.sh
$(INTEGRATION_TESTS:.test=.log): driftd$(EXEEXT) driftctl$(EXEEXT)

# ---- the fault matrix (issue 12, doc/reliability.md): one scenario per script, on
# tests/integration/lib.sh ----
FAULT_TESTS = tests/faults/redis-at-start.test tests/faults/redis-slow.test \
	tests/faults/wall-clock.test tests/faults/kafka-down.test tests/faults/events-errors.test \
	tests/faults/sigkill-random.test
TESTS += $(FAULT_TESTS)
EXTRA_DIST += $(FAULT_TESTS)
$(FAULT_TESTS:.test=.log): driftd$(EXEEXT) driftctl$(EXEEXT)

# ---- fuzz targets: every parser has one. `make check` replays the committed corpus plus
# seeded random and mutated inputs through each (tests/fuzz/replay.c); `make fuzz` builds them
# with libFuzzer (clang) for real fuzzing. ----
FUZZ_TARGETS = tests/fuzz/fuzz_hist tests/fuzz/fuzz_sketch tests/fuzz/fuzz_cat \
	tests/fuzz/fuzz_record tests/fuzz/fuzz_label tests/fuzz/fuzz_config tests/fuzz/fuzz_baseline tests/fuzz/fuzz_window \
	tests/fuzz/fuzz_alertmanager tests/fuzz/fuzz_text tests/fuzz/fuzz_http
check_PROGRAMS += $(FUZZ_TARGETS)
TESTS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_hist_SOURCES = tests/fuzz/fuzz_hist.c tests/fuzz/replay.c
tests_fuzz_fuzz_hist_CPPFLAGS = $(TEST_CPPFLAGS) -DFUZZ_NAME='"hist"'
tests_fuzz_fuzz_hist_LDADD = $(STATS_LIBS)
tests_fuzz_fuzz_sketch_SOURCES = tests/fuzz/fuzz_sketch.c tests/fuzz/replay.c
tests_fuzz_fuzz_sketch_CPPFLAGS = $(TEST_CPPFLAGS) -DFUZZ_NAME='"sketch"'
tests_fuzz_fuzz_sketch_LDADD = $(STATS_LIBS)
tests_fuzz_fuzz_cat_SOURCES = tests/fuzz/fuzz_cat.c tests/fuzz/replay.c
tests_fuzz_fuzz_cat_CPPFLAGS = $(TEST_CPPFLAGS) -DFUZZ_NAME='"cat"'
tests_fuzz_fuzz_cat_LDADD = $(STATS_LIBS)
tests_fuzz_fuzz_record_SOURCES = tests/fuzz/fuzz_record.c tests/fuzz/replay.c
tests_fuzz_fuzz_record_CPPFLAGS = $(TEST_AGENT_CPPFLAGS) -DFUZZ_NAME='"record"'
tests_fuzz_fuzz_record_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_label_SOURCES = tests/fuzz/fuzz_label.c tests/fuzz/replay.c
tests_fuzz_fuzz_label_CPPFLAGS = $(TEST_AGENT_CPPFLAGS) -DFUZZ_NAME='"label"'
tests_fuzz_fuzz_label_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_alertmanager_SOURCES = tests/fuzz/fuzz_alertmanager.c tests/fuzz/replay.c
tests_fuzz_fuzz_alertmanager_CPPFLAGS = $(TEST_CPPFLAGS) $(CONN_CPPFLAGS) \
	-DFUZZ_NAME='"alertmanager"'
tests_fuzz_fuzz_alertmanager_LDADD = $(CONN_LIBS)
tests_fuzz_fuzz_text_SOURCES = tests/fuzz/fuzz_text.c tests/fuzz/replay.c
tests_fuzz_fuzz_text_CPPFLAGS = $(TEST_CPPFLAGS) $(CONN_CPPFLAGS) -DFUZZ_NAME='"text"'
tests_fuzz_fuzz_text_LDADD = $(CONN_LIBS)
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c tests/fuzz/replay.c
# a request over loopback per input, up to 20 ms each: fewer inputs than the other targets
tests_fuzz_fuzz_http_CPPFLAGS = $(TEST_CPPFLAGS) $(CONN_CPPFLAGS) -DFUZZ_NAME='"http"' \
	-DFUZZ_REPLAY_ITERATIONS=2000
tests_fuzz_fuzz_http_LDADD = $(CONN_LIBS) -lpthread
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/replay.c
tests_fuzz_fuzz_config_CPPFLAGS = $(TEST_AGENT_CPPFLAGS) -DFUZZ_NAME='"config"'
tests_fuzz_fuzz_config_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_window_SOURCES = tests/fuzz/fuzz_window.c tests/fuzz/replay.c
tests_fuzz_fuzz_window_CPPFLAGS = $(TEST_AGENT_CPPFLAGS) -DFUZZ_NAME='"window"'
tests_fuzz_fuzz_window_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_baseline_SOURCES = tests/fuzz/fuzz_baseline.c tests/fuzz/replay.c
tests_fuzz_fuzz_baseline_CPPFLAGS = $(TEST_AGENT_CPPFLAGS) -DFUZZ_NAME='"baseline"'
tests_fuzz_fuzz_baseline_LDADD = $(AGENT_LIBS)
EXTRA_DIST += tests/fuzz/fuzz.h tests/fuzz/run-libfuzzer.sh tests/fuzz/corpus

fuzz:
	$(SHELL) $(top_srcdir)/tests/fuzz/run-libfuzzer.sh $(FUZZ_SECONDS)
# CI (.ci/run): every target for FUZZ_SMOKE_SECONDS (60) under libFuzzer, two at a time
FUZZ_SMOKE_SECONDS = 60
fuzz-smoke:
	FUZZ_DIR=$(abs_top_builddir)/_fuzz $(SHELL) $(top_srcdir)/tests/fuzz/run-libfuzzer.sh \
		$(FUZZ_SMOKE_SECONDS)
.PHONY: fuzz fuzz-smoke

# ---- project checks (layering, format, generated docs) ----
TOOL_CHECKS = tests/tools/check-layering.sh tests/tools/check-format.sh \
	tests/tools/check-vectors.sh tests/tools/check-config-doc.sh
TESTS += $(TOOL_CHECKS)
EXTRA_DIST += $(TOOL_CHECKS) tests/tools/check-openmetrics.py
tests/tools/check-config-doc.log: driftd$(EXEEXT)

# ---- benchmarks: `make bench`, one JSON object per line; not tests ----
BENCHES = tests/bench/bench_hist tests/bench/bench_sketch tests/bench/bench_decode \
	tests/bench/bench_replay tests/bench/bench_kafka tests/bench/bench_http \
	tests/bench/bench_labels tests/bench/bench_metrics tests/bench/bench_alert
EXTRA_PROGRAMS += $(BENCHES)
tests_bench_bench_hist_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_hist_LDADD = $(STATS_LIBS)
tests_bench_bench_sketch_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_sketch_LDADD = $(STATS_LIBS)
tests_bench_bench_decode_CPPFLAGS = $(TEST_AGENT_CPPFLAGS)
tests_bench_bench_decode_LDADD = $(AGENT_LIBS)
tests_bench_bench_replay_CPPFLAGS = $(TEST_AGENT_CPPFLAGS)
tests_bench_bench_replay_LDADD = $(AGENT_LIBS)
tests_bench_bench_kafka_CPPFLAGS = $(TEST_AGENT_CPPFLAGS)
tests_bench_bench_kafka_LDADD = $(AGENT_LIBS)
tests_bench_bench_labels_CPPFLAGS = $(TEST_AGENT_CPPFLAGS)
tests_bench_bench_labels_LDADD = $(AGENT_LIBS)
tests_bench_bench_alert_CPPFLAGS = $(TEST_AGENT_CPPFLAGS)
tests_bench_bench_alert_LDADD = $(AGENT_LIBS) -lpthread
tests_bench_bench_metrics_CPPFLAGS = $(TEST_AGENT_CPPFLAGS)
tests_bench_bench_metrics_LDADD = $(AGENT_LIBS)
tests_bench_bench_http_CPPFLAGS = $(TEST_CPPFLAGS) $(CONN_CPPFLAGS)
tests_bench_bench_http_LDADD = $(CONN_LIBS)
CLEANFILES += $(BENCHES)

bench: $(BENCHES) driftd$(EXEEXT) driftctl$(EXEEXT)
	@for b in $(BENCHES); do ./$$b || exit 1; done
	@top_srcdir=$(top_srcdir) top_builddir=. $(SHELL) $(top_srcdir)/tests/bench/bench_agents.sh
.PHONY: bench

EXTRA_DIST += tests/gen/gen_stats_vectors.py tests/data tests/bench/benchutil.h tests/bench/benchsink.h \
	tests/bench/bench_agents.sh
