/*
 * decide.h -- from rule outcomes to a rollback decision (SPEC.md "Windows and decisions").
 *
 * Per (model, version), each enabled rule keeps a streak of consecutive breaching windows: a
 * breach adds one, a pass resets it, an inconclusive window leaves it as it is (it is no
 * evidence either way; doc/rules.md). A rule whose streak reaches breach_windows "fires". A
 * firing becomes an event unless
 *   - the model is on hold (driftctl hold)                        -> blocked "hold"
 *   - the version is latched (fired before; driftctl rearm clears) -> blocked "latched"
 *   - the model's cooldown since its last rollback has not passed -> blocked "cooldown"
 * The event is io.driftd.rollback.dryrun when dry-run is on globally or for every firing rule;
 * otherwise io.driftd.rollback with to_version = the model's last known good version, or
 * io.driftd.rollback.needs_target (to_version null) when there is none or it is this very
 * version. After an event the streaks restart; a rollback or needs_target latches the version in
 * the store, a dry run only in memory (so turning dry-run off does not leave versions latched).
 * A P0 alert (trigger "alert", agent_decide_alert) bypasses the streak, not hold or latch.
 */
#ifndef DRIFTD_AGENT_DECIDE_H
#define DRIFTD_AGENT_DECIDE_H

#include "agent/rules.h"

#define AGENT_EVENT_ROLLBACK	 "io.driftd.rollback"
#define AGENT_EVENT_DRYRUN	 "io.driftd.rollback.dryrun"
#define AGENT_EVENT_NEEDS_TARGET "io.driftd.rollback.needs_target"

/* Streaks of one (model, version). */
struct agent_streaks {
	unsigned n[AGENT_RULE_COUNT]; /* consecutive breaching windows per rule */
	int dry_latched;	      /* a dry-run event was emitted (in memory only) */
};

/* What the store says about the model and version at decision time. */
struct agent_decide_ctx {
	int hold;		  /* model on hold */
	int latched;		  /* version latched */
	int in_cooldown;	  /* a rollback of the model within cooldown */
	const char *good_version; /* last known good, or NULL */
	const char *version;	  /* the version under evaluation */
};

struct agent_decision {
	int fire;		 /* an event is to be emitted */
	const char *type;	 /* AGENT_EVENT_* when fire */
	const char *trigger;	 /* "drift", "latency", "accuracy", "error_rate" */
	const char *to_version;	 /* NULL for needs_target / dry run without target */
	unsigned fired_mask;	 /* bit r: rule r fired (streak reached) */
	unsigned breach_windows; /* the longest firing streak */
	int dry_run;
	const char *blocked;		   /* fired but no event: "hold", "latched", "cooldown" */
	unsigned streak[AGENT_RULE_COUNT]; /* streaks after this window */
};

/* Updates st with the window's outcomes and decides. global_dry_run from the config. */
void agent_decide(struct agent_streaks *st, const struct agent_eval *e, unsigned breach_windows,
		  int global_dry_run, const struct agent_decide_ctx *ctx, struct agent_decision *d);

/* The decision on a firing P0 alert (trigger "alert"): no streak and no cooldown; hold blocks it
 * ("hold"), then a latched version ("latched"). Otherwise it fires: io.driftd.rollback.dryrun
 * under global dry run, else io.driftd.rollback to the good version, or needs_target when there
 * is none or it is this very version (to_version is then NULL in every type). */
void agent_decide_alert(int global_dry_run, const struct agent_decide_ctx *ctx,
			struct agent_decision *d);

#endif
