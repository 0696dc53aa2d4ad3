/*
 * engine_impl.h -- internal: the engine's state, shared by engine.c (records, windows,
 * decisions) and checkpoint.c (exactly-once checkpoints to the store). engine.h is the public
 * side.
 */
#ifndef DRIFTD_AGENT_ENGINE_IMPL_H
#define DRIFTD_AGENT_ENGINE_IMPL_H

#include "agent/engine.h"
#include "agent/window.h"

#define PENDING_MAX 1024 /* events kept for retry when the sink fails */

/* What the metrics show of a (model, version): its last decided window. */
struct pair_feature {
	char *name;
	double kl, psi, js; /* NaN when not computed */
	uint64_t n;
};
struct pair_last {
	int64_t decided_wall_ms; /* when it was decided (wall clock) */
	int64_t window_end_ms;
	uint64_t samples;
	struct pair_feature *f;
	size_t nf;
	double p50, p95, p99; /* seconds; NaN when none */
	double p95_ratio, accuracy, accuracy_delta, error_ratio, target_missing;
	int rule_enabled[AGENT_RULE_COUNT];
	enum agent_outcome rule_state[AGENT_RULE_COUNT];
	double rule_value[AGENT_RULE_COUNT], rule_threshold[AGENT_RULE_COUNT];
	uint64_t rule_n[AGENT_RULE_COUNT];
};

struct pair {
	char *model, *version; /* NUL-terminated copies */
	size_t mlen, vlen;
	struct agent_window **win; /* open windows, sorted by start */
	size_t nwin, capwin;
	int64_t closed_upto;	      /* windows ending at or before this are closed */
	int any_closed;		      /* closed_upto is meaningful */
	struct agent_streaks streaks; /* rule streaks */
	struct agent_window **past;   /* sliding view: the last sliding_k - 1 closed windows */
	size_t npast;
	char *base_version;	/* baseline version of the newest open window, or NULL */
	int state_dirty;	/* streaks or closed_upto changed since the last checkpoint */
	uint64_t events[3];	/* emitted: rollback, dryrun, needs_target (metrics) */
	struct pair_last *last; /* the last decided window, for the metrics (NULL: none yet) */
};

struct cached_baseline {
	char *model, *version;	  /* key */
	struct agent_baseline *b; /* NULL: not in the store (looked up again next time) */
};

struct model_cooldown {
	char *model;
	int64_t last_end_ms; /* window end of its last rollback */
};

/* The high-water mark of one input stream. */
struct stream_mark {
	uint32_t id;	      /* conn_msg.stream */
	int64_t max_ts;	      /* largest record time seen on it */
	int64_t last_wall;    /* wall time of its last record */
	char *name;	      /* checkpoints: "TOPIC/PARTITION" (NULL for a file) */
	int64_t next_offset;  /* checkpoints: the offset after the last message taken */
	int64_t saved_offset; /* checkpoints: next_offset at the last commit (-1: none) */
	int64_t told_offset;  /* checkpoints: saved_offset last reported to the source */
	int labels;	      /* a partition of the labels topic: holds no event time */
	int64_t stored_hwm;   /* checkpoints: the high-water mark stored when it was assigned */
	int announce;	      /* checkpoints: assigned, its presence not committed yet */
};

struct pending_event {
	char *key, *json, *model, *id;
	size_t len;
};

struct agent_engine {
	const struct agent_config *c; /* borrowed */
	struct conn_store *store;     /* borrowed */
	struct conn_sink *sink;	      /* borrowed */
	struct conn_decoder *dec;     /* owned */
	struct pair *pairs;	      /* max_models slots */
	size_t npairs, last;
	struct cached_baseline *cache;
	size_t ncache;
	struct model_cooldown *cool;
	size_t ncool;
	struct pending_event *pending;
	size_t npending;
	int64_t window_ms, grace_ms, cooldown_ms;
	int64_t max_ts; /* largest record time seen */
	int have_ts;
	struct stream_mark *streams; /* per-stream high-water marks */
	size_t nstreams;
	size_t last_stream;  /* index of the stream marked last */
	uint32_t cur_stream; /* stream of the record being added */
	int64_t cur_wall;    /* its receive time */
	struct agent_counters k;
	agent_window_fn fn;
	void *fn_arg;
	agent_reject_fn reject_fn;	/* dead letters */
	const struct conn_msg *cur_msg; /* the message being added (NULL from agent_engine_add) */
	void *reject_arg;
	struct ckpt *ck;		 /* checkpoints (checkpoint.c); NULL when off */
	struct agent_labels *labels;	 /* late labels (join.c); NULL when off */
	struct conn_label_decoder *ldec; /* their decoder */
	const char *labels_topic;	 /* c->labels without "kafka:" */
	struct conn_limits lim;		 /* the decoders' limits */
};

/* ---- between engine.c and checkpoint.c ---- */

/* checkpoint.c */
void ckpt_free(struct agent_engine *e);
/* Before window w of p is evaluated: merges the other instances' partials of w from the store
 * into w. 0 evaluate w; 1 skip it (decided already, by another agent or before a restart); 2
 * keep it open for now (another agent's partition has not committed its counts of w yet,
 * another agent is deciding it, or the store is unreachable and w's counts are not all here). */
int ckpt_before_close(struct agent_engine *e, struct pair *p, struct agent_window *w);
/* After w of p was decided: its partials are dropped and p's state saved at the next commit. */
void ckpt_after_close(struct agent_engine *e, struct pair *p, const struct agent_window *w);
/* Notes the position of message m (its stream's next offset). */
void ckpt_note_offset(struct agent_engine *e, const struct conn_msg *m);
/* A partition was assigned (hello m): its presence is committed with the next checkpoint, so
 * that other agents' windows wait for its records. */
void ckpt_hello(struct agent_engine *e, const struct conn_msg *m);

/* join.c: late labels */
int join_init(struct agent_engine *e, char *err, size_t errlen);
void join_free(struct agent_engine *e);
/* 1 when m is a message of the labels topic (then handled: joined or rejected), else 0. */
int join_message(struct agent_engine *e, const struct conn_msg *m, int64_t now_ms);
void join_remember(struct agent_engine *e, const struct conn_record *r, int64_t ts_ms,
		   int64_t now_ms);
void join_tick(struct agent_engine *e, int64_t now_ms);

/* engine.c */
struct pair *engine_pair(struct agent_engine *e, const char *model, size_t mlen,
			 const char *version, size_t vlen);
struct agent_window *engine_window(struct agent_engine *e, struct pair *p, int64_t ts, int *late);
struct stream_mark *engine_stream(struct agent_engine *e, uint32_t id);
int64_t *engine_cooldown(struct agent_engine *e, const char *model);

#endif
