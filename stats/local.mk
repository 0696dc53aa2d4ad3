# stats/ -- pure computation. Compiled without -I$(top_srcdir): it cannot include a connector or
# agent header. Links libc, libm and GSL only (checked by tests/tools/check-layering.sh).
STATS_CPPFLAGS = -I$(top_builddir) $(GSL_CFLAGS)

noinst_LIBRARIES += stats/libstats.a
stats_libstats_a_CPPFLAGS = $(STATS_CPPFLAGS)
stats_libstats_a_SOURCES = \
	stats/stats.h stats/status.c \
	stats/codec.h stats/codec.c \
	stats/hist.h stats/hist.c stats/hist_kernel.h stats/hist_dispatch.c stats/hist_ref.c \
	stats/edges.c \
	stats/cat.h stats/cat.c \
	stats/divergence.h stats/divergence.c stats/stattests.c stats/counts.h \
	stats/sketch.h stats/sketch.c
stats_libstats_a_LIBADD =

# One file per ISA, each with its own flags (libsodium's pattern); their objects are added to
# libstats.a. The dispatcher only calls them when the CPU has the ISA.
if HIST_AVX2
noinst_LIBRARIES += stats/libhist_avx2.a
stats_libhist_avx2_a_CPPFLAGS = $(STATS_CPPFLAGS)
stats_libhist_avx2_a_CFLAGS = $(AM_CFLAGS) $(CFLAGS_AVX2)
stats_libhist_avx2_a_SOURCES = stats/hist_avx2.c stats/hist_kernel.h
stats_libstats_a_LIBADD += $(stats_libhist_avx2_a_OBJECTS)
endif
if HIST_AVX512
noinst_LIBRARIES += stats/libhist_avx512.a
stats_libhist_avx512_a_CPPFLAGS = $(STATS_CPPFLAGS)
stats_libhist_avx512_a_CFLAGS = $(AM_CFLAGS) $(CFLAGS_AVX512)
stats_libhist_avx512_a_SOURCES = stats/hist_avx512.c stats/hist_kernel.h
stats_libstats_a_LIBADD += $(stats_libhist_avx512_a_OBJECTS)
endif

STATS_LIBS = stats/libstats.a $(GSL_LIBS) -lm
