/*
 * config.h -- driftd's configuration: one struct, filled from defaults, then a JSON file
 * (-c FILE: strict, unknown keys are errors reported as file:line:col), then DRIFTD_* environment
 * variables, then command-line flags -- later wins. One option table (config.c) drives all four
 * and generates doc/configuration.md.
 *
 * Option names are dotted paths of the JSON file ("rules.kl.threshold" is
 * {"rules":{"kl":{"threshold":...}}}); the environment variable is DRIFTD_ + the name upper-cased
 * with '.' -> '_' (DRIFTD_RULES_KL_THRESHOLD); every option has the flag --NAME
 * (--rules.kl.threshold VALUE) and the most used ones the short spellings of SPEC.md (--window,
 * --dry-run, --source ...). Durations are seconds (numbers). "kafka" is an object of librdkafka
 * properties passed through (kafka.PROP in the environment and flags: DRIFTD_KAFKA_SASL_PASSWORD ->
 * sasl.password is not derivable, so kafka properties come from the file or --kafka.PROP=VALUE).
 */
#ifndef DRIFTD_AGENT_CONFIG_H
#define DRIFTD_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum agent_kl_direction { AGENT_KL_LIVE_BASELINE = 0, AGENT_KL_BASELINE_LIVE = 1 };
enum agent_accuracy_mode { AGENT_ACC_ABSOLUTE = 0, AGENT_ACC_RELATIVE = 1 };
enum agent_baseline_ref { AGENT_BASELINE_LAST_GOOD = 0, AGENT_BASELINE_SELF = 1 };
enum agent_log_format { AGENT_LOG_TEXT = 0, AGENT_LOG_JSON = 1 };

/* One threshold rule. */
struct agent_rule_conf {
	int enabled;	  /* evaluated at all */
	double threshold; /* breach when the score is above it (accuracy: the drop) */
	int dry_run;	  /* evaluated and exported, never fires a rollback */
};

struct agent_config {
	/* ---- wiring ---- */
	char *source;		 /* "file:PATH", "file:-", "kafka:T1[,T2]"; default "file:-" */
	char *brokers;		 /* kafka bootstrap servers */
	char *group;		 /* kafka consumer group; default "driftd" */
	char *group_instance_id; /* Kafka static membership, or NULL */
	char *labels;		 /* "kafka:TOPIC" or NULL */
	char *events;		 /* "file:PATH", "file:-", "kafka:TOPIC"; default "file:-" */
	char *dead_letters;	 /* "kafka:TOPIC" or NULL */
	char *store;		 /* "dir:PATH" or "redis://..."; default "dir:./driftd-store" */
	char *metrics_listen;	 /* HOST:PORT; default "127.0.0.1:9640" */
	char *models;	      /* models monitored: names or patterns, comma-separated; NULL all */
	char *alert_selector; /* Alertmanager alerts acted on; default severity="P0" */
	char *alert_token;    /* bearer token of POST /alertmanager (secret) or NULL */
	unsigned http_max_connections; /* HTTP connections at once; default 64 */
	unsigned http_max_per_address; /* of them from one address; 0: no limit; default 16 */
	int ready_without_partitions;  /* /readyz ignores the Kafka assignment; default 0 */
	double liveness_timeout_s;     /* /healthz 503 after the loop is silent this long (60) */
	char *agent_id;	     /* CloudEvents source "driftd://<agent_id>"; default: host name */
	double replay_speed; /* file source: 0 = as fast as possible, else x real time */
	char *store_prefix;  /* Redis key prefix; default "driftd:" */
	double checkpoint_s; /* window checkpoint interval (Kafka source); 0: off; default 5 */
	double labels_ttl_s; /* late labels: how long a prediction waits; default 3600 */
	size_t labels_max;   /* late labels: predictions remembered at most; default 1000000 */

	/* ---- windows ---- */
	double window_s;	/* tumbling window length, default 60 */
	double grace_s;		/* lateness grace, default 5 */
	double coverage_wait_s; /* a window waits this long for partitions (60) */
	double min_coverage;	/* below this share of partitions: inconclusive (0.5) */
	double max_skew_s;	/* a record this far ahead is future_ts; 0: off; default 300 */
	unsigned sliding_k;	/* sliding view: last k windows merged (1 = off) */
	uint64_t min_samples;	/* fewer records in a window -> inconclusive; default 200 */

	/* ---- decisions ---- */
	unsigned breach_windows;	  /* consecutive breaching windows to fire; default 2 */
	double cooldown_s;		  /* after a rollback of a model; default 600 */
	int dry_run;			  /* global: emit ...rollback.dryrun instead */
	enum agent_baseline_ref baseline; /* last_good (default) or self */

	/* ---- rules ---- */
	struct agent_rule_conf kl; /* per feature; default enabled, 0.2 */
	enum agent_kl_direction kl_direction;
	struct agent_rule_conf psi;		/* per feature; default disabled, 0.25 */
	struct agent_rule_conf js;		/* per feature; default disabled, 0.1 */
	struct agent_rule_conf latency;		/* p95 live/baseline ratio; default enabled, 1.15 */
	struct agent_rule_conf accuracy;	/* drop; default enabled, 0.05 */
	enum agent_accuracy_mode accuracy_mode; /* absolute (points) or relative */
	double accuracy_threshold; /* numeric predictions: class = prediction >= this (0.5) */
	struct agent_rule_conf
	    error_rate;		/* error ratio increase (absolute); default disabled, 0.05 */
	double alpha;		/* additive smoothing, default 0.5 */
	int sample_size_aware;	/* KL must also be significant after BH; default 0 */
	double fdr;		/* BH level, default 0.05 */
	int monitor_prediction; /* the prediction is a monitored feature; default 1 */

	/* ---- limits ---- */
	size_t max_message;	 /* bytes, default 1 MiB */
	size_t max_features;	 /* per record, default 1024 */
	size_t max_feature_name; /* bytes, default 128 */
	size_t max_models;	 /* (model, version) pairs tracked at once, default 64 */
	size_t max_open_windows; /* open windows per pair, default 256 */
	size_t max_categories;	 /* per categorical feature, default 256 */

	/* ---- logs ---- */
	enum agent_log_format log_format;
	int log_level;	      /* syslog level: 0 emerg .. 7 debug; default 6 (info) */
	char *log_facilities; /* "a,b": only those below warning; NULL: all */

	/* ---- kafka pass-through ---- */
	char **kafka_keys;   /* librdkafka property names */
	char **kafka_values; /* and values */
	size_t kafka_n;
};

/* Fills c with the defaults (agent_id: the host name reduced to [A-Za-z0-9._~-], or "driftd").
 * Aborts only if a few small strdup()s find no memory at start-up. */
void agent_config_defaults(struct agent_config *c);
/* Frees and zeroes c (freeing twice is safe). */
void agent_config_free(struct agent_config *c);

/* Every loader below leaves c unchanged when it fails. */

/* Applies a JSON config file. 0, or -1 with "FILE:LINE:COL: message" in err. */
int agent_config_load_file(struct agent_config *c, const char *path, char *err, size_t errlen);
/* Applies a JSON document held in memory (name is used in messages). */
int agent_config_load_string(struct agent_config *c, const char *name, const char *json, size_t len,
			     char *err, size_t errlen);
/* Applies every DRIFTD_* variable of envp (NULL-terminated, "NAME=VALUE"); unknown DRIFTD_*
 * names are errors (a typo must not be silently ignored). */
int agent_config_load_env(struct agent_config *c, char *const *envp, char *err, size_t errlen);
/* Applies flags from argv[*i]..: consumes recognised options and advances *i; stops at the
 * first argument not starting with "--" (e.g. "-c"), at "--config" / "--config=..." (the
 * caller's), or after consuming "--". -1 on an unknown option or a bad value, *i then points at
 * the offending argument. */
int agent_config_load_args(struct agent_config *c, int argc, char **argv, int *i, char *err,
			   size_t errlen);
/* Checks cross-option consistency (e.g. kafka source needs brokers). */
int agent_config_validate(const struct agent_config *c, char *err, size_t errlen);
/* Writes the effective configuration as JSON (secrets: "***"). */
void agent_config_dump(const struct agent_config *c, FILE *out);
/* Writes doc/configuration.md (Markdown) generated from the option table. */
void agent_config_write_doc(FILE *out);

#endif
