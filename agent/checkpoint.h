/*
 * checkpoint.h -- exactly-once accounting (doc/delivery.md; the public side is engine.h
 * "exactly-once checkpoints"): the engine's partial windows, stream offsets and decision states
 * committed together to the store, restored at start, merged at decision time.
 *
 * The checkpointer keeps its own bookkeeping: per stream its name, next offset, committed
 * offset and stored high-water mark; per open window the change counter it committed last
 * (window.h updates) and whether other instances may hold partials of it; per pair whether its
 * decision state changed since the last commit. It reads the pairs, the watermark and the
 * cooldowns through their headers and changes them only when it restores or takes over a
 * stored state.
 */
#ifndef DRIFTD_AGENT_CHECKPOINT_H
#define DRIFTD_AGENT_CHECKPOINT_H

#include "agent/config.h"
#include "agent/coverage.h"
#include "agent/emit.h"
#include "agent/engine.h"
#include "agent/pairs.h"
#include "agent/watermark.h"
#include "connectors/io.h"
#include "connectors/store.h"

/* What the checkpointer works on (all borrowed; they outlive it). */
struct agent_ckpt_env {
	const struct agent_config *c;
	struct conn_store *store;
	struct agent_pairs *pairs;
	struct agent_watermark *wm;
	struct agent_emitter *em;
	struct agent_counters *k;
	int64_t grace_ms;
	int64_t coverage_wait_ms; /* how long a window waits for partitions not accounted for */
};

struct agent_ckpt;

/* NULL on no memory. Nothing is read from the store yet (agent_ckpt_restore). */
struct agent_ckpt *agent_ckpt_new(const struct agent_ckpt_env *env, const char *scope,
				  const char *instance, int64_t interval_ms);
void agent_ckpt_free(struct agent_ckpt *ck);
/* Restores from the store: the decision states, the windows other instances left partials of,
 * the events waiting for delivery. -1 with err when the store cannot be read. */
int agent_ckpt_restore(struct agent_ckpt *ck, char *err, size_t errlen);
void agent_ckpt_lock_ttl(struct agent_ckpt *ck, int64_t ms);

/* The census of the input partitions (coverage.h): without one, the partitions a window waits
 * for are this agent's and those in the store. */
void agent_ckpt_census(struct agent_ckpt *ck, agent_census_fn fn, void *arg);

/* What to do with a window whose end the watermark passed. */
enum agent_ckpt_close {
	AGENT_CKPT_DECIDE = 0, /* decide it: the other instances' partials are merged into it */
	AGENT_CKPT_SKIP,       /* decided already (by another agent, or before a restart) */
	AGENT_CKPT_WAIT	       /* keep it open: a partition is not accounted for yet (coverage.h;
				* for coverage_wait_ms at most), another agent is deciding it, or
				* the store is unreachable and its counts are not all here */
};
/* *cov: the window's coverage when it is to be decided (complete, or what the wait left). */
enum agent_ckpt_close agent_ckpt_before_close(struct agent_ckpt *ck, struct agent_pair *p,
					      struct agent_window *w, struct agent_coverage *cov);
/* After w of p was decided or skipped: its partials are dropped at the next commit. */
void agent_ckpt_after_close(struct agent_ckpt *ck, const struct agent_pair *p,
			    const struct agent_window *w);
/* p's decision state changed: it is saved at the next commit. */
void agent_ckpt_pair_changed(struct agent_ckpt *ck, const struct agent_pair *p);
/* Whether p's decision state is saved (an idle p may then be forgotten). */
int agent_ckpt_pair_saved(struct agent_ckpt *ck, const struct agent_pair *p);
/* p is forgotten. */
void agent_ckpt_pair_forget(struct agent_ckpt *ck, const struct agent_pair *p);
/* Open window w is forgotten undecided (its pair gave its slot): no longer tracked; what the
 * store holds of it stays (the partials of this instance and the others: whoever decides the
 * window later merges them). */
void agent_ckpt_window_forget(struct agent_ckpt *ck, const struct agent_window *w);

/* Notes the position of message m of a topic (its stream's next offset). */
void agent_ckpt_note_offset(struct agent_ckpt *ck, const struct conn_msg *m);
/* A partition was assigned (hello m): its presence is committed with the next checkpoint, so
 * that other agents' windows wait for its records. Returns its stored high-water mark (the
 * largest record time counted of it, by any agent), or -1 when none is stored. */
int64_t agent_ckpt_hello(struct agent_ckpt *ck, const struct conn_msg *m);
/* A stream was taken away. */
void agent_ckpt_gone(struct agent_ckpt *ck, uint32_t stream);

/* Commits when due (force: now, if anything changed): 0 committed or nothing to commit, -1
 * failed (kept, retried next time). */
int agent_ckpt_commit(struct agent_ckpt *ck, int force);
/* See agent_engine_resume_offset and agent_engine_committed_offsets. */
int agent_ckpt_resume_offset(struct agent_ckpt *ck, const char *topic, int32_t partition,
			     int64_t *next);
void agent_ckpt_committed_offsets(struct agent_ckpt *ck, agent_offset_fn fn, void *arg);

/* Drops what was counted since the last commit (a rebalance while the store is unreachable:
 * the revoked partitions' next owner reads those records again from the stored offsets): every
 * open window goes back to its committed partial (empty when none), and every stream's next
 * offset to its committed one; fn (may be NULL) gets each stream that took messages since, with
 * the offset to read it again from. Returns the windows rewound. */
size_t agent_ckpt_rewind(struct agent_ckpt *ck, agent_rewind_fn fn, void *arg);

/* How long (ms, at monotonic time now) commits have been failing: 0 after a success. */
int64_t agent_ckpt_failing_ms(const struct agent_ckpt *ck, int64_t now);

#endif
