/*
 * config.c -- driftd's configuration (see config.h): the option table, which drives the defaults,
 * the strict JSON file reader, the DRIFTD_* environment, the command-line flags, the dump and the
 * manual page doc/configuration.md; its lookups by name, variable and flag; and the verbs on a
 * whole configuration (defaults, copy, free).
 *
 * Each row of config_opts[] names one field of struct agent_config: its dotted name (the JSON
 * path, the flag --NAME, the variable DRIFTD_NAME), a short flag spelling where SPEC.md has one,
 * its type, its default written as text (parsed at start by the same code as a flag value, so the
 * documentation shows exactly what is applied), its bounds, a syntax check for strings, and a
 * one-line description. Nothing else in the module lists options.
 *
 * The module's other files (they share config_impl.h):
 *   config_value.c  values parsed and stored by type and range, Kafka properties, secrets;
 *   config_load.c   the loaders: JSON file or string (read by jsonpos.c, a JSON reader that
 *                   keeps line:col), environment, flags, and their did-you-mean suggestions;
 *   config_check.c  the syntax of string options, and cross-option validation;
 *   config_doc.c    the dump (effective configuration as JSON) and doc/configuration.md.
 * Every loader works on a copy (config_copy) that replaces the caller's configuration only on
 * success (config_commit): a failed load leaves it unchanged.
 *
 * Secrets. The store URL may carry a password and so may Kafka properties whose name says so
 * (config_kafka_secret()): dump masks them, no error message quotes a string value, and such
 * values may be given as "@FILE" (read from a regular file of at most 64 KiB, trailing newlines
 * stripped; "@@..." stands for a literal leading '@').
 *
 * Numbers go through strtod and printf: driftd never calls setlocale(), so both use '.'.
 */
#include "agent/config.h"
#include "agent/config_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the option table ---- */

static const char *const kl_direction_names[] = { "live_baseline", "baseline_live", NULL };
static const char *const accuracy_mode_names[] = { "absolute", "relative", NULL };
static const char *const baseline_names[] = { "last_good", "self", NULL };
static const char *const log_format_names[] = { "text", "json", NULL };
const char *const config_log_level_names[8] = { "emerg",   "alert",  "crit", "err",
						"warning", "notice", "info", "debug" };

_Static_assert(sizeof(enum agent_kl_direction) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum agent_accuracy_mode) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum agent_baseline_ref) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum agent_log_format) == sizeof(int), "enums are stored as int");

#define INF HUGE_VAL

const struct opt config_opts[] = {
	/* ---- inputs, outputs, store ---- */
	{ .name = "source",
	  .type = OPT_STRING,
	  .off = OFF(source),
	  .def = "file:-",
	  .check = config_check_source,
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
	{ .name = "group_instance_id",
	  .flag = "group-instance-id",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(group_instance_id),
	  .sec = SEC_IO,
	  .desc = "Kafka static membership (`group.instance.id`): a stable name per agent, such as "
		  "the pod's name, so that a restarted agent gets its partitions back at once "
		  "instead of after the session timeout (brokers that support it; "
		  "doc/operations.md)" },
	{ .name = "labels",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(labels),
	  .check = config_check_topic_endpoint,
	  .sec = SEC_IO,
	  .desc =
	      "delayed ground truth, `kafka:TOPIC` of `{\"model\", \"request_id\", \"label\"}` "
	      "records joined to their predictions by `request_id` (doc/labels.md); needs a Kafka "
	      "source (same consumer group); unset: labels come only inside the records" },
	{ .name = "events",
	  .type = OPT_STRING,
	  .off = OFF(events),
	  .def = "file:-",
	  .check = config_check_events,
	  .sec = SEC_IO,
	  .desc = "where rollback events go: `file:PATH` (JSON lines; `file:-` is standard output) "
		  "or `kafka:TOPIC`" },
	{ .name = "dead_letters",
	  .flag = "dead-letters",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(dead_letters),
	  .check = config_check_topic_endpoint,
	  .sec = SEC_IO,
	  .desc = "rejected records are copied to this `kafka:TOPIC` with the reason in a header; "
		  "unset: they are only counted" },
	{ .name = "store",
	  .type = OPT_STRING,
	  .flags = OPT_SECRET,
	  .off = OFF(store),
	  .def = "dir:./driftd-store",
	  .check = config_check_store,
	  .sec = SEC_IO,
	  .desc = "where versions, baselines and state live: `dir:PATH`, "
		  "`redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, "
		  "`redis+unix://[[USER]:PASSWORD@]PATH[?db=N]` or `unix:PATH[?db=N]` "
		  "(a Redis socket); the password is never printed, and `@FILE` reads the value "
		  "from a file" },
	{ .name = "metrics_listen",
	  .flag = "metrics-listen",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(metrics_listen),
	  .def = "127.0.0.1:9640",
	  .check = config_check_listen,
	  .sec = SEC_IO,
	  .desc = "`HOST:PORT` of the HTTP endpoint (`/metrics`, `/healthz`, `/readyz`, "
		  "`/alertmanager`; doc/http.md); `[ADDR]:PORT` for IPv6, port 0 for any free "
		  "port; an empty value serves no HTTP at all" },
	{ .name = "http.max_connections",
	  .type = OPT_UINT,
	  .off = OFF(http_max_connections),
	  .def = "64",
	  .min = 1,
	  .max = 10000,
	  .sec = SEC_IO,
	  .desc = "HTTP connections served at once; further ones wait in the kernel's backlog" },
	{ .name = "http.max_per_address",
	  .type = OPT_UINT,
	  .off = OFF(http_max_per_address),
	  .def = "16",
	  .min = 0,
	  .max = 10000,
	  .sec = SEC_IO,
	  .desc = "HTTP connections at once from one client address, beyond which a connection is "
		  "refused, so that slow clients from one address cannot keep the probes out; 0: "
		  "no limit" },
	{ .name = "liveness_timeout",
	  .flag = "liveness-timeout",
	  .type = OPT_SECONDS,
	  .off = OFF(liveness_timeout_s),
	  .def = "60",
	  .min = 1,
	  .max = 86400,
	  .sec = SEC_IO,
	  .desc = "`/healthz` answers 503 (`stalled`) once driftd's loop has not run for this long "
		  "(a hung process: for the liveness probe), 200 again when it runs" },
	{ .name = "ready_without_partitions",
	  .flag = "ready-without-partitions",
	  .type = OPT_BOOL,
	  .off = OFF(ready_without_partitions),
	  .def = "false",
	  .sec = SEC_IO,
	  .desc = "`/readyz` answers ready with no Kafka partition assigned (the store must still "
		  "answer): for a sidecar in more pods than the topic has partitions, whose spare "
		  "agents must not take their model servers out of service" },
	{ .name = "models",
	  .type = OPT_STRING,
	  .flags = OPT_NULLABLE,
	  .off = OFF(models),
	  .check = config_check_models,
	  .sec = SEC_IO,
	  .desc =
	      "the models this agent monitors, for a deployment that knows them: names or "
	      "shell patterns (`*`, `?`, `[...]`), comma-separated (`fraud,credit-*`); a record "
	      "of any other model is rejected (`model_not_allowed`) and takes no slot; unset: "
	      "every model" },
	{ .name = "alert_selector",
	  .flag = "alert-selector",
	  .type = OPT_STRING,
	  .off = OFF(alert_selector),
	  .def = "severity=\"P0\"",
	  .check = config_check_alert_selector,
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
	  .check = config_check_agent_id,
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
		  "time (from the records' timestamps); a jump of event time waits one window at "
		  "most" },
	{ .name = "store_prefix",
	  .flag = "store-prefix",
	  .type = OPT_STRING,
	  .off = OFF(store_prefix),
	  .def = "driftd:",
	  .check = config_check_store_prefix,
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
	{ .name = "max_skew",
	  .flag = "max-skew",
	  .type = OPT_SECONDS,
	  .off = OFF(max_skew_s),
	  .def = "300",
	  .min = 0,
	  .max = 31536000,
	  .sec = SEC_WINDOWS,
	  .desc = "a record whose time is further ahead is rejected (`future_ts`) and never moves "
		  "event time: ahead of the wall clock for a Kafka source, of the file's own time "
		  "for a replay (a jump confirmed by the next record is a gap, not an outlier); 0 "
		  "turns the bound off" },
	{ .name = "coverage_wait",
	  .flag = "coverage-wait",
	  .type = OPT_SECONDS,
	  .off = OFF(coverage_wait_s),
	  .def = "60",
	  .min = 0,
	  .max = 86400,
	  .sec = SEC_WINDOWS,
	  .desc = "several agents in one group: how long a window whose end has passed waits "
		  "for the input partitions not accounted for yet (another agent's, unassigned "
		  "during a rebalance, or a dead agent's until the group hands them over); then it "
		  "is decided on what is there and `data.coverage` says which are missing" },
	{ .name = "min_coverage",
	  .flag = "min-coverage",
	  .type = OPT_DOUBLE,
	  .off = OFF(min_coverage),
	  .def = "0.5",
	  .min = 0,
	  .max = 1,
	  .sec = SEC_WINDOWS,
	  .desc = "the share of the input partitions a window must account for to be judged; "
		  "below it every rule is inconclusive (`coverage`)" },
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
	  .desc = "(model, version) pairs tracked at once; at the limit the least recently active "
		  "pair that is idle or has fewer than `min_samples` records open gives its slot, "
		  "else the record is rejected (`too_many_models`)" },
	{ .name = "limits.max_open_windows",
	  .type = OPT_SIZE,
	  .off = OFF(max_open_windows),
	  .def = "256",
	  .min = 2,
	  .max = 1000000,
	  .sec = SEC_LIMITS,
	  .desc = "open windows per (model, version); a record that would open one more is "
		  "rejected (`too_many_windows`)" },
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
	  .check = config_check_log_facilities,
	  .sec = SEC_LOG,
	  .desc =
	      "only these facilities (comma-separated: `alert`, `baseline`, `checkpoint`, "
	      "`dead-letters`, `engine`, `events`, `http`, `kafka`, `labels`, `records`, `run`, "
	      "`source`, `store`, `window`) log below `warning`; unset: all of them" },
};

const size_t config_nopts = sizeof config_opts / sizeof config_opts[0];

/* ---- lookups and names ---- */

const struct opt *config_find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < config_nopts; i++)
		if (strlen(config_opts[i].name) == len &&
		    memcmp(config_opts[i].name, name, len) == 0)
			return &config_opts[i];
	return NULL;
}

/* Whether path is a proper prefix of option names, up to a '.' ("rules", "rules.kl"). */
int config_is_section(const char *path, size_t len)
{
	for (size_t i = 0; i < config_nopts; i++)
		if (strlen(config_opts[i].name) > len && config_opts[i].name[len] == '.' &&
		    memcmp(config_opts[i].name, path, len) == 0)
			return 1;
	return 0;
}

/* DRIFTD_ + the name upper-cased, '.' -> '_'. */
void config_env_name(const struct opt *o, char *buf, size_t n)
{
	size_t k = (size_t)snprintf(buf, n, "DRIFTD_");

	for (const char *s = o->name; *s && k + 1 < n; s++)
		buf[k++] = *s == '.' ? '_' : (char)to_upper((unsigned char)*s);
	buf[k] = '\0';
}

const struct opt *config_find_env(const char *name, size_t len)
{
	char buf[MAX_NAME + 8];

	for (size_t i = 0; i < config_nopts; i++) {
		config_env_name(&config_opts[i], buf, sizeof buf);
		if (strlen(buf) == len && memcmp(buf, name, len) == 0)
			return &config_opts[i];
	}
	return NULL;
}

const struct opt *config_find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < config_nopts; i++) {
		const struct opt *o = &config_opts[i];

		if ((strlen(o->name) == len && memcmp(o->name, name, len) == 0) ||
		    (o->flag && strlen(o->flag) == len && memcmp(o->flag, name, len) == 0))
			return o;
	}
	return NULL;
}

/* ---- whole configurations: defaults, copy, free ---- */

void agent_config_free(struct agent_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < config_nopts; i++)
		if (config_opts[i].type == OPT_STRING)
			free(*(char **)field(c, &config_opts[i]));
	for (size_t i = 0; i < c->kafka_n; i++) {
		free(c->kafka_keys[i]);
		free(c->kafka_values[i]);
	}
	free(c->kafka_keys);
	free(c->kafka_values);
	memset(c, 0, sizeof *c);
}

/* Deep copy of src into dst (uninitialised); -1 when memory runs out (dst is then empty). */
int config_copy(struct agent_config *dst, const struct agent_config *src)
{
	*dst = *src;
	for (size_t i = 0; i < config_nopts; i++)
		if (config_opts[i].type == OPT_STRING)
			*(char **)field(dst, &config_opts[i]) = NULL;
	dst->kafka_keys = dst->kafka_values = NULL;
	dst->kafka_n = 0;
	for (size_t i = 0; i < config_nopts; i++) {
		const char *s;

		if (config_opts[i].type != OPT_STRING ||
		    !(s = *(char *const *)cfield(src, &config_opts[i])))
			continue;
		if (!(*(char **)field(dst, &config_opts[i]) = strdup(s)))
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
void config_commit(struct agent_config *c, struct agent_config *tmp)
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
	for (size_t i = 0; i < config_nopts; i++) {
		const struct opt *o = &config_opts[i];
		struct val v = { .kind = V_TEXT, .s = o->def, .len = o->def ? strlen(o->def) : 0 };

		if (o->flags & OPT_HOSTNAME) {
			if (!(*(char **)field(c, o) = host_name())) {
				fprintf(stderr, "driftd: out of memory\n");
				abort();
			}
		} else if (o->def && config_set_opt(c, o, &v, msg, sizeof msg)) {
			/* the table is wrong, or there is no memory for a few strings */
			fprintf(stderr, "driftd: default of %s: %s\n", o->name, msg);
			abort();
		}
	}
}
