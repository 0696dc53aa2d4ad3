/*
 * pairs.h -- the (model, version) table: every pair the engine tracks, with its open windows
 * (sorted by start), its sliding past (the last sliding_k - 1 closed windows), its rule streaks,
 * how far its windows are closed, and its last decided window as the metrics show it.
 *
 * Bounds: at most max_pairs pairs. When the table is full, the least recently active pair (by
 * the wall clock of its last record) that is idle (no open window) or starved (fewer than
 * min_samples records in its open windows) and that its owner says may be forgotten
 * (agent_pairs_hooks.can_forget: its state is saved, or it never decided anything) makes room:
 * its streaks and its open windows are forgotten (a junk name cannot keep a real pair out). Pairs
 * live at stable addresses until forgotten or the table is freed. The pair used last is tried
 * first: streams are usually dominated by one pair. Windows are opened with the baseline the
 * baselines cache chooses (baselines.h), when the window's start is not already closed (a record
 * for it is late).
 */
#ifndef DRIFTD_AGENT_PAIRS_H
#define DRIFTD_AGENT_PAIRS_H

#include "agent/baselines.h"
#include "agent/decide.h"
#include "agent/window.h"

#include <stddef.h>
#include <stdint.h>

/* Events emitted for a pair, by type (the metrics' driftd_rollbacks_total). */
enum agent_pair_event { AGENT_PAIR_ROLLBACK = 0, AGENT_PAIR_DRYRUN, AGENT_PAIR_NEEDS_TARGET };

struct agent_pair {
	char *model, *version; /* NUL-terminated copies */
	size_t mlen, vlen;
	struct agent_window **win; /* open windows, sorted by start */
	size_t nwin, capwin;
	int64_t closed_upto;	      /* windows ending at or before this are closed */
	int any_closed;		      /* closed_upto is meaningful */
	struct agent_streaks streaks; /* rule streaks */
	struct agent_window **past;   /* sliding view: the last sliding_k - 1 closed windows */
	size_t npast;
	char *base_version;		   /* baseline version of the newest open window, or NULL */
	uint64_t events[3];		   /* emitted, by enum agent_pair_event */
	int64_t last_wall;		   /* wall time of its last record (the engine sets it) */
	struct agent_window_summary *last; /* the last decided window (NULL: none yet) */
};

/* What the table's owner decides about forgetting an idle pair. */
struct agent_pairs_hooks {
	/* 1 when idle pair p may be forgotten to make room (NULL: never) */
	int (*can_forget)(void *arg, const struct agent_pair *p);
	/* p is about to be forgotten, with its open windows (NULL: nothing to do) */
	void (*forget)(void *arg, const struct agent_pair *p);
	void *arg;
};

struct agent_pairs;

/* NULL on no memory. bl is borrowed (it chooses each new window's baseline). */
struct agent_pairs *agent_pairs_new(size_t max_pairs, int64_t window_ms, size_t max_categories,
				    unsigned sliding_k, enum agent_baseline_ref ref,
				    struct agent_baselines *bl);
void agent_pairs_free(struct agent_pairs *t);
void agent_pairs_set_hooks(struct agent_pairs *t, const struct agent_pairs_hooks *h);
/* A pair with fewer records than n in its open windows gives its slot to a new pair (0: only
 * idle pairs do). */
void agent_pairs_set_min_samples(struct agent_pairs *t, uint64_t n);
/* At most n open windows per pair (0: no bound). */
void agent_pairs_set_max_windows(struct agent_pairs *t, size_t n);
/* The records in p's open windows. */
uint64_t agent_pair_open_records(const struct agent_pair *p);

/* The pair of (model, version) when the table has it, else NULL. */
struct agent_pair *agent_pairs_find(struct agent_pairs *t, const char *model, size_t mlen,
				    const char *version, size_t vlen);
/* The pair of (model, version), created when new; NULL when the table is full of pairs that
 * cannot be forgotten, or on no memory. */
struct agent_pair *agent_pairs_get(struct agent_pairs *t, const char *model, size_t mlen,
				   const char *version, size_t vlen);
size_t agent_pairs_count(const struct agent_pairs *t);
/* The i-th pair (0 <= i < agent_pairs_count): the order changes when a pair is forgotten. */
struct agent_pair *agent_pairs_at(const struct agent_pairs *t, size_t i);
/* The model's most recently active pair (newest open window, else latest closed), or NULL. */
struct agent_pair *agent_pairs_newest(const struct agent_pairs *t, const char *model);
int64_t agent_pairs_window_ms(const struct agent_pairs *t);

enum agent_slot {
	AGENT_SLOT_OPEN = 0, /* the window holding the time (found or opened) */
	AGENT_SLOT_LATE,     /* its window is closed already, or behind the watermark */
	AGENT_SLOT_NOMEM,    /* no memory to open it */
	AGENT_SLOT_FULL	     /* it would be one open window more than the bound */
};
/* The open window of p holding event time ts, opened (with its baseline) when needed. A window
 * is never opened behind the horizon (agent_pairs_set_horizon): a record for it is late, even
 * when its pair never had that window. An open window behind it (one waiting for other agents'
 * counts) still takes records. */
enum agent_slot agent_pair_window(struct agent_pairs *t, struct agent_pair *p, int64_t ts,
				  struct agent_window **out);
/* The watermark windows are closed up to: the engine's current low water minus the grace.
 * Windows ending at or before it are never opened. INT64_MIN (the start, or a stream just
 * assigned holds time back): none. */
void agent_pairs_set_horizon(struct agent_pairs *t, int64_t horizon);

/* Marks window w of p decided or skipped: p's windows are closed up to its end. */
void agent_pair_mark_closed(struct agent_pair *p, const struct agent_window *w);
/* Keeps closed window w among p's sliding past (the oldest one there freed): 1 when kept, 0
 * when not (no sliding view, no memory: the caller frees it). */
int agent_pair_keep_past(struct agent_pairs *t, struct agent_pair *p, struct agent_window *w);
/* Removes p's n oldest open windows from its open list (they were closed: kept or freed). */
void agent_pair_drop_oldest(struct agent_pair *p, size_t n);
/* With sliding_k > 1: a new window holding w merged with p's sliding past of the same baseline
 * (NULL without a past, or on no memory: then w alone is evaluated). */
struct agent_window *agent_pair_sliding_view(const struct agent_pairs *t,
					     const struct agent_pair *p,
					     const struct agent_window *w);

/* Keeps what the metrics show of the window just evaluated (nothing kept on no memory). */
void agent_pair_set_decided(struct agent_pair *p, const struct agent_eval *ev, uint64_t labels,
			    int64_t wall_ms);

#endif
