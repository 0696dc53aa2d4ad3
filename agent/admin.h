/*
 * admin.h -- the version registry and its admin operations on a store: register a version with
 * the metadata every version must carry, list versions, build, import and load baselines, mark
 * the last known good version, hold and release automatic rollback, rearm a latched version,
 * read the audit history and the status of a model (SPEC.md "Interfaces").
 *
 * The functions act and return data (jansson documents, structs); they print nothing and know
 * no command line. driftctl (ctl.c) prints what they return; `driftd demo` (demo.c) calls them
 * to set up its store. Every operation that changes state appends an audit entry
 * ({"type":"driftctl.<operation>", "time", "time_ms", "model", ..., "user"}) to the model's
 * history.
 *
 * Results are an enum agent_admin_result; on anything but AGENT_ADMIN_OK the message is on the
 * handle (agent_admin_error), names in it made printable (agent_admin_printable). Every json_t
 * **doc may be NULL (the document is not wanted); otherwise the caller decrefs it (it is set
 * only on OK).
 */
#ifndef DRIFTD_AGENT_ADMIN_H
#define DRIFTD_AGENT_ADMIN_H

#include "agent/baseline.h"
#include "connectors/record.h"
#include "connectors/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_ADMIN_MAX_NAME	  128u /* model and version names, bytes */
#define AGENT_ADMIN_DEFAULT_BINS  20
#define AGENT_ADMIN_PRINTABLE_MAX 512u /* bytes of a string agent_admin_printable shows */
#define AGENT_ADMIN_PRINTABLE_LEN (4 * AGENT_ADMIN_PRINTABLE_MAX + 8) /* its buffer */

enum agent_admin_result {
	AGENT_ADMIN_OK = 0,	 /* done */
	AGENT_ADMIN_FAILED = 1,	 /* not found, bad state, store or file error, no memory */
	AGENT_ADMIN_REFUSED = 2, /* the input breaks a rule (missing metadata, bad value) */
};

struct agent_admin;

/* A handle on the store spec (connectors/store.h) with the key prefix (NULL: the default); both
 * are copied. The store is opened on the first operation that needs it, its spec read by
 * connectors/endpoint.h. NULL on no memory. */
struct agent_admin *agent_admin_new(const char *store_spec, const char *store_prefix);
void agent_admin_free(struct agent_admin *a);

/* The message of the last result other than OK ("" before any). */
const char *agent_admin_error(const struct agent_admin *a);
/* The store spec for display: its password masked as "***" (conn_endpoint_mask), the only form
 * of the spec an output or a message may show. */
const char *agent_admin_store(const struct agent_admin *a);

/* ---- names and display ---- */

/* Whether s is a valid model or version name: 1..AGENT_ADMIN_MAX_NAME bytes of valid UTF-8. */
int agent_admin_valid_name(const char *s);

/* s with control bytes, '\\' (and, when s is not UTF-8, every byte >= 0x80) escaped as \xNN and
 * cut at AGENT_ADMIN_PRINTABLE_MAX bytes (the rest shown as '~'), in buf
 * (AGENT_ADMIN_PRINTABLE_LEN bytes), for text output and messages: a name cannot forge a line.
 * Returns buf. */
const char *agent_admin_printable(const char *s, char *buf);

/* ---- register, versions ---- */

/* A version's registration. The required-metadata rule: every version carries a training-data
 * hash (1 to 1024 bytes of UTF-8) and its feature parameters and hyperparameters, each a JSON
 * object given as text or as "@FILE" (the file's content; "@-" reads stdin). Tags are optional
 * "KEY=VALUE" strings, a key of 1 to 255 bytes given once. */
struct agent_admin_version {
	const char *model, *version;
	const char *training_data_hash;
	const char *feature_params; /* JSON object text or @FILE */
	const char *hyperparams;    /* JSON object text or @FILE */
	const char *const *tags;    /* "KEY=VALUE", ntags of them */
	size_t ntags;
};

/* Registers v (refused when the metadata rule is broken, failed when the version exists). *doc
 * (when not NULL) receives the registration document as stored: {"model", "version",
 * "registered", "registered_ms", "training_data_hash", "feature_params", "hyperparams",
 * "tags"}; caller decrefs. */
enum agent_admin_result agent_admin_register(struct agent_admin *a,
					     const struct agent_admin_version *v, json_t **doc);

/* The versions of a model in registration order, failed when it has none: *doc = {"model",
 * "versions": [{"version", "registered", "registered_ms", "training_data_hash" (or null),
 * "good", "latched", "baseline"}, ...]}; caller decrefs. */
enum agent_admin_result agent_admin_versions(struct agent_admin *a, const char *model,
					     json_t **doc);

/* ---- baselines ---- */

/* What agent_admin_baseline_build read and built. */
struct agent_admin_build {
	uint64_t lines;				    /* lines of the file */
	uint64_t samples;			    /* records of the version used */
	uint64_t rejected_total;		    /* lines the decoder rejected */
	uint64_t rejected[CONN_REJECT_COUNT];	    /* by reason */
	uint64_t first_rejected[CONN_REJECT_COUNT]; /* line of the first rejection, by reason */
	uint64_t skipped;			    /* records of other models or versions */
	size_t features;			    /* features of the baseline */
	size_t bins;				    /* bins per numeric feature */
	int64_t created_ms;			    /* the baseline's creation time */
	int has_prediction, categorical_prediction;
};

/* Builds the baseline of a registered (model, version) from the JSONL file `from` with `bins`
 * bins per numeric feature (0: AGENT_ADMIN_DEFAULT_BINS; refused outside 1..STATS_HIST_MAX_BINS)
 * and stores it with the registration as its metadata. Fills *out. */
enum agent_admin_result agent_admin_baseline_build(struct agent_admin *a, const char *model,
						   const char *version, const char *from,
						   size_t bins, struct agent_admin_build *out);

/* The stored baseline of (model, version), validated: *out (caller frees with
 * agent_baseline_free) and, when raw is not NULL, its stored text (caller frees raw->data).
 * Failed when there is none. */
enum agent_admin_result agent_admin_baseline_get(struct agent_admin *a, const char *model,
						 const char *version, struct agent_baseline **out,
						 struct conn_blob *raw);

/* Imports the baseline file at path ("-": stdin) for the registered version it names; failed
 * when its training_data_hash differs from the registration's. Without metadata it gets the
 * registration. *doc (when not NULL) = {"model", "version", "source", "samples", "features"}. */
enum agent_admin_result agent_admin_baseline_import(struct agent_admin *a, const char *path,
						    json_t **doc);

/* ---- good, hold, release, rearm ---- */

/* Makes a registered version the model's last known good: *doc = {"model", "good", "previous"
 * (or null), "baseline" (whether that version has a baseline)}. */
enum agent_admin_result agent_admin_good(struct agent_admin *a, const char *model,
					 const char *version, json_t **doc);

/* Puts (on = 1) or releases (on = 0) a model's automatic rollback on hold: *doc = {"model",
 * "hold", "changed"}. Failed when the model has no registered version. */
enum agent_admin_result agent_admin_hold(struct agent_admin *a, const char *model, int on,
					 json_t **doc);

/* Clears the latch of a registered version: *doc = {"model", "version", "was_latched"}. */
enum agent_admin_result agent_admin_rearm(struct agent_admin *a, const char *model,
					  const char *version, json_t **doc);

/* ---- history, status ---- */

/* One history entry as stored (JSON text, normally an object); non-zero stops. */
typedef int (*agent_admin_entry_fn)(void *arg, const char *doc, size_t len);

/* Calls fn for each history entry of a model, oldest first. Failed when the model has no history
 * and no registered version, or when fn stopped ("stopped by the caller"). */
enum agent_admin_result agent_admin_history(struct agent_admin *a, const char *model,
					    agent_admin_entry_fn fn, void *arg);

/* The status of one model: *doc = {"model", "versions" (count), "latest", "latest_registered",
 * "good" (or null), "good_has_baseline", "hold", "latched": [...], "baselines": [...]}. Failed
 * when it has no registered version. */
enum agent_admin_result agent_admin_status(struct agent_admin *a, const char *model, json_t **doc);

/* The status of every model, sorted by name: *doc = {"store" (the spec, its password masked,
 * printable), "models": [status, ...]}. */
enum agent_admin_result agent_admin_status_all(struct agent_admin *a, json_t **doc);

#endif
