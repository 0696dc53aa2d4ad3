/*
 * config.c -- driftd's configuration (see config.h): one option table drives the defaults, the
 * strict JSON file reader, the DRIFTD_* environment, the command-line flags, the dump and the
 * manual page doc/configuration.md.
 *
 * Each row of opts[] names one field of struct agent_config: its dotted name (the JSON path, the
 * flag --NAME, the variable DRIFTD_NAME), a short flag spelling where SPEC.md has one, its type,
 * its default written as text (parsed at start by the same code as a flag value, so the
 * documentation shows exactly what is applied), its bounds, a syntax check for strings, and a
 * one-line description. Nothing else in this file lists options.
 *
 * Files are read by a small recursive-descent JSON reader that keeps the line and column of every
 * key and value, so that a wrong type, an unknown or duplicate key or an out-of-range value is
 * reported as "FILE:LINE:COL: message" at the offending token (jansson gives positions of syntax
 * errors only). It is bounded (1 MiB, nesting 32, 4096 keys per object), checks UTF-8 and refuses
 * what strict JSON refuses; columns count characters from 1. A document is parsed completely
 * before anything is applied, and every loader works on a copy that replaces the caller's
 * configuration only on success: a failed load leaves it unchanged.
 *
 * Secrets. The store URL may carry a password and so may Kafka properties whose name says so
 * (kafka_secret()): dump masks them, no error message quotes a string value, and such values may
 * be given as "@FILE" (read from a regular file of at most 64 KiB, trailing newlines stripped;
 * "@@..." stands for a literal leading '@').
 *
 * Numbers go through strtod and printf: driftd never calls setlocale(), so both use '.'.
 */
#include "agent/config.h"
#include "agent/log.h"
#include "agent/util.h"
#include "connectors/alertmanager.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE    (1024 * 1024) /* bytes of a configuration document */
#define MAX_DEPTH   32		  /* JSON nesting */
#define MAX_MEMBERS 4096	  /* keys of one JSON object */
#define MAX_KAFKA   1024	  /* Kafka properties */
#define MAX_PROP    255		  /* bytes of a Kafka property name */
#define MAX_SECRET  65536	  /* bytes of an @FILE */
#define MAX_NAME    128		  /* bytes of an option name, flag or variable */
#define MAX_TOPIC   249		  /* bytes of a Kafka topic name */

/* ---- the option table ---- */

enum opt_type {
	OPT_STRING,   /* char *, owned */
	OPT_BOOL,     /* int, 0 or 1 */
	OPT_UINT,     /* unsigned */
	OPT_U64,      /* uint64_t */
	OPT_SIZE,     /* size_t */
	OPT_DOUBLE,   /* double */
	OPT_SECONDS,  /* double, a duration in seconds */
	OPT_ENUM,     /* an int-sized enum: the index of its name in opt.names */
	OPT_LOG_LEVEL /* int, syslog level 0..7 */
};

#define OPT_NULLABLE 0x01u /* a string that may be unset: null, or "" */
#define OPT_SECRET   0x02u /* may hold a password: masked by dump, accepts @FILE */
#define OPT_MIN_OPEN 0x04u /* the lower bound is exclusive */
#define OPT_MAX_OPEN 0x08u /* the upper bound is exclusive */
#define OPT_HOSTNAME 0x10u /* the default is the host name */

enum section { SEC_IO, SEC_WINDOWS, SEC_DECISIONS, SEC_RULES, SEC_LIMITS, SEC_LOG, SEC_COUNT };

struct opt {
	const char *name;	  /* dotted path: JSON keys, --NAME, DRIFTD_NAME */
	const char *flag;	  /* a second flag spelling (SPEC.md), without "--"; or NULL */
	enum opt_type type;	  /* how the value is parsed and stored */
	unsigned flags;		  /* OPT_* */
	size_t off;		  /* offsetof(struct agent_config, field) */
	const char *def;	  /* default, written as a flag value; NULL: unset */
	double min, max;	  /* bounds of a number (see OPT_MIN_OPEN, OPT_MAX_OPEN) */
	const char *const *names; /* OPT_ENUM: the allowed values, NULL-terminated */
	int (*check)(const char *s, char *msg, size_t n); /* OPT_STRING syntax; NULL: text */
	enum section sec;				  /* where the documentation lists it */
	const char *desc;				  /* one line of Markdown */
};

static int check_source(const char *s, char *msg, size_t n);
static int check_events(const char *s, char *msg, size_t n);
static int check_topic_endpoint(const char *s, char *msg, size_t n);
static int check_store(const char *s, char *msg, size_t n);
static int check_listen(const char *s, char *msg, size_t n);
static int check_agent_id(const char *s, char *msg, size_t n);
static int check_store_prefix(const char *s, char *msg, size_t n);
static int check_alert_selector(const char *s, char *msg, size_t n);
static int check_log_facilities(const char *s, char *msg, size_t n);

static const char *const kl_direction_names[] = { "live_baseline", "baseline_live", NULL };
static const char *const accuracy_mode_names[] = { "absolute", "relative", NULL };
static const char *const baseline_names[] = { "last_good", "self", NULL };
static const char *const log_format_names[] = { "text", "json", NULL };
static const char *const log_level_names[] = { "emerg",	  "alert",  "crit", "err",
					       "warning", "notice", "info", "debug" };

_Static_assert(sizeof(enum agent_kl_direction) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum agent_accuracy_mode) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum agent_baseline_ref) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum agent_log_format) == sizeof(int), "enums are stored as int");

#define OFF(field) offsetof(struct agent_config, field)
#define INF	   HUGE_VAL

static const struct {
	const char *title;
	const char *intro;
} sections[SEC_COUNT] = {
	[SEC_IO] = { "Inputs, outputs and store",
		     "Where inference records come from, where decisions go, where state lives." },
	[SEC_WINDOWS] = { "Windows",
			  "Tumbling event-time windows, one series per (model, version)." },
	[SEC_DECISIONS] = { "Decisions", "When breaching rules become a rollback event." },
	[SEC_RULES] = { "Rules",
			"Every rule has a threshold, can be disabled, and can be put in dry-run "
			"mode on its own (evaluated and exported, never fires a rollback)." },
	[SEC_LIMITS] = { "Limits",
			 "Bounds on what one record or the agent may hold: beyond them a record is "
			 "rejected or folded, and counted; memory never grows without bound." },
	[SEC_LOG] = { "Logs", "One line per event, syslog levels." },
};

static const struct opt opts[] = {
	/* ---- inputs, outputs, store ---- */
	{ .name = "source",
	  .type = OPT_STRING,
	  .off = OFF(source),
	  .def = "file:-",
	  .check = check_source,
	  .sec = SEC_IO,
	  .desc =
	      "where inference records come from: `file:PATH` (JSON lines; `file:-` is standard "
	      "input; the file is replayed, every open window decided at its end, then driftd "
	      "exits) or `kafka:TOPIC[,TOPIC...]`" },
	{ .name = "brokers",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(brokers),
	  .sec = SEC_IO,
	  .desc = "Kafka bootstrap servers, `HOST:PORT[,HOST:PORT...]`; needed by every `kafka:` "
		  "endpoint (or `kafka.bootstrap.servers`)" },
	{ .name = "group",
	  .type = OPT_STRING,
	  .off = OFF(group),
	  .def = "driftd",
	  .sec = SEC_IO,
	  .desc = "Kafka consumer group; agents in one group split the partitions" },
	{ .name = "labels",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(labels),
	  .check = check_topic_endpoint,
	  .sec = SEC_IO,
	  .desc =
	      "delayed ground truth, `kafka:TOPIC` of `{\"model\", \"request_id\", \"label\"}` "
	      "records joined to their predictions by `request_id` (doc/labels.md); needs a Kafka "
	      "source (same consumer group); unset: labels come only inside the records" },
	{ .name = "events",
	  .type = OPT_STRING,
	  .off = OFF(events),
	  .def = "file:-",
	  .check = check_events,
	  .sec = SEC_IO,
	  .desc = "where rollback events go: `file:PATH` (JSON lines; `file:-` is standard output) "
		  "or `kafka:TOPIC`" },
	{ .name = "dead_letters",
	  .flag = "dead-letters",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(dead_letters),
	  .check = check_topic_endpoint,
	  .sec = SEC_IO,
	  .desc = "rejected records are copied to this `kafka:TOPIC` with the reason in a header; "
		  "unset: they are only counted" },
	{ .name = "store",
	  .type = OPT_STRING,
	  .flags = OPT_SECRET,
	  .off = OFF(store),
	  .def = "dir:./driftd-store",
	  .check = check_store,
	  .sec = SEC_IO,
	  .desc = "where versions, baselines and state live: `dir:PATH`, "
		  "`redis://[:PASSWORD@]HOST[:PORT][/DB]` or `unix:PATH` (a Redis socket); the "
		  "password is never printed, and `@FILE` reads the value from a file" },
	{ .name = "metrics_listen",
	  .flag = "metrics-listen",
	  .type = OPT_STRING,
	  .off = OFF(metrics_listen),
	  .def = "127.0.0.1:9640",
	  .check = check_listen,
	  .sec = SEC_IO,
	  .desc = "`HOST:PORT` of the HTTP endpoint (`/metrics`, `/healthz`, `/readyz`, "
		  "`/alertmanager`; doc/http.md); `[ADDR]:PORT` for IPv6, port 0 for any free "
		  "port; an empty value serves no HTTP at all" },
	{ .name = "ready_without_partitions",
	  .flag = "ready-without-partitions",
	  .type = OPT_BOOL,
	  .off = OFF(ready_without_partitions),
	  .def = "false",
	  .sec = SEC_IO,
	  .desc = "`/readyz` answers ready with no Kafka partition assigned (the store must still "
		  "answer): for a sidecar in more pods than the topic has partitions, whose spare "
		  "agents must not take their model servers out of service" },
	{ .name = "alert_selector",
	  .flag = "alert-selector",
	  .type = OPT_STRING,
	  .off = OFF(alert_selector),
	  .def = "severity=\"P0\"",
	  .check = check_alert_selector,
	  .sec = SEC_IO,
	  .desc = "which Alertmanager alerts posted to `/alertmanager` trigger a rollback: "
		  "label matchers `name=\"value\"` or `name!=\"value\"`, comma-separated, all must "
		  "hold; the alert must also carry a `model` label (and may carry `version`)" },
	{ .name = "alert_token",
	  .flag = "alert-token",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE | OPT_SECRET,
	  .off = OFF(alert_token),
	  .sec = SEC_IO,
	  .desc = "bearer token `POST /alertmanager` must present (Alertmanager's "
		  "`http_config.authorization.credentials`); `@FILE` reads it from a file; unset: "
		  "no token asked" },
	{ .name = "agent_id",
	  .flag = "agent-id",
	  .type = OPT_STRING,
	  .flags = OPT_HOSTNAME,
	  .off = OFF(agent_id),
	  .check = check_agent_id,
	  .sec = SEC_IO,
	  .desc =
	      "this agent's name in rollback events (`source` is `driftd://AGENT_ID`); letters, "
	      "digits, `.`, `_`, `~` and `-`" },
	{ .name = "replay_speed",
	  .flag = "replay-speed",
	  .type = OPT_DOUBLE,
	  .off = OFF(replay_speed),
	  .def = "0",
	  .min = 0,
	  .max = 1e6,
	  .sec = SEC_IO,
	  .desc = "file source: 0 replays as fast as possible, otherwise at this multiple of real "
		  "time (from the records' timestamps)" },
	{ .name = "store_prefix",
	  .flag = "store-prefix",
	  .type = OPT_STRING,
	  .off = OFF(store_prefix),
	  .def = "driftd:",
	  .check = check_store_prefix,
	  .sec = SEC_IO,
	  .desc = "prefix of every Redis key (1 to 64 of `A-Za-z0-9_.:-`), so that several "
		  "driftd deployments can share one Redis; the `dir:` store ignores it" },
	{ .name = "checkpoint_interval",
	  .flag = "checkpoint-interval",
	  .type = OPT_SECONDS,
	  .off = OFF(checkpoint_s),
	  .def = "5",
	  .min = 0,
	  .max = 3600,
	  .sec = SEC_IO,
	  .desc = "Kafka source: how often the open windows' partial counts and the partition "
		  "offsets they cover are checkpointed to the store together (exactly-once "
		  "accounting, doc/delivery.md); also at every window close, rebalance and "
		  "shutdown. 0: no checkpoints, offsets auto-committed (at least once)" },
	{ .name = "labels_ttl",
	  .flag = "labels-ttl",
	  .type = OPT_SECONDS,
	  .off = OFF(labels_ttl_s),
	  .def = "3600",
	  .min = 0,
	  .max = 604800,
	  .sec = SEC_IO,
	  .desc = "late labels: how long a prediction waits for its label before it expires" },
	{ .name = "labels_max",
	  .flag = "labels-max",
	  .type = OPT_SIZE,
	  .off = OFF(labels_max),
	  .def = "1000000",
	  .min = 1,
	  .max = 1e8,
	  .sec = SEC_IO,
	  .desc = "late labels: predictions remembered at most; beyond, the least recently "
		  "remembered one is forgotten (counted)" },

	/* ---- windows ---- */
	{ .name = "window",
	  .type = OPT_SECONDS,
	  .flags = OPT_MIN_OPEN,
	  .off = OFF(window_s),
	  .def = "60",
	  .min = 0,
	  .max = 604800,
	  .sec = SEC_WINDOWS,
	  .desc = "length of a tumbling window" },
	{ .name = "grace",
	  .type = OPT_SECONDS,
	  .off = OFF(grace_s),
	  .def = "5",
	  .min = 0,
	  .max = 86400,
	  .sec = SEC_WINDOWS,
	  .desc = "how long a window stays open for late records after its end; shorter than "
		  "`window`" },
	{ .name = "sliding_windows",
	  .flag = "sliding-windows",
	  .type = OPT_UINT,
	  .off = OFF(sliding_k),
	  .def = "1",
	  .min = 1,
	  .max = 1440,
	  .sec = SEC_WINDOWS,
	  .desc = "the rules also see the last K windows merged, for slow models; 1: off" },
	{ .name = "min_samples",
	  .flag = "min-samples",
	  .type = OPT_U64,
	  .off = OFF(min_samples),
	  .def = "200",
	  .min = 0,
	  .max = 1e12,
	  .sec = SEC_WINDOWS,
	  .desc = "a window with fewer records for a (model, version) is inconclusive, never a "
		  "breach" },

	/* ---- decisions ---- */
	{ .name = "breach_windows",
	  .flag = "breach-windows",
	  .type = OPT_UINT,
	  .off = OFF(breach_windows),
	  .def = "2",
	  .min = 1,
	  .max = 1000,
	  .sec = SEC_DECISIONS,
	  .desc = "consecutive breaching windows that fire a rollback (P0 alerts do not wait)" },
	{ .name = "cooldown",
	  .type = OPT_SECONDS,
	  .off = OFF(cooldown_s),
	  .def = "600",
	  .min = 0,
	  .max = 2592000,
	  .sec = SEC_DECISIONS,
	  .desc = "minimum time between two rollbacks of one model" },
	{ .name = "dry_run",
	  .flag = "dry-run",
	  .type = OPT_BOOL,
	  .off = OFF(dry_run),
	  .def = "false",
	  .sec = SEC_DECISIONS,
	  .desc = "evaluate and export everything, but emit `io.driftd.rollback.dryrun` events "
		  "instead of rollbacks" },
	{ .name = "baseline",
	  .type = OPT_ENUM,
	  .off = OFF(baseline),
	  .def = "last_good",
	  .names = baseline_names,
	  .sec = SEC_DECISIONS,
	  .desc = "what a live version is compared with: the baseline of the model's last known "
		  "good version, or the version's own (`self`)" },

	/* ---- rules ---- */
	{ .name = "rules.alpha",
	  .type = OPT_DOUBLE,
	  .off = OFF(alpha),
	  .def = "0.5",
	  .min = 0,
	  .max = 1e6,
	  .sec = SEC_RULES,
	  .desc = "additive smoothing of binned distributions before KL, PSI and JS (0.5: "
		  "Jeffreys)" },
	{ .name = "rules.monitor_prediction",
	  .type = OPT_BOOL,
	  .off = OFF(monitor_prediction),
	  .def = "true",
	  .sec = SEC_RULES,
	  .desc =
	      "the prediction is monitored like a feature (`__prediction__`) by the drift rules" },
	{ .name = "rules.kl.enabled",
	  .type = OPT_BOOL,
	  .off = OFF(kl.enabled),
	  .def = "true",
	  .sec = SEC_RULES,
	  .desc = "evaluate the KL divergence of every monitored feature" },
	{ .name = "rules.kl.threshold",
	  .type = OPT_DOUBLE,
	  .off = OFF(kl.threshold),
	  .def = "0.2",
	  .min = 0,
	  .max = INF,
	  .sec = SEC_RULES,
	  .desc = "breach when the KL divergence of any feature is above it (nats)" },
	{ .name = "rules.kl.dry_run",
	  .type = OPT_BOOL,
	  .off = OFF(kl.dry_run),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "the KL rule never fires a rollback" },
	{ .name = "rules.kl.direction",
	  .type = OPT_ENUM,
	  .off = OFF(kl_direction),
	  .def = "live_baseline",
	  .names = kl_direction_names,
	  .sec = SEC_RULES,
	  .desc = "KL(live ‖ baseline) or KL(baseline ‖ live)" },
	{ .name = "rules.kl.sample_size_aware",
	  .type = OPT_BOOL,
	  .off = OFF(sample_size_aware),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "a KL breach must also be significant (chi-squared, Benjamini-Hochberg across "
		  "features at level `rules.kl.fdr`)" },
	{ .name = "rules.kl.fdr",
	  .type = OPT_DOUBLE,
	  .flags = OPT_MIN_OPEN | OPT_MAX_OPEN,
	  .off = OFF(fdr),
	  .def = "0.05",
	  .min = 0,
	  .max = 1,
	  .sec = SEC_RULES,
	  .desc = "false discovery rate of the sample-size-aware KL rule" },
	{ .name = "rules.psi.enabled",
	  .type = OPT_BOOL,
	  .off = OFF(psi.enabled),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "evaluate the population stability index of every monitored feature" },
	{ .name = "rules.psi.threshold",
	  .type = OPT_DOUBLE,
	  .off = OFF(psi.threshold),
	  .def = "0.25",
	  .min = 0,
	  .max = INF,
	  .sec = SEC_RULES,
	  .desc = "breach when the PSI of any feature is above it" },
	{ .name = "rules.psi.dry_run",
	  .type = OPT_BOOL,
	  .off = OFF(psi.dry_run),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "the PSI rule never fires a rollback" },
	{ .name = "rules.js.enabled",
	  .type = OPT_BOOL,
	  .off = OFF(js.enabled),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "evaluate the Jensen-Shannon distance of every monitored feature" },
	{ .name = "rules.js.threshold",
	  .type = OPT_DOUBLE,
	  .off = OFF(js.threshold),
	  .def = "0.1",
	  .min = 0,
	  .max = 1,
	  .sec = SEC_RULES,
	  .desc = "breach when the JS distance (base 2) of any feature is above it" },
	{ .name = "rules.js.dry_run",
	  .type = OPT_BOOL,
	  .off = OFF(js.dry_run),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "the JS rule never fires a rollback" },
	{ .name = "rules.latency.enabled",
	  .type = OPT_BOOL,
	  .off = OFF(latency.enabled),
	  .def = "true",
	  .sec = SEC_RULES,
	  .desc = "evaluate the latency p95 ratio live / baseline" },
	{ .name = "rules.latency.threshold",
	  .type = OPT_DOUBLE,
	  .off = OFF(latency.threshold),
	  .def = "1.15",
	  .min = 0,
	  .max = INF,
	  .sec = SEC_RULES,
	  .desc = "breach when the p95 ratio is above it (1.15: 15 % slower)" },
	{ .name = "rules.latency.dry_run",
	  .type = OPT_BOOL,
	  .off = OFF(latency.dry_run),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "the latency rule never fires a rollback" },
	{ .name = "rules.accuracy.enabled",
	  .type = OPT_BOOL,
	  .off = OFF(accuracy.enabled),
	  .def = "true",
	  .sec = SEC_RULES,
	  .desc = "evaluate the accuracy drop against the baseline (records with a label)" },
	{ .name = "rules.accuracy.threshold",
	  .type = OPT_DOUBLE,
	  .off = OFF(accuracy.threshold),
	  .def = "0.05",
	  .min = 0,
	  .max = 1,
	  .sec = SEC_RULES,
	  .desc = "breach when accuracy dropped by more than this (0.05: 5 points, or 5 % in "
		  "`relative` mode)" },
	{ .name = "rules.accuracy.dry_run",
	  .type = OPT_BOOL,
	  .off = OFF(accuracy.dry_run),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "the accuracy rule never fires a rollback" },
	{ .name = "rules.accuracy.mode",
	  .type = OPT_ENUM,
	  .off = OFF(accuracy_mode),
	  .def = "absolute",
	  .names = accuracy_mode_names,
	  .sec = SEC_RULES,
	  .desc = "the drop is `absolute` (baseline - live) or `relative` (divided by the "
		  "baseline's accuracy)" },
	{ .name = "rules.accuracy.class_threshold",
	  .type = OPT_DOUBLE,
	  .off = OFF(accuracy_threshold),
	  .def = "0.5",
	  .min = -INF,
	  .max = INF,
	  .sec = SEC_RULES,
	  .desc = "a numeric prediction scored against a 0/1 label is class 1 when >= this" },
	{ .name = "rules.error_rate.enabled",
	  .type = OPT_BOOL,
	  .off = OFF(error_rate.enabled),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "evaluate the increase of the error ratio (records with `\"error\": true`)" },
	{ .name = "rules.error_rate.threshold",
	  .type = OPT_DOUBLE,
	  .off = OFF(error_rate.threshold),
	  .def = "0.05",
	  .min = 0,
	  .max = 1,
	  .sec = SEC_RULES,
	  .desc = "breach when the error ratio rose by more than this (absolute)" },
	{ .name = "rules.error_rate.dry_run",
	  .type = OPT_BOOL,
	  .off = OFF(error_rate.dry_run),
	  .def = "false",
	  .sec = SEC_RULES,
	  .desc = "the error-rate rule never fires a rollback" },

	/* ---- limits ---- */
	{ .name = "limits.max_message",
	  .type = OPT_SIZE,
	  .off = OFF(max_message),
	  .def = "1048576",
	  .min = 1024,
	  .max = 1073741824,
	  .sec = SEC_LIMITS,
	  .desc = "bytes of one record (Kafka message or file line); larger ones are rejected" },
	{ .name = "limits.max_features",
	  .type = OPT_SIZE,
	  .off = OFF(max_features),
	  .def = "1024",
	  .min = 1,
	  .max = 65536,
	  .sec = SEC_LIMITS,
	  .desc = "features in one record; a record with more is rejected" },
	{ .name = "limits.max_feature_name",
	  .type = OPT_SIZE,
	  .off = OFF(max_feature_name),
	  .def = "128",
	  .min = 1,
	  .max = 65536,
	  .sec = SEC_LIMITS,
	  .desc = "bytes of a feature name; a record with a longer one is rejected" },
	{ .name = "limits.max_models",
	  .type = OPT_SIZE,
	  .off = OFF(max_models),
	  .def = "64",
	  .min = 1,
	  .max = 65536,
	  .sec = SEC_LIMITS,
	  .desc = "(model, version) pairs tracked at once; records of further ones are rejected" },
	{ .name = "limits.max_categories",
	  .type = OPT_SIZE,
	  .off = OFF(max_categories),
	  .def = "256",
	  .min = 1,
	  .max = 65536,
	  .sec = SEC_LIMITS,
	  .desc = "values kept per categorical feature; the rest are counted as `__other__`" },

	/* ---- logs ---- */
	{ .name = "log.format",
	  .flag = "log-format",
	  .type = OPT_ENUM,
	  .off = OFF(log_format),
	  .def = "text",
	  .names = log_format_names,
	  .sec = SEC_LOG,
	  .desc = "`text` or `json` (one object per line)" },
	{ .name = "log.level",
	  .flag = "log-level",
	  .type = OPT_LOG_LEVEL,
	  .off = OFF(log_level),
	  .def = "info",
	  .sec = SEC_LOG,
	  .desc = "the least severe level logged" },
	{ .name = "log.facilities",
	  .flag = "log-facilities",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(log_facilities),
	  .check = check_log_facilities,
	  .sec = SEC_LOG,
	  .desc = "only these facilities (comma-separated: `alert`, `baseline`, `checkpoint`, "
		  "`dead-letters`, `engine`, `events`, `http`, `labels`, `records`, `run`, "
		  "`source`, `store`, `window`) log below `warning`; unset: all of them" },
};

#define NOPTS (sizeof opts / sizeof opts[0])

/* Log level spellings accepted besides log_level_names. */
static const struct {
	const char *name;
	int level;
} log_level_aliases[] = { { "emergency", 0 }, { "critical", 2 }, { "error", 3 }, { "warn", 4 } };

/* DRIFTD_* variables that are not options but belong to driftd (the stats library reads them). */
static const char *const env_allowed[] = { "DRIFTD_HIST_KERNEL" };

/* The secrets of Kafka clients may come from the environment (SPEC: "secrets may come from a
 * file or env"); every other Kafka property comes from the file or --kafka.PROP. The value may
 * be @FILE too. */
static const struct {
	const char *env, *prop;
} env_kafka_secrets[] = {
	{ "DRIFTD_KAFKA_SASL_PASSWORD", "sasl.password" },
	{ "DRIFTD_KAFKA_SSL_KEY_PASSWORD", "ssl.key.password" },
	{ "DRIFTD_KAFKA_SSL_KEYSTORE_PASSWORD", "ssl.keystore.password" },
};

/* ---- small helpers ---- */

static int is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int is_alnum(int ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int to_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int to_upper(int ch)
{
	return ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch;
}

static int str_ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (to_lower((unsigned char)a[i]) != to_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Writes s[0..len) into buf as a double-quoted, escaped excerpt of at most 48 bytes: for
 * messages that name a key, a flag or a non-secret value. */
static void quote(char *buf, size_t n, const char *s, size_t len)
{
	size_t o = 0, i;

	if (n < 8) {
		if (n)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (i = 0; i < len && i < 48 && o + 6 < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (i < len && o + 5 < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/* Length of the UTF-8 sequence at s (at most n bytes available), 0 if it is not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF are not). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Whether s[0..len) is UTF-8 without control characters (allow_ctl: except for those). */
static int text_ok(const char *s, size_t len, int allow_ctl)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t k = utf8_len(p + i, len - i);

		if (!k || (!allow_ctl && (p[i] < 0x20 || p[i] == 0x7f)))
			return 0;
		i += k;
	}
	return 1;
}

/* Levenshtein distance, ASCII case-insensitive; SIZE_MAX for words longer than MAX_NAME. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[MAX_NAME + 1];

	if (la > MAX_NAME || lb > MAX_NAME)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (to_lower((unsigned char)a[i - 1]) !=
					      to_lower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Keeps in *best the candidate closest to word (at most 2 edits, fewer than its length). */
static void consider(const char *word, size_t wlen, const char *cand, size_t clen,
		     const char **best, size_t *best_len, size_t *best_d)
{
	size_t d = edit_distance(word, wlen, cand, clen);

	if (d <= 2 && d < wlen && d < *best_d) {
		*best = cand;
		*best_len = clen;
		*best_d = d;
	}
}

/* " (did you mean "X"?)" or "" into buf. */
static void did_you_mean(char *buf, size_t n, const char *best, size_t len)
{
	if (best)
		snprintf(buf, n, " (did you mean \"%.*s\"?)", (int)len, best);
	else if (n)
		buf[0] = '\0';
}

/* ---- the table: lookups and names ---- */

static void *field(struct agent_config *c, const struct opt *o)
{
	return (char *)c + o->off;
}

static const void *cfield(const struct agent_config *c, const struct opt *o)
{
	return (const char *)c + o->off;
}

static const struct opt *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

/* Whether path is a proper prefix of option names, up to a '.' ("rules", "rules.kl"). */
static int is_section(const char *path, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strlen(opts[i].name) > len && opts[i].name[len] == '.' &&
		    memcmp(opts[i].name, path, len) == 0)
			return 1;
	return 0;
}

/* DRIFTD_ + the name upper-cased, '.' -> '_'. */
static void env_name(const struct opt *o, char *buf, size_t n)
{
	size_t k = (size_t)snprintf(buf, n, "DRIFTD_");

	for (const char *s = o->name; *s && k + 1 < n; s++)
		buf[k++] = *s == '.' ? '_' : (char)to_upper((unsigned char)*s);
	buf[k] = '\0';
}

static const struct opt *find_env(const char *name, size_t len)
{
	char buf[MAX_NAME + 8];

	for (size_t i = 0; i < NOPTS; i++) {
		env_name(&opts[i], buf, sizeof buf);
		if (strlen(buf) == len && memcmp(buf, name, len) == 0)
			return &opts[i];
	}
	return NULL;
}

static const struct opt *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];

		if ((strlen(o->name) == len && memcmp(o->name, name, len) == 0) ||
		    (o->flag && strlen(o->flag) == len && memcmp(o->flag, name, len) == 0))
			return o;
	}
	return NULL;
}

/* The closest known JSON path (option, section or "kafka") to path. */
static void suggest_path(const char *path, size_t len, char *buf, size_t n)
{
	const char *best = NULL;
	size_t best_len = 0, best_d = SIZE_MAX;

	consider(path, len, "kafka", 5, &best, &best_len, &best_d);
	for (size_t i = 0; i < NOPTS; i++) {
		const char *name = opts[i].name;

		for (const char *dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.'))
			consider(path, len, name, (size_t)(dot - name), &best, &best_len, &best_d);
		consider(path, len, name, strlen(name), &best, &best_len, &best_d);
	}
	did_you_mean(buf, n, best, best_len);
}

static void suggest_env(const char *name, size_t len, char *buf, size_t n)
{
	char names[NOPTS][MAX_NAME + 8];
	const char *best = NULL;
	size_t best_len = 0, best_d = SIZE_MAX;

	for (size_t i = 0; i < NOPTS; i++) {
		env_name(&opts[i], names[i], sizeof names[i]);
		consider(name, len, names[i], strlen(names[i]), &best, &best_len, &best_d);
	}
	did_you_mean(buf, n, best, best_len);
}

static void suggest_flag(const char *name, size_t len, char *buf, size_t n)
{
	const char *best = NULL;
	size_t best_len = 0, best_d = SIZE_MAX;
	char tmp[MAX_NAME + 8];

	for (size_t i = 0; i < NOPTS; i++) {
		consider(name, len, opts[i].name, strlen(opts[i].name), &best, &best_len, &best_d);
		if (opts[i].flag)
			consider(name, len, opts[i].flag, strlen(opts[i].flag), &best, &best_len,
				 &best_d);
	}
	if (best) {
		snprintf(tmp, sizeof tmp, "--%.*s", (int)best_len, best);
		did_you_mean(buf, n, tmp, strlen(tmp));
	} else if (n) {
		buf[0] = '\0';
	}
}

/* ---- Kafka properties ---- */

/* librdkafka property names: [A-Za-z0-9._-]+. */
static int kafka_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > MAX_PROP)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* Properties whose value is secret: masked by dump, accept @FILE. */
static int kafka_secret(const char *name)
{
	static const char *const words[] = { "password", "secret" };
	size_t len = strlen(name);

	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		size_t wl = strlen(words[w]);

		for (size_t i = 0; i + wl <= len; i++)
			if (str_ieq(name + i, wl, words[w]))
				return 1;
	}
	return !strcmp(name, "ssl.key.pem") || !strcmp(name, "sasl.oauthbearer.config");
}

static const char *kafka_get(const struct agent_config *c, const char *name)
{
	for (size_t i = 0; i < c->kafka_n; i++)
		if (!strcmp(c->kafka_keys[i], name))
			return c->kafka_values[i];
	return NULL;
}

/* Sets name = value (value is stolen on every path). */
static int kafka_put(struct agent_config *c, const char *name, size_t len, char *value, char *msg,
		     size_t n)
{
	char **keys, **values, *key;

	for (size_t i = 0; i < c->kafka_n; i++) {
		if (strlen(c->kafka_keys[i]) == len && !memcmp(c->kafka_keys[i], name, len)) {
			free(c->kafka_values[i]);
			c->kafka_values[i] = value;
			return 0;
		}
	}
	if (c->kafka_n >= MAX_KAFKA) {
		snprintf(msg, n, "more than %d properties", MAX_KAFKA);
		free(value);
		return -1;
	}
	key = agent_strndup(name, len);
	keys = realloc(c->kafka_keys, (c->kafka_n + 1) * sizeof *keys);
	if (keys)
		c->kafka_keys = keys;
	values = realloc(c->kafka_values, (c->kafka_n + 1) * sizeof *values);
	if (values)
		c->kafka_values = values;
	if (!key || !keys || !values) {
		snprintf(msg, n, "out of memory");
		free(key);
		free(value);
		return -1;
	}
	c->kafka_keys[c->kafka_n] = key;
	c->kafka_values[c->kafka_n] = value;
	c->kafka_n++;
	return 0;
}

/* ---- values: parsed and stored ---- */

/* What a value looks like before it is stored. V_TEXT comes from the environment or a flag and is
 * parsed according to the option's type; the others are JSON values. */
enum vkind { V_TEXT, V_STRING, V_NUMBER, V_BOOL, V_NULL, V_OBJECT, V_ARRAY };

struct val {
	enum vkind kind;
	const char *s; /* V_TEXT, V_STRING: the text; V_NUMBER: the lexeme; NUL-terminated */
	size_t len;    /* of s */
	int b;	       /* V_BOOL */
};

static const char *kind_name(enum vkind k)
{
	switch (k) {
	case V_TEXT:
	case V_STRING:
		return "a string";
	case V_NUMBER:
		return "a number";
	case V_BOOL:
		return "a boolean";
	case V_NULL:
		return "null";
	case V_OBJECT:
		return "an object";
	case V_ARRAY:
		return "an array";
	}
	return "a value";
}

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; the length matched, 0 if none. */
static size_t number_len(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		if (++i >= n || !is_digit((unsigned char)s[i]))
			return 0;
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit((unsigned char)s[i]))
			return 0;
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
	}
	return i;
}

/* A double formatted so that strtod gives it back: integers plainly, else the shortest %g. */
static void fmt_double(char *buf, size_t n, double v)
{
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, n, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static int in_range(const struct opt *o, double v)
{
	if (!isfinite(v))
		return 0;
	if ((o->flags & OPT_MIN_OPEN) ? v <= o->min : v < o->min)
		return 0;
	if ((o->flags & OPT_MAX_OPEN) ? v >= o->max : v > o->max)
		return 0;
	return 1;
}

/* The range of a number as text: "in [1, 1000]", "> 0", ">= 0", or "" (any finite number). */
static void range_text(const struct opt *o, char *buf, size_t n)
{
	char lo[32], hi[32];

	fmt_double(lo, sizeof lo, o->min);
	fmt_double(hi, sizeof hi, o->max);
	if (isinf(o->min) && isinf(o->max))
		snprintf(buf, n, "%s", "");
	else if (isinf(o->max))
		snprintf(buf, n, "%s %s", (o->flags & OPT_MIN_OPEN) ? ">" : ">=", lo);
	else
		snprintf(buf, n, "in %c%s, %s%c", (o->flags & OPT_MIN_OPEN) ? '(' : '[', lo, hi,
			 (o->flags & OPT_MAX_OPEN) ? ')' : ']');
}

static int range_error(const struct opt *o, const char *got, size_t len, char *msg, size_t n)
{
	char r[96], q[64];

	range_text(o, r, sizeof r);
	quote(q, sizeof q, got, len);
	if (r[0])
		snprintf(msg, n, "must be %s, got %.*s", r, (int)strlen(q) - 2, q + 1);
	else
		snprintf(msg, n, "must be a finite number, got %.*s", (int)strlen(q) - 2, q + 1);
	return -1;
}

static const char *expected(const struct opt *o)
{
	switch (o->type) {
	case OPT_STRING:
		return (o->flags & OPT_NULLABLE) ? "a string or null" : "a string";
	case OPT_BOOL:
		return "true or false";
	case OPT_UINT:
	case OPT_U64:
	case OPT_SIZE:
		return "a non-negative integer";
	case OPT_DOUBLE:
		return "a number";
	case OPT_SECONDS:
		return "a number of seconds";
	case OPT_ENUM:
		return "one of the names listed in doc/configuration.md";
	case OPT_LOG_LEVEL:
		return "a syslog level (emerg, alert, crit, err, warning, notice, info, debug) or "
		       "0..7";
	}
	return "a value";
}

/* "expected X, got Y" where Y is the JSON type, or the text itself when it is not secret. */
static int type_error(const struct opt *o, const struct val *v, char *msg, size_t n)
{
	char q[64];

	if (o->type == OPT_ENUM) {
		size_t k = (size_t)snprintf(msg, n, "expected ");

		for (size_t i = 0; o->names[i] && k < n; i++)
			k += (size_t)snprintf(msg + k, n - k, "%s\"%s\"",
					      i == 0		? ""
					      : o->names[i + 1] ? ", "
								: " or ",
					      o->names[i]);
		if (k < n)
			snprintf(msg + k, n - k, ", got ");
		k = strlen(msg);
		if (v->kind == V_TEXT || v->kind == V_STRING) {
			quote(q, sizeof q, v->s, v->len);
			snprintf(msg + k, n - k, "%s", q);
		} else {
			snprintf(msg + k, n - k, "%s", kind_name(v->kind));
		}
		return -1;
	}
	if ((v->kind == V_TEXT || v->kind == V_NUMBER) && !(o->flags & OPT_SECRET)) {
		quote(q, sizeof q, v->s, v->len);
		if (v->kind == V_NUMBER)
			snprintf(msg, n, "expected %s, got %.*s", expected(o), (int)strlen(q) - 2,
				 q + 1);
		else
			snprintf(msg, n, "expected %s, got %s", expected(o), q);
	} else {
		snprintf(msg, n, "expected %s, got %s", expected(o), kind_name(v->kind));
	}
	return -1;
}

/* Reads a secret from a regular file (at most MAX_SECRET bytes, no NUL, trailing CR/LF
 * stripped) into a malloc'd string. */
static char *read_secret_file(const char *path, char *msg, size_t n)
{
	char q[64];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd;

	quote(q, sizeof q, path, strlen(path));
	if (!path[0]) {
		snprintf(msg, n, "\"@\" must be followed by a file name");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(msg, n, "cannot open secret file %s: %s", q, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(msg, n, "secret file %s is not a regular file", q);
		goto fail;
	}
	buf = malloc(MAX_SECRET + 1);
	if (!buf) {
		snprintf(msg, n, "out of memory");
		goto fail;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, MAX_SECRET + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(msg, n, "cannot read secret file %s: %s", q, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > MAX_SECRET) {
			snprintf(msg, n, "secret file %s is larger than %d bytes", q, MAX_SECRET);
			goto fail;
		}
	}
	close(fd);
	if (memchr(buf, '\0', len)) {
		snprintf(msg, n, "secret file %s contains a NUL byte", q);
		free(buf);
		return NULL;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* The text of a string that may be "@FILE" (secrets): "@@x" is the literal "@x". */
static char *secret_text(const char *s, size_t len, char *msg, size_t n)
{
	char *d;

	if (len && s[0] == '@') {
		if (len > 1 && s[1] == '@')
			d = agent_strndup(s + 1, len - 1);
		else
			return read_secret_file(s + 1, msg, n);
	} else {
		d = agent_strndup(s, len);
	}
	if (!d)
		snprintf(msg, n, "out of memory");
	return d;
}

/* Parses an unsigned integer written as a JSON integer; saturates at UINT64_MAX. */
static int parse_uint(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (!is_digit((unsigned char)s[i]))
			return -1;
		d = (unsigned)(s[i] - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_bool(const char *s, size_t len, int *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (str_ieq(s, len, yes[i])) {
			*out = 1;
			return 0;
		}
		if (str_ieq(s, len, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int parse_level(const char *s, size_t len, int *out)
{
	for (int i = 0; i < 8; i++)
		if (str_ieq(s, len, log_level_names[i])) {
			*out = i;
			return 0;
		}
	for (size_t i = 0; i < sizeof log_level_aliases / sizeof log_level_aliases[0]; i++)
		if (str_ieq(s, len, log_level_aliases[i].name)) {
			*out = log_level_aliases[i].level;
			return 0;
		}
	if (len == 1 && s[0] >= '0' && s[0] <= '7') {
		*out = s[0] - '0';
		return 0;
	}
	return -1;
}

static int set_string(struct agent_config *c, const struct opt *o, const struct val *v, char *msg,
		      size_t n)
{
	char **dst = field(c, o);
	char *s;

	if (v->kind == V_NULL || ((v->kind == V_TEXT || v->kind == V_STRING) && v->len == 0)) {
		if (!(o->flags & OPT_NULLABLE)) {
			if (v->kind == V_NULL)
				return type_error(o, v, msg, n);
			snprintf(msg, n, "must not be empty");
			return -1;
		}
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (v->kind != V_TEXT && v->kind != V_STRING)
		return type_error(o, v, msg, n);
	if (o->flags & OPT_SECRET)
		s = secret_text(v->s, v->len, msg, n);
	else if (!(s = agent_strndup(v->s, v->len)))
		snprintf(msg, n, "out of memory");
	if (!s)
		return -1;
	if (!s[0] && !(o->flags & OPT_NULLABLE)) {
		snprintf(msg, n, "must not be empty");
		free(s);
		return -1;
	}
	if (!text_ok(s, strlen(s), 0)) {
		snprintf(msg, n, "must be UTF-8 text without control characters");
		free(s);
		return -1;
	}
	if (o->check && o->check(s, msg, n)) {
		free(s);
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

/* Stores v into the field of o, or fills msg (without the option name) and returns -1. */
static int set_opt(struct agent_config *c, const struct opt *o, const struct val *v, char *msg,
		   size_t n)
{
	int text = v->kind == V_TEXT;
	uint64_t u;
	double d;
	int i;

	switch (o->type) {
	case OPT_STRING:
		return set_string(c, o, v, msg, n);
	case OPT_BOOL:
		if (v->kind == V_BOOL)
			i = v->b;
		else if (!text || parse_bool(v->s, v->len, &i))
			return type_error(o, v, msg, n);
		*(int *)field(c, o) = i;
		return 0;
	case OPT_UINT:
	case OPT_U64:
	case OPT_SIZE:
		if ((!text && v->kind != V_NUMBER) || parse_uint(v->s, v->len, &u))
			return type_error(o, v, msg, n);
		if (!in_range(o, (double)u))
			return range_error(o, v->s, v->len, msg, n);
		if (o->type == OPT_UINT)
			*(unsigned *)field(c, o) = (unsigned)u;
		else if (o->type == OPT_U64)
			*(uint64_t *)field(c, o) = u;
		else
			*(size_t *)field(c, o) = (size_t)u;
		return 0;
	case OPT_DOUBLE:
	case OPT_SECONDS:
		if ((!text && v->kind != V_NUMBER) || number_len(v->s, v->len) != v->len)
			return type_error(o, v, msg, n);
		d = strtod(v->s, NULL);
		if (!in_range(o, d))
			return range_error(o, v->s, v->len, msg, n);
		*(double *)field(c, o) = d;
		return 0;
	case OPT_ENUM:
		if (!text && v->kind != V_STRING)
			return type_error(o, v, msg, n);
		for (i = 0; o->names[i]; i++)
			if (str_ieq(v->s, v->len, o->names[i])) {
				*(int *)field(c, o) = i;
				return 0;
			}
		return type_error(o, v, msg, n);
	case OPT_LOG_LEVEL:
		if (v->kind == V_NUMBER && parse_uint(v->s, v->len, &u) == 0 && u <= 7)
			i = (int)u;
		else if ((!text && v->kind != V_STRING) || parse_level(v->s, v->len, &i))
			return type_error(o, v, msg, n);
		*(int *)field(c, o) = i;
		return 0;
	}
	snprintf(msg, n, "unsupported option type");
	return -1;
}

/* A Kafka property value as text: strings as they are (secrets may be @FILE), numbers as
 * written, booleans as true/false. */
static char *kafka_text(const char *prop, const struct val *v, char *msg, size_t n)
{
	char *s;

	switch (v->kind) {
	case V_TEXT:
	case V_STRING:
		if (kafka_secret(prop)) {
			if (!(s = secret_text(v->s, v->len, msg, n)))
				return NULL;
		} else {
			s = agent_strndup(v->s, v->len);
		}
		break;
	case V_NUMBER:
		s = agent_strndup(v->s, v->len);
		break;
	case V_BOOL:
		s = agent_strndup(v->b ? "true" : "false", v->b ? 4 : 5);
		break;
	default:
		snprintf(msg, n, "expected a string, number or boolean, got %s",
			 kind_name(v->kind));
		return NULL;
	}
	if (!s) {
		snprintf(msg, n, "out of memory");
	} else if (!text_ok(s, strlen(s), 1)) {
		snprintf(msg, n, "must be UTF-8 text");
		free(s);
		s = NULL;
	}
	return s;
}

/* ---- whole configurations: copy, free ---- */

void agent_config_free(struct agent_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].type == OPT_STRING)
			free(*(char **)field(c, &opts[i]));
	for (size_t i = 0; i < c->kafka_n; i++) {
		free(c->kafka_keys[i]);
		free(c->kafka_values[i]);
	}
	free(c->kafka_keys);
	free(c->kafka_values);
	memset(c, 0, sizeof *c);
}

/* Deep copy of src into dst (uninitialised); -1 when memory runs out (dst is then empty). */
static int config_copy(struct agent_config *dst, const struct agent_config *src)
{
	*dst = *src;
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].type == OPT_STRING)
			*(char **)field(dst, &opts[i]) = NULL;
	dst->kafka_keys = dst->kafka_values = NULL;
	dst->kafka_n = 0;
	for (size_t i = 0; i < NOPTS; i++) {
		const char *s;

		if (opts[i].type != OPT_STRING || !(s = *(char *const *)cfield(src, &opts[i])))
			continue;
		if (!(*(char **)field(dst, &opts[i]) = strdup(s)))
			goto fail;
	}
	if (src->kafka_n) {
		dst->kafka_keys = calloc(src->kafka_n, sizeof *dst->kafka_keys);
		dst->kafka_values = calloc(src->kafka_n, sizeof *dst->kafka_values);
		if (!dst->kafka_keys || !dst->kafka_values)
			goto fail;
		for (size_t i = 0; i < src->kafka_n; i++) {
			char *k = strdup(src->kafka_keys[i]), *v = strdup(src->kafka_values[i]);

			if (!k || !v) {
				free(k);
				free(v);
				goto fail;
			}
			dst->kafka_keys[i] = k;
			dst->kafka_values[i] = v;
			dst->kafka_n++;
		}
	}
	return 0;
fail:
	agent_config_free(dst);
	return -1;
}

/* Replaces *c by tmp (consumed). */
static void commit(struct agent_config *c, struct agent_config *tmp)
{
	agent_config_free(c);
	*c = *tmp;
}

/* The host name, reduced to the characters allowed in agent_id; "driftd" if there is none. */
static char *host_name(void)
{
	char buf[256];

	if (gethostname(buf, sizeof buf - 1) != 0)
		buf[0] = '\0';
	buf[sizeof buf - 1] = '\0';
	for (char *p = buf; *p; p++)
		if (!is_alnum((unsigned char)*p) && !strchr("._~-", *p))
			*p = '-';
	return strdup(buf[0] ? buf : "driftd");
}

void agent_config_defaults(struct agent_config *c)
{
	char msg[256];

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		struct val v = { .kind = V_TEXT, .s = o->def, .len = o->def ? strlen(o->def) : 0 };

		if (o->flags & OPT_HOSTNAME) {
			if (!(*(char **)field(c, o) = host_name())) {
				fprintf(stderr, "driftd: out of memory\n");
				abort();
			}
		} else if (o->def && set_opt(c, o, &v, msg, sizeof msg)) {
			/* the table is wrong, or there is no memory for a few strings */
			fprintf(stderr, "driftd: default of %s: %s\n", o->name, msg);
			abort();
		}
	}
}

/* ---- the JSON reader ---- */

struct jmember;

/* A parsed JSON value; arrays are checked but their items are not kept (no option takes one). */
struct jnode {
	enum vkind kind;   /* V_STRING, V_NUMBER, V_BOOL, V_NULL, V_OBJECT or V_ARRAY */
	int line, col;	   /* where the value starts */
	char *s;	   /* V_STRING: decoded text; V_NUMBER: the lexeme; NUL-terminated */
	size_t len;	   /* of s */
	int b;		   /* V_BOOL */
	struct jmember *m; /* V_OBJECT: the members in document order */
	size_t n;	   /* of m */
};

struct jmember {
	char *key;	/* decoded */
	size_t klen;	/* of key */
	int line, col;	/* of the key's opening quote */
	struct jnode v; /* the value */
};

struct jreader {
	const unsigned char *p, *end; /* the next byte, the end of the document */
	int line, col;		      /* of *p */
	int depth;		      /* open objects and arrays */
	const char *name;	      /* of the document, for messages */
	char *err;		      /* the first error, "NAME:LINE:COL: message" */
	size_t errlen;
	int failed;
};

static void jnode_free(struct jnode *nd)
{
	for (size_t i = 0; i < nd->n; i++) {
		free(nd->m[i].key);
		jnode_free(&nd->m[i].v);
	}
	free(nd->m);
	free(nd->s);
	memset(nd, 0, sizeof *nd);
}

static void jerr_at(struct jreader *r, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void jerr_at(struct jreader *r, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->failed)
		return;
	r->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	agent_errf(r->err, r->errlen, "%s:%d:%d: %s", r->name, line, col, msg);
}

/* Consumes one byte; columns count characters (UTF-8 continuation bytes do not advance). */
static void jadv(struct jreader *r)
{
	if (*r->p == '\n') {
		r->line++;
		r->col = 1;
	} else if ((*r->p & 0xc0) != 0x80) {
		r->col++;
	}
	r->p++;
}

static void jskip(struct jreader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		jadv(r);
}

/* A growable byte buffer. */
struct buf {
	char *data;
	size_t len, cap;
};

static int buf_add(struct buf *b, const void *src, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(d = realloc(b->data, cap)))
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, src, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int ch = p[i];

		v <<= 4;
		if (is_digit(ch))
			v |= (unsigned)(ch - '0');
		else if (to_lower(ch) >= 'a' && to_lower(ch) <= 'f')
			v |= (unsigned)(to_lower(ch) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* After a backslash at (line, col): one escape sequence into b. */
static int jescape(struct jreader *r, struct buf *b, int line, int col)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned cp, lo;
	unsigned char u[4];
	size_t ulen;
	const char *e;

	if (r->p == r->end)
		return -1; /* reported by the caller as unterminated */
	if (*r->p != 'u') {
		if (!*r->p || !(e = strchr(from, *r->p))) {
			jerr_at(r, line, col, "invalid escape sequence in a string");
			return -1;
		}
		jadv(r);
		return buf_add(b, &to[e - from], 1);
	}
	jadv(r);
	if (hex4(r->p, r->end, &cp)) {
		jerr_at(r, line, col, "invalid \\u escape in a string");
		return -1;
	}
	for (int i = 0; i < 4; i++)
		jadv(r);
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		jerr_at(r, line, col, "invalid \\u escape in a string: unpaired surrogate");
		return -1;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, r->end, &lo) || lo < 0xdc00 || lo > 0xdfff) {
			jerr_at(r, line, col, "invalid \\u escape in a string: unpaired surrogate");
			return -1;
		}
		for (int i = 0; i < 6; i++)
			jadv(r);
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0) {
		jerr_at(r, line, col, "\\u0000 is not allowed in a string");
		return -1;
	}
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		ulen = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		ulen = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		ulen = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		ulen = 4;
	}
	return buf_add(b, u, ulen);
}

/* A string at r->p (the opening quote) into a malloc'd, NUL-terminated *out. Messages never
 * quote the string's content: it may be a secret. */
static int jstring(struct jreader *r, char **out, size_t *outlen)
{
	int line = r->line, col = r->col;
	struct buf b = { 0 };

	if (buf_add(&b, "", 0))
		goto oom;
	jadv(r);
	for (;;) {
		unsigned char ch;

		if (r->p == r->end) {
			jerr_at(r, line, col, "unterminated string");
			goto fail;
		}
		ch = *r->p;
		if (ch == '"') {
			jadv(r);
			break;
		}
		if (ch < 0x20) {
			jerr_at(r, r->line, r->col,
				"control character in a string (write it as an escape)");
			goto fail;
		}
		if (ch == '\\') {
			int eline = r->line, ecol = r->col;

			jadv(r);
			if (r->p == r->end) {
				jerr_at(r, line, col, "unterminated string");
				goto fail;
			}
			if (jescape(r, &b, eline, ecol)) {
				if (!r->failed)
					goto oom;
				goto fail;
			}
		} else {
			size_t k = utf8_len(r->p, (size_t)(r->end - r->p));

			if (!k) {
				jerr_at(r, r->line, r->col, "invalid UTF-8 in a string");
				goto fail;
			}
			if (buf_add(&b, r->p, k))
				goto oom;
			for (size_t i = 0; i < k; i++)
				jadv(r);
		}
	}
	*out = b.data;
	*outlen = b.len;
	return 0;
oom:
	jerr_at(r, line, col, "out of memory");
fail:
	free(b.data);
	return -1;
}

static int jvalue(struct jreader *r, struct jnode *nd);

static int jobject(struct jreader *r, struct jnode *nd)
{
	if (++r->depth > MAX_DEPTH) {
		jerr_at(r, nd->line, nd->col, "nesting deeper than %d levels", MAX_DEPTH);
		return -1;
	}
	jadv(r);
	jskip(r);
	if (r->p < r->end && *r->p == '}') {
		jadv(r);
		r->depth--;
		return 0;
	}
	for (;;) {
		struct jmember m = { 0 };
		char q[64];

		jskip(r);
		if (r->p == r->end) {
			jerr_at(r, r->line, r->col, "unexpected end of input in an object");
			return -1;
		}
		if (*r->p != '"') {
			jerr_at(r, r->line, r->col, "%s",
				*r->p == '}' ? "trailing comma before '}'"
					     : "expected a key (a double-quoted string)");
			return -1;
		}
		m.line = r->line;
		m.col = r->col;
		if (jstring(r, &m.key, &m.klen))
			return -1;
		for (size_t i = 0; i < nd->n; i++) {
			if (nd->m[i].klen == m.klen && !memcmp(nd->m[i].key, m.key, m.klen)) {
				quote(q, sizeof q, m.key, m.klen);
				jerr_at(r, m.line, m.col, "duplicate key %s (first at %d:%d)", q,
					nd->m[i].line, nd->m[i].col);
				free(m.key);
				return -1;
			}
		}
		if (nd->n >= MAX_MEMBERS) {
			jerr_at(r, m.line, m.col, "more than %d keys in one object", MAX_MEMBERS);
			free(m.key);
			return -1;
		}
		jskip(r);
		if (r->p == r->end || *r->p != ':') {
			jerr_at(r, r->line, r->col, "expected ':' after the key");
			free(m.key);
			return -1;
		}
		jadv(r);
		if (jvalue(r, &m.v)) {
			free(m.key);
			jnode_free(&m.v);
			return -1;
		}
		if (nd->n % 8 == 0) {
			struct jmember *mm = realloc(nd->m, (nd->n + 8) * sizeof *mm);

			if (!mm) {
				jerr_at(r, m.line, m.col, "out of memory");
				free(m.key);
				jnode_free(&m.v);
				return -1;
			}
			nd->m = mm;
		}
		nd->m[nd->n++] = m;
		jskip(r);
		if (r->p == r->end) {
			jerr_at(r, r->line, r->col, "unexpected end of input: expected ',' or '}'");
			return -1;
		}
		if (*r->p == '}') {
			jadv(r);
			break;
		}
		if (*r->p != ',') {
			jerr_at(r, r->line, r->col, "expected ',' or '}'");
			return -1;
		}
		jadv(r);
	}
	r->depth--;
	return 0;
}

static int jarray(struct jreader *r, struct jnode *nd)
{
	if (++r->depth > MAX_DEPTH) {
		jerr_at(r, nd->line, nd->col, "nesting deeper than %d levels", MAX_DEPTH);
		return -1;
	}
	jadv(r);
	jskip(r);
	if (r->p < r->end && *r->p == ']') {
		jadv(r);
		r->depth--;
		return 0;
	}
	for (;;) {
		struct jnode item = { 0 };
		int rc = jvalue(r, &item);

		jnode_free(&item);
		if (rc)
			return -1;
		jskip(r);
		if (r->p == r->end) {
			jerr_at(r, r->line, r->col, "unexpected end of input: expected ',' or ']'");
			return -1;
		}
		if (*r->p == ']') {
			jadv(r);
			break;
		}
		if (*r->p != ',') {
			jerr_at(r, r->line, r->col, "expected ',' or ']'");
			return -1;
		}
		jadv(r);
	}
	r->depth--;
	return 0;
}

static int jliteral(struct jreader *r, struct jnode *nd)
{
	static const struct {
		const char *word;
		enum vkind kind;
		int b;
	} lits[] = { { "true", V_BOOL, 1 }, { "false", V_BOOL, 0 }, { "null", V_NULL, 0 } };
	size_t avail = (size_t)(r->end - r->p);

	for (size_t i = 0; i < 3; i++) {
		size_t len = strlen(lits[i].word);

		if (avail >= len && !memcmp(r->p, lits[i].word, len) &&
		    (avail == len || !is_alnum(r->p[len]))) {
			nd->kind = lits[i].kind;
			nd->b = lits[i].b;
			for (size_t k = 0; k < len; k++)
				jadv(r);
			return 0;
		}
	}
	jerr_at(r, nd->line, nd->col, "invalid literal (strings need double quotes)");
	return -1;
}

static int jnumber(struct jreader *r, struct jnode *nd)
{
	size_t avail = (size_t)(r->end - r->p);
	size_t len = number_len((const char *)r->p, avail);

	if (!len || (len < avail && (is_alnum(r->p[len]) || r->p[len] == '.'))) {
		jerr_at(r, nd->line, nd->col, "invalid number");
		return -1;
	}
	nd->kind = V_NUMBER;
	if (!(nd->s = agent_strndup((const char *)r->p, len))) {
		jerr_at(r, nd->line, nd->col, "out of memory");
		return -1;
	}
	nd->len = len;
	for (size_t k = 0; k < len; k++)
		jadv(r);
	return 0;
}

static int jvalue(struct jreader *r, struct jnode *nd)
{
	unsigned char ch;

	jskip(r);
	nd->line = r->line;
	nd->col = r->col;
	if (r->p == r->end) {
		jerr_at(r, r->line, r->col, "unexpected end of input: expected a value");
		return -1;
	}
	ch = *r->p;
	switch (ch) {
	case '{':
		nd->kind = V_OBJECT;
		return jobject(r, nd);
	case '[':
		nd->kind = V_ARRAY;
		return jarray(r, nd);
	case '"':
		nd->kind = V_STRING;
		return jstring(r, &nd->s, &nd->len);
	case '-':
		return jnumber(r, nd);
	default:
		break;
	}
	if (is_digit(ch))
		return jnumber(r, nd);
	if (is_alnum(ch))
		return jliteral(r, nd);
	if (ch > 0x20 && ch < 0x7f)
		jerr_at(r, r->line, r->col, "expected a value, got '%c'", ch);
	else
		jerr_at(r, r->line, r->col, "expected a value");
	return -1;
}

/* The whole document: one object, nothing after it but white space (a UTF-8 BOM is skipped). */
static int jdocument(struct jreader *r, struct jnode *root)
{
	if (r->end - r->p >= 3 && r->p[0] == 0xef && r->p[1] == 0xbb && r->p[2] == 0xbf)
		r->p += 3;
	jskip(r);
	if (r->p == r->end) {
		jerr_at(r, r->line, r->col, "empty document: expected a JSON object");
		return -1;
	}
	if (*r->p != '{') {
		jerr_at(r, r->line, r->col, "the configuration must be a JSON object");
		return -1;
	}
	if (jvalue(r, root))
		return -1;
	jskip(r);
	if (r->p != r->end) {
		jerr_at(r, r->line, r->col, "unexpected data after the JSON object");
		return -1;
	}
	return 0;
}

/* ---- applying a parsed document ---- */

static int apply_kafka(struct jreader *r, struct agent_config *c, const struct jnode *obj)
{
	char msg[400], q[64];

	if (obj->kind != V_OBJECT) {
		jerr_at(r, obj->line, obj->col,
			"kafka: expected an object of librdkafka properties, got %s",
			kind_name(obj->kind));
		return -1;
	}
	for (size_t i = 0; i < obj->n; i++) {
		const struct jmember *m = &obj->m[i];
		struct val v = { .kind = m->v.kind, .s = m->v.s, .len = m->v.len, .b = m->v.b };
		char *value;

		if (!kafka_name_ok(m->key, m->klen)) {
			quote(q, sizeof q, m->key, m->klen);
			jerr_at(r, m->line, m->col,
				"kafka: invalid property name %s (letters, digits, '.', '_', '-')",
				q);
			return -1;
		}
		if (!(value = kafka_text(m->key, &v, msg, sizeof msg)) ||
		    kafka_put(c, m->key, m->klen, value, msg, sizeof msg)) {
			jerr_at(r, m->v.line, m->v.col, "kafka.%s: %s", m->key, msg);
			return -1;
		}
	}
	return 0;
}

static int apply_object(struct jreader *r, struct agent_config *c, const struct jnode *obj,
			const char *prefix)
{
	for (size_t i = 0; i < obj->n; i++) {
		const struct jmember *m = &obj->m[i];
		char path[MAX_NAME + 1], q[64], hint[MAX_NAME + 32], msg[400];
		size_t plen = prefix ? strlen(prefix) : 0;
		const struct opt *o = NULL;
		int fits =
		    m->klen > 0 && plen + 1 + m->klen <= MAX_NAME && !memchr(m->key, '.', m->klen);

		if (!prefix && m->klen == 5 && !memcmp(m->key, "kafka", 5)) {
			if (apply_kafka(r, c, &m->v))
				return -1;
			continue;
		}
		if (fits) {
			snprintf(path, sizeof path, "%s%s%s", prefix ? prefix : "",
				 prefix ? "." : "", m->key);
			plen = strlen(path);
			o = find_opt(path, plen);
		}
		if (o) {
			struct val v = {
				.kind = m->v.kind, .s = m->v.s, .len = m->v.len, .b = m->v.b
			};

			if (set_opt(c, o, &v, msg, sizeof msg)) {
				jerr_at(r, m->v.line, m->v.col, "%s: %s", o->name, msg);
				return -1;
			}
			continue;
		}
		if (fits && is_section(path, plen)) {
			if (m->v.kind != V_OBJECT) {
				jerr_at(r, m->v.line, m->v.col, "%s: expected an object, got %s",
					path, kind_name(m->v.kind));
				return -1;
			}
			if (apply_object(r, c, &m->v, path))
				return -1;
			continue;
		}
		quote(q, sizeof q, m->key, m->klen);
		if (m->klen && memchr(m->key, '.', m->klen)) {
			snprintf(hint, sizeof hint,
				 " (dotted names are written as nested objects)");
		} else if (fits) {
			suggest_path(path, plen, hint, sizeof hint);
		} else {
			hint[0] = '\0';
		}
		if (prefix)
			jerr_at(r, m->line, m->col, "unknown key %s in \"%s\"%s", q, prefix, hint);
		else
			jerr_at(r, m->line, m->col, "unknown key %s%s", q, hint);
		return -1;
	}
	return 0;
}

/* ---- API: loading ---- */

int agent_config_load_string(struct agent_config *c, const char *name, const char *json, size_t len,
			     char *err, size_t errlen)
{
	struct jreader r = { 0 };
	struct jnode root = { 0 };
	struct agent_config tmp;

	r.name = name ? name : "<config>";
	r.err = err;
	r.errlen = errlen;
	r.line = r.col = 1;
	if (len > MAX_FILE) {
		jerr_at(&r, 1, 1, "larger than %d bytes (1 MiB)", MAX_FILE);
		return -1;
	}
	r.p = (const unsigned char *)(json ? json : "");
	r.end = r.p + (json ? len : 0);
	if (jdocument(&r, &root)) {
		jnode_free(&root);
		return -1;
	}
	if (config_copy(&tmp, c)) {
		jerr_at(&r, 1, 1, "out of memory");
		jnode_free(&root);
		return -1;
	}
	if (apply_object(&r, &tmp, &root, NULL)) {
		agent_config_free(&tmp);
		jnode_free(&root);
		return -1;
	}
	jnode_free(&root);
	commit(c, &tmp);
	return 0;
}

int agent_config_load_file(struct agent_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len = 0;
	int rc;

	if (!f) {
		agent_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (!(buf = malloc(MAX_FILE + 1))) {
		fclose(f);
		agent_errf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	while (len <= MAX_FILE) {
		size_t k = fread(buf + len, 1, MAX_FILE + 1 - len, f);

		if (k == 0)
			break;
		len += k;
	}
	if (ferror(f)) {
		agent_errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = -1;
	} else if (len > MAX_FILE) {
		agent_errf(err, errlen, "%s: larger than %d bytes (1 MiB)", path, MAX_FILE);
		rc = -1;
	} else {
		rc = agent_config_load_string(c, path, buf, len, err, errlen);
	}
	free(buf);
	fclose(f);
	return rc;
}

int agent_config_load_env(struct agent_config *c, char *const *envp, char *err, size_t errlen)
{
	struct agent_config tmp;

	if (!envp)
		return 0;
	if (config_copy(&tmp, c)) {
		agent_errf(err, errlen, "environment: out of memory");
		return -1;
	}
	for (size_t i = 0; envp[i]; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');
		size_t nlen = eq ? (size_t)(eq - e) : 0;
		const struct opt *o;
		char msg[400], hint[MAX_NAME + 32];
		int allowed = 0;

		if (!eq || strncmp(e, "DRIFTD_", 7) != 0)
			continue;
		for (size_t k = 0; k < sizeof env_allowed / sizeof env_allowed[0]; k++)
			if (strlen(env_allowed[k]) == nlen && !memcmp(env_allowed[k], e, nlen))
				allowed = 1;
		if (allowed)
			continue;
		for (size_t k = 0; k < sizeof env_kafka_secrets / sizeof env_kafka_secrets[0];
		     k++) {
			const char *prop = env_kafka_secrets[k].prop;
			char *text;

			if (strlen(env_kafka_secrets[k].env) != nlen ||
			    memcmp(env_kafka_secrets[k].env, e, nlen) != 0)
				continue;
			allowed = 1;
			text = secret_text(eq + 1, strlen(eq + 1), msg, sizeof msg);
			if (!text || kafka_put(&tmp, prop, strlen(prop), text, msg, sizeof msg)) {
				agent_errf(err, errlen, "%.*s: %s", (int)nlen, e, msg);
				agent_config_free(&tmp);
				return -1;
			}
		}
		if (allowed)
			continue;
		if (!(o = find_env(e, nlen))) {
			if (nlen > 13 && !strncmp(e, "DRIFTD_KAFKA_", 13))
				snprintf(hint, sizeof hint,
					 " (Kafka properties come from the file or "
					 "--kafka.PROP=VALUE)");
			else
				suggest_env(e, nlen, hint, sizeof hint);
			agent_errf(err, errlen, "environment: unknown variable %.*s%s",
				   (int)(nlen > MAX_NAME ? MAX_NAME : nlen), e, hint);
			agent_config_free(&tmp);
			return -1;
		}
		struct val v = { .kind = V_TEXT, .s = eq + 1, .len = strlen(eq + 1) };
		if (set_opt(&tmp, o, &v, msg, sizeof msg)) {
			agent_errf(err, errlen, "%.*s: %s", (int)nlen, e, msg);
			agent_config_free(&tmp);
			return -1;
		}
	}
	commit(c, &tmp);
	return 0;
}

int agent_config_load_args(struct agent_config *c, int argc, char **argv, int *i, char *err,
			   size_t errlen)
{
	struct agent_config tmp;
	int k = *i;

	if (config_copy(&tmp, c)) {
		agent_errf(err, errlen, "out of memory");
		return -1;
	}
	while (k < argc) {
		const char *a = argv[k], *name, *eq, *value;
		size_t nlen;
		const struct opt *o;
		char msg[400], hint[MAX_NAME + 32];
		int neg = 0;

		if (!strcmp(a, "--")) {
			k++;
			break;
		}
		if (strncmp(a, "--", 2) != 0)
			break;
		if (!strcmp(a, "--config") || !strncmp(a, "--config=", 9))
			break; /* the caller's (-c): the file is applied before the environment */
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		value = eq ? eq + 1 : NULL;
		if (nlen > 6 && !strncmp(name, "kafka.", 6)) {
			struct val v = { .kind = V_TEXT };
			char *text;

			if (!kafka_name_ok(name + 6, nlen - 6)) {
				agent_errf(err, errlen, "--%.*s: invalid Kafka property name",
					   (int)(nlen > MAX_NAME ? MAX_NAME : nlen), name);
				goto fail;
			}
			if (!value) {
				if (k + 1 >= argc) {
					agent_errf(err, errlen, "--%.*s: missing value", (int)nlen,
						   name);
					goto fail;
				}
				value = argv[++k];
			}
			v.s = value;
			v.len = strlen(value);
			{
				char prop[MAX_PROP + 1];

				snprintf(prop, sizeof prop, "%.*s", (int)(nlen - 6), name + 6);
				if (!(text = kafka_text(prop, &v, msg, sizeof msg)) ||
				    kafka_put(&tmp, prop, nlen - 6, text, msg, sizeof msg)) {
					agent_errf(err, errlen, "--%.*s: %s", (int)nlen, name, msg);
					goto fail;
				}
			}
			k++;
			continue;
		}
		o = find_flag(name, nlen);
		if (!o && nlen > 3 && !strncmp(name, "no-", 3)) {
			o = find_flag(name + 3, nlen - 3);
			if (o && o->type == OPT_BOOL)
				neg = 1;
			else
				o = NULL;
		}
		if (!o) {
			suggest_flag(name, nlen, hint, sizeof hint);
			agent_errf(err, errlen, "unknown option --%.*s%s",
				   (int)(nlen > MAX_NAME ? MAX_NAME : nlen), name, hint);
			goto fail;
		}
		if (neg && value) {
			agent_errf(err, errlen, "--%.*s takes no value", (int)nlen, name);
			goto fail;
		}
		if (neg || (o->type == OPT_BOOL && !value)) {
			*(int *)field(&tmp, o) = !neg;
			k++;
			continue;
		}
		if (!value) {
			if (k + 1 >= argc) {
				agent_errf(err, errlen, "--%.*s: missing value", (int)nlen, name);
				goto fail;
			}
			value = argv[++k];
		}
		struct val v = { .kind = V_TEXT, .s = value, .len = strlen(value) };
		if (set_opt(&tmp, o, &v, msg, sizeof msg)) {
			agent_errf(err, errlen, "--%.*s: %s", (int)nlen, name, msg);
			goto fail;
		}
		k++;
	}
	commit(c, &tmp);
	*i = k;
	return 0;
fail:
	agent_config_free(&tmp);
	*i = k < argc ? k : argc - 1;
	return -1;
}

/* ---- string checks (also used by validate) ---- */

/* A Kafka topic name: 1..249 of [A-Za-z0-9._-]. */
static int topic_ok(const char *s, size_t len)
{
	if (len == 0 || len > MAX_TOPIC)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* "T1[,T2...]", every topic valid. */
static int topics_ok(const char *s)
{
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (!topic_ok(s, len))
			return 0;
		if (!comma)
			return 1;
		s = comma + 1;
	}
}

static int check_source(const char *s, char *msg, size_t n)
{
	if ((starts_with(s, "file:") && s[5]) || (starts_with(s, "kafka:") && topics_ok(s + 6)))
		return 0;
	snprintf(msg, n,
		 "expected file:PATH, file:- or kafka:TOPIC[,TOPIC...] (topics: letters, "
		 "digits, '.', '_', '-')");
	return -1;
}

static int check_events(const char *s, char *msg, size_t n)
{
	if ((starts_with(s, "file:") && s[5]) ||
	    (starts_with(s, "kafka:") && topic_ok(s + 6, strlen(s + 6))))
		return 0;
	snprintf(msg, n, "expected file:PATH, file:- or kafka:TOPIC");
	return -1;
}

static int check_topic_endpoint(const char *s, char *msg, size_t n)
{
	if (starts_with(s, "kafka:") && topic_ok(s + 6, strlen(s + 6)))
		return 0;
	snprintf(msg, n, "expected kafka:TOPIC");
	return -1;
}

/* Never quotes the value: it may hold a password. */
static int check_store(const char *s, char *msg, size_t n)
{
	if ((starts_with(s, "dir:") && s[4]) || (starts_with(s, "unix:") && s[5]) ||
	    (starts_with(s, "redis://") && s[8]))
		return 0;
	snprintf(msg, n, "expected dir:PATH, redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:PATH");
	return -1;
}

static int check_listen(const char *s, char *msg, size_t n)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;
	size_t hlen;

	if (!s[0])
		return 0; /* no HTTP endpoint */
	if (!colon || parse_uint(colon + 1, strlen(colon + 1), &port) || port > 65535)
		goto bad;
	hlen = (size_t)(colon - s); /* 0: ":PORT", every IPv4 interface */
	if (hlen && s[0] == '[' ? (hlen < 3 || s[hlen - 1] != ']') : memchr(s, ':', hlen) != NULL)
		goto bad;
	return 0;
bad:
	snprintf(msg, n, "expected HOST:PORT or [IPV6]:PORT, PORT in 0..65535");
	return -1;
}

static int check_log_facilities(const char *s, char *msg, size_t n)
{
	const char *p = s;

	if (strlen(s) > 500) {
		snprintf(msg, n, "too long");
		return -1;
	}
	while (*p) {
		size_t len = strcspn(p, ","), k;

		for (k = 0; agent_log_facility_names[k]; k++)
			if (strlen(agent_log_facility_names[k]) == len &&
			    !strncmp(agent_log_facility_names[k], p, len))
				break;
		if (!agent_log_facility_names[k]) {
			snprintf(msg, n, "unknown facility \"%.*s\" (see the list below)",
				 (int)(len > 40 ? 40 : len), p);
			return -1;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

static int check_alert_selector(const char *s, char *msg, size_t n)
{
	struct conn_am_selector *sel = conn_am_selector_new(s, msg, n);

	if (!sel)
		return -1;
	conn_am_selector_free(sel);
	return 0;
}

static int check_store_prefix(const char *s, char *msg, size_t n)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && !strchr("_.:-", s[i]))
			len = 0;
	if (len > 0 && len <= 64)
		return 0;
	snprintf(msg, n, "expected 1 to 64 letters, digits, '_', '.', ':' or '-'");
	return -1;
}

static int check_agent_id(const char *s, char *msg, size_t n)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && !strchr("._~-", s[i]))
			len = 0;
	if (len > 0 && len <= 253)
		return 0;
	snprintf(msg, n, "expected 1 to 253 letters, digits, '.', '_', '~' or '-'");
	return -1;
}

/* ---- validation ---- */

/* The stored value of o is one the loaders could have produced. */
static int check_stored(const struct agent_config *c, const struct opt *o, char *msg, size_t n)
{
	const void *f = cfield(c, o);
	char num[48];
	double d = 0;

	switch (o->type) {
	case OPT_STRING: {
		const char *s = *(char *const *)f;

		if (!s) {
			if (o->flags & OPT_NULLABLE)
				return 0;
			snprintf(msg, n, "must be set");
			return -1;
		}
		if (!s[0]) {
			snprintf(msg, n, "must not be empty");
			return -1;
		}
		if (!text_ok(s, strlen(s), 0)) {
			snprintf(msg, n, "must be UTF-8 text without control characters");
			return -1;
		}
		return o->check ? o->check(s, msg, n) : 0;
	}
	case OPT_BOOL:
		return 0;
	case OPT_UINT:
		d = *(const unsigned *)f;
		break;
	case OPT_U64:
		d = (double)*(const uint64_t *)f;
		break;
	case OPT_SIZE:
		d = (double)*(const size_t *)f;
		break;
	case OPT_DOUBLE:
	case OPT_SECONDS:
		d = *(const double *)f;
		break;
	case OPT_ENUM: {
		int v = *(const int *)f, k = 0;

		while (o->names[k])
			k++;
		if (v >= 0 && v < k)
			return 0;
		snprintf(msg, n, "invalid value %d", v);
		return -1;
	}
	case OPT_LOG_LEVEL: {
		int v = *(const int *)f;

		if (v >= 0 && v <= 7)
			return 0;
		snprintf(msg, n, "must be in [0, 7], got %d", v);
		return -1;
	}
	}
	if (in_range(o, d))
		return 0;
	fmt_double(num, sizeof num, d);
	return range_error(o, num, strlen(num), msg, n);
}

/* Whether the topic of "kafka:TOPIC" is one of the topics of "kafka:T1,T2". */
static int topic_in(const char *endpoint, const char *list)
{
	const char *t;
	size_t tlen;

	if (!endpoint || !list || !starts_with(endpoint, "kafka:") || !starts_with(list, "kafka:"))
		return 0;
	t = endpoint + 6;
	tlen = strlen(t);
	for (const char *s = list + 6;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (len == tlen && !memcmp(s, t, len))
			return 1;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

int agent_config_validate(const struct agent_config *c, char *err, size_t errlen)
{
	static const struct {
		size_t off;
		const char *name;
	} endpoints[] = { { OFF(source), "source" },
			  { OFF(labels), "labels" },
			  { OFF(events), "events" },
			  { OFF(dead_letters), "dead_letters" } };
	const char *bootstrap = kafka_get(c, "bootstrap.servers");
	char msg[400], a[32], b[32];

	if (!bootstrap)
		bootstrap = kafka_get(c, "metadata.broker.list");
	for (size_t i = 0; i < NOPTS; i++) {
		if (check_stored(c, &opts[i], msg, sizeof msg)) {
			agent_errf(err, errlen, "%s: %s", opts[i].name, msg);
			return -1;
		}
	}
	for (size_t i = 0; i < c->kafka_n; i++) {
		if (!kafka_name_ok(c->kafka_keys[i], strlen(c->kafka_keys[i]))) {
			agent_errf(err, errlen, "kafka: invalid property name");
			return -1;
		}
	}
	if (c->brokers && bootstrap) {
		agent_errf(err, errlen,
			   "brokers: set either brokers or kafka.bootstrap.servers, not both");
		return -1;
	}
	if (kafka_get(c, "group.id")) {
		agent_errf(err, errlen,
			   "kafka.group.id: set the consumer group with group (--group)");
		return -1;
	}
	for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
		const char *s = *(char *const *)((const char *)c + endpoints[i].off);

		if (s && starts_with(s, "kafka:") && !c->brokers && !bootstrap) {
			agent_errf(
			    err, errlen,
			    "%s: %s needs Kafka brokers (brokers, --brokers or DRIFTD_BROKERS)",
			    endpoints[i].name, s);
			return -1;
		}
	}
	if (c->grace_s >= c->window_s) {
		fmt_double(a, sizeof a, c->grace_s);
		fmt_double(b, sizeof b, c->window_s);
		agent_errf(err, errlen, "grace: must be shorter than window (%s >= %s)", a, b);
		return -1;
	}
	if (topic_in(c->events, c->source)) {
		agent_errf(err, errlen, "events: the rollback topic must not be a source topic");
		return -1;
	}
	if (topic_in(c->labels, c->source)) {
		agent_errf(err, errlen, "labels: the labels topic must not be a source topic");
		return -1;
	}
	if (topic_in(c->dead_letters, c->source) || topic_in(c->dead_letters, c->events)) {
		agent_errf(
		    err, errlen,
		    "dead_letters: the dead-letter topic must differ from the source and events "
		    "topics");
		return -1;
	}
	return 0;
}

/* ---- dump ---- */

/* s[0..len) as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static void put_json_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	for (size_t i = 0; i < len;) {
		unsigned char ch = p[i];
		size_t k;

		if (ch == '"' || ch == '\\') {
			fputc('\\', out);
			fputc(ch, out);
			i++;
		} else if (ch == '\n') {
			fputs("\\n", out);
			i++;
		} else if (ch == '\t') {
			fputs("\\t", out);
			i++;
		} else if (ch == '\r') {
			fputs("\\r", out);
			i++;
		} else if (ch < 0x20) {
			fprintf(out, "\\u%04x", ch);
			i++;
		} else if ((k = utf8_len(p + i, len - i)) == 0) {
			fputs("\\ufffd", out);
			i++;
		} else {
			fwrite(p + i, 1, k, out);
			i += k;
		}
	}
	fputc('"', out);
}

/* The store URL with its password replaced by "***": "redis://user:***@host", or
 * "redis://" "***@host" without a user part; anything unknown as a whole. */
static void put_store(FILE *out, const char *s)
{
	const char *scheme = strstr(s, "://"), *at = strrchr(s, '@');
	char *m;
	size_t len;

	if (starts_with(s, "dir:") || starts_with(s, "unix:") || (scheme && !at)) {
		put_json_string(out, s, strlen(s));
		return;
	}
	if (!scheme || at < scheme) {
		put_json_string(out, "***", 3);
		return;
	}
	{
		const char *user = scheme + 3, *colon = memchr(user, ':', (size_t)(at - user));
		const char *keep = colon ? colon + 1 : user;

		len = (size_t)(keep - s) + 3 + strlen(at);
		if (!(m = malloc(len + 1))) {
			put_json_string(out, "***", 3);
			return;
		}
		memcpy(m, s, (size_t)(keep - s));
		memcpy(m + (keep - s), "***", 3);
		strcpy(m + (keep - s) + 3, at);
		put_json_string(out, m, len);
		free(m);
	}
}

static void put_indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", out);
}

/* Opens a member: ",\n" or "\n", indentation, "key": . */
static void put_key(FILE *out, int depth, int *first, const char *key, size_t klen)
{
	fputs(*first ? "\n" : ",\n", out);
	*first = 0;
	put_indent(out, depth);
	put_json_string(out, key, klen);
	fputs(": ", out);
}

static void put_value(FILE *out, const struct agent_config *c, const struct opt *o)
{
	const void *f = cfield(c, o);
	char num[48];
	int v;

	switch (o->type) {
	case OPT_STRING: {
		const char *s = *(char *const *)f;

		if (!s)
			fputs("null", out);
		else if (o->flags & OPT_SECRET)
			put_store(out, s);
		else
			put_json_string(out, s, strlen(s));
		return;
	}
	case OPT_BOOL:
		fputs(*(const int *)f ? "true" : "false", out);
		return;
	case OPT_UINT:
		fprintf(out, "%u", *(const unsigned *)f);
		return;
	case OPT_U64:
		fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)f);
		return;
	case OPT_SIZE:
		fprintf(out, "%zu", *(const size_t *)f);
		return;
	case OPT_DOUBLE:
	case OPT_SECONDS:
		if (isfinite(*(const double *)f)) {
			fmt_double(num, sizeof num, *(const double *)f);
			fputs(num, out);
		} else {
			fputs("null", out);
		}
		return;
	case OPT_ENUM:
		v = *(const int *)f;
		for (int k = 0; o->names[k]; k++)
			if (k == v) {
				put_json_string(out, o->names[k], strlen(o->names[k]));
				return;
			}
		fprintf(out, "%d", v);
		return;
	case OPT_LOG_LEVEL:
		v = *(const int *)f;
		if (v >= 0 && v <= 7)
			put_json_string(out, log_level_names[v], strlen(log_level_names[v]));
		else
			fprintf(out, "%d", v);
		return;
	}
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_kafka(FILE *out, const struct agent_config *c, int *first)
{
	const char **kv;
	int inner = 1;

	put_key(out, 1, first, "kafka", 5);
	if (!c->kafka_n) {
		fputs("{}", out);
		return;
	}
	fputc('{', out);
	kv = malloc(2 * c->kafka_n * sizeof *kv);
	for (size_t i = 0; i < c->kafka_n; i++) {
		if (kv) {
			kv[2 * i] = c->kafka_keys[i];
			kv[2 * i + 1] = c->kafka_values[i];
		}
	}
	if (kv)
		qsort(kv, c->kafka_n, 2 * sizeof *kv, cmp_kv);
	for (size_t i = 0; i < c->kafka_n; i++) {
		const char *k = kv ? kv[2 * i] : c->kafka_keys[i];
		const char *v = kv ? kv[2 * i + 1] : c->kafka_values[i];

		put_key(out, 2, &inner, k, strlen(k));
		if (kafka_secret(k))
			put_json_string(out, "***", 3);
		else
			put_json_string(out, v, strlen(v));
	}
	free(kv);
	fputc('\n', out);
	put_indent(out, 1);
	fputc('}', out);
}

void agent_config_dump(const struct agent_config *c, FILE *out)
{
	const char *open[8]; /* the open objects: pointers into an option name */
	size_t open_len[8];
	int first[9] = { 1 }, depth = 0;

	fputc('{', out);
	for (size_t i = 0; i < NOPTS; i++) {
		const char *name = opts[i].name;
		const char *comp[8];
		size_t clen[8], ncomp = 0;
		int common = 0;

		for (const char *s = name; ncomp < 8;) {
			const char *dot = strchr(s, '.');

			comp[ncomp] = s;
			clen[ncomp++] = dot ? (size_t)(dot - s) : strlen(s);
			if (!dot)
				break;
			s = dot + 1;
		}
		while (common < depth && common + 1 < (int)ncomp &&
		       open_len[common] == clen[common] &&
		       !memcmp(open[common], comp[common], clen[common]))
			common++;
		while (depth > common) {
			fputc('\n', out);
			put_indent(out, depth);
			fputc('}', out);
			depth--;
		}
		while (depth + 1 < (int)ncomp) {
			put_key(out, depth + 1, &first[depth], comp[depth], clen[depth]);
			fputc('{', out);
			open[depth] = comp[depth];
			open_len[depth] = clen[depth];
			depth++;
			first[depth] = 1;
		}
		put_key(out, depth + 1, &first[depth], comp[ncomp - 1], clen[ncomp - 1]);
		put_value(out, c, &opts[i]);
	}
	while (depth > 0) {
		fputc('\n', out);
		put_indent(out, depth);
		fputc('}', out);
		depth--;
	}
	put_kafka(out, c, &first[0]);
	fputs("\n}\n", out);
}

/* ---- documentation ---- */

/* Markdown table cell text: '|' escaped. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void doc_type(FILE *out, const struct opt *o)
{
	char r[96];

	switch (o->type) {
	case OPT_STRING:
		fputs((o->flags & OPT_SECRET) ? "string, secret" : "string", out);
		return;
	case OPT_BOOL:
		fputs("boolean", out);
		return;
	case OPT_UINT:
	case OPT_U64:
	case OPT_SIZE:
		range_text(o, r, sizeof r);
		fprintf(out, "integer %s", r);
		return;
	case OPT_DOUBLE:
	case OPT_SECONDS:
		range_text(o, r, sizeof r);
		fprintf(out, "%s%s%s", o->type == OPT_SECONDS ? "seconds" : "number",
			r[0] ? " " : "", r);
		return;
	case OPT_ENUM:
		for (int k = 0; o->names[k]; k++)
			fprintf(out, "%s`%s`",
				k == 0		  ? ""
				: o->names[k + 1] ? ", "
						  : " or ",
				o->names[k]);
		return;
	case OPT_LOG_LEVEL:
		fputs(
		    "`emerg`, `alert`, `crit`, `err`, `warning`, `notice`, `info`, `debug` or 0-7",
		    out);
		return;
	}
}

static void doc_intro(FILE *out)
{
	fputs(
	    "<!-- Generated from agent/config.c by `driftd config-doc`; do not edit. -->\n"
	    "# Configuration\n"
	    "\n"
	    "driftd takes every setting from four places; a later one overrides an earlier one:\n"
	    "\n"
	    "1. the defaults listed below;\n"
	    "2. the JSON file given with `-c FILE` (or `--config FILE`);\n"
	    "3. `DRIFTD_*` environment variables;\n"
	    "4. command-line flags.\n"
	    "\n"
	    "`driftd check-config [-c FILE] [flags]` checks the result and prints it as JSON, "
	    "secrets masked.\n"
	    "\n"
	    "Every option has a dotted name. In the file, the dots are nested objects: "
	    "`rules.kl.threshold` is\n"
	    "`{\"rules\": {\"kl\": {\"threshold\": 0.3}}}`. Its environment variable is "
	    "`DRIFTD_` and the name\n"
	    "upper-cased with `.` turned into `_` (`DRIFTD_RULES_KL_THRESHOLD`), and its flag is "
	    "`--NAME`\n"
	    "(`--rules.kl.threshold 0.3`); the options used most also have the short flag shown "
	    "in the tables.\n"
	    "\n"
	    "## The file\n"
	    "\n"
	    "A JSON object of at most 1 MiB, UTF-8, nested at most 32 deep. It is strict: an "
	    "unknown key, a\n"
	    "duplicate key, a value of the wrong type or out of range is an error reported as\n"
	    "`FILE:LINE:COLUMN: message` at the offending key or value (columns count characters "
	    "from 1), and\n"
	    "driftd does not start. Durations are numbers of seconds; strings that may be unset "
	    "take `null`.\n"
	    "\n"
	    "```json\n"
	    "{\n"
	    "  \"source\": \"kafka:inference-logs\",\n"
	    "  \"brokers\": \"kafka-0:9092,kafka-1:9092\",\n"
	    "  \"events\": \"kafka:model-rollbacks\",\n"
	    "  \"store\": \"@/run/secrets/driftd-store-url\",\n"
	    "  \"window\": 60,\n"
	    "  \"rules\": {\"kl\": {\"threshold\": 0.2}, \"psi\": {\"enabled\": true, "
	    "\"dry_run\": true}},\n"
	    "  \"log\": {\"format\": \"json\"},\n"
	    "  \"kafka\": {\"security.protocol\": \"SASL_SSL\", \"sasl.mechanisms\": "
	    "\"SCRAM-SHA-512\",\n"
	    "            \"sasl.username\": \"driftd\", \"sasl.password\": "
	    "\"@/run/secrets/kafka-password\"}\n"
	    "}\n"
	    "```\n"
	    "\n"
	    "## Environment and flags\n"
	    "\n"
	    "Values are written the same way in both: numbers as in JSON, booleans as `true`, "
	    "`false`, `1`,\n"
	    "`0`, `yes`, `no`, `on` or `off`, names of choices as listed. An empty value unsets a "
	    "string that may\n"
	    "be unset. A `DRIFTD_*` variable that is not an option is an error (a typo must not be "
	    "ignored),\n"
	    "except `DRIFTD_HIST_KERNEL` (forces the histogram kernel: `ref`, `avx2` or "
	    "`avx512`).\n"
	    "\n"
	    "Flags are `--NAME VALUE` or `--NAME=VALUE`. A boolean is set by `--NAME` alone "
	    "(it never takes\n"
	    "the next argument), cleared by `--no-NAME`, or given as `--NAME=VALUE`.\n"
	    "\n"
	    "## Secrets\n"
	    "\n"
	    "The password of a `redis://` store URL and every Kafka property whose name contains "
	    "`password`\n"
	    "or `secret` (and `ssl.key.pem`, `sasl.oauthbearer.config`) are never printed: the "
	    "effective\n"
	    "configuration shows them as `***` and no error message quotes them. Their value may "
	    "be\n"
	    "`@FILE`: it is then read from that regular file (at most 64 KiB; trailing newlines "
	    "are removed),\n"
	    "so that it need not appear on a command line or in the configuration file. `@@` "
	    "stands for a\n"
	    "literal leading `@`.\n",
	    out);
}

void agent_config_write_doc(FILE *out)
{
	char env[MAX_NAME + 8];

	doc_intro(out);
	for (int s = 0; s < SEC_COUNT; s++) {
		fprintf(out, "\n## %s\n\n%s\n\n", sections[s].title, sections[s].intro);
		fputs("| Option | Type | Default | Environment | Flags | Description |\n"
		      "|---|---|---|---|---|---|\n",
		      out);
		for (size_t i = 0; i < NOPTS; i++) {
			const struct opt *o = &opts[i];

			if (o->sec != (enum section)s)
				continue;
			env_name(o, env, sizeof env);
			fprintf(out, "| `%s` | ", o->name);
			doc_type(out, o);
			fputs(" | ", out);
			if (o->flags & OPT_HOSTNAME)
				fputs("the host name", out);
			else if (!o->def)
				fputs("unset", out);
			else
				fprintf(out, "`%s`", o->def);
			fprintf(out, " | `%s` | ", env);
			if (o->flag)
				fprintf(out, "`--%s`, ", o->flag);
			fprintf(out, "`--%s` | ", o->name);
			md_cell(out, o->desc);
			fputs(" |\n", out);
		}
	}
	fputs(
	    "\n## Kafka client properties\n"
	    "\n"
	    "The `kafka` object of the file holds librdkafka properties, passed through unchanged "
	    "to every\n"
	    "Kafka client driftd creates (consumer and producer): security, SASL, SSL, timeouts. "
	    "Values are\n"
	    "strings, numbers or booleans, e.g. `{\"kafka\": {\"security.protocol\": \"SSL\", "
	    "\"ssl.ca.location\":\n"
	    "\"/etc/ssl/ca.pem\"}}`. On the command line: `--kafka.PROP=VALUE` or "
	    "`--kafka.PROP VALUE`.\n"
	    "Property names are not derivable from variable names, so the only `DRIFTD_KAFKA_*` "
	    "variables\n"
	    "are the secrets: `DRIFTD_KAFKA_SASL_PASSWORD` (`sasl.password`),\n"
	    "`DRIFTD_KAFKA_SSL_KEY_PASSWORD` (`ssl.key.password`) and "
	    "`DRIFTD_KAFKA_SSL_KEYSTORE_PASSWORD`\n"
	    "(`ssl.keystore.password`); each may also be `@FILE`. librdkafka checks names and "
	    "values "
	    "when the client is "
	    "created. Set the\n"
	    "brokers with `brokers` or `kafka.bootstrap.servers` (not both) and the consumer group "
	    "with\n"
	    "`group`, not `kafka.group.id`.\n",
	    out);
}
