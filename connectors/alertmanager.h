/*
 * alertmanager.h -- the Alertmanager webhook payload (version 4) parsed into bounded, owned
 * structures, and label selectors (`severity="P0",team="ml"`) to match its alerts.
 *
 * The payload Alertmanager POSTs to a webhook_config receiver:
 *   {"version":"4","groupKey":"{}:{alertname=\"X\"}","truncatedAlerts":0,"status":"firing",
 *    "receiver":"driftd","groupLabels":{...},"commonLabels":{...},"commonAnnotations":{...},
 *    "externalURL":"http://am:9093",
 *    "alerts":[{"status":"firing","labels":{...},"annotations":{...},
 *               "startsAt":"2026-11-26T21:14:00.123456789Z","endsAt":"0001-01-01T00:00:00Z",
 *               "generatorURL":"http://prom:9090/graph?...","fingerprint":"1a30ba71cca2921f"}]}
 *
 * Validation; the first problem found rejects the whole payload with a reason code and a human
 * reason naming the field ("alerts[2].labels.severity: expected a string"):
 *   - the body is JSON (UTF-8, no duplicate key anywhere, no \u0000 in any string) with an
 *     object at the top                                                  -> BAD_JSON
 *   - "version" is the string "4"                                        -> BAD_VERSION
 *   - required: status, receiver, groupKey, alerts; and in each alert status and labels
 *                                                                       -> MISSING
 *   - types: strings for status, receiver, groupKey, externalURL, startsAt, endsAt,
 *     generatorURL, fingerprint; objects of strings for labels, annotations, groupLabels,
 *     commonLabels, commonAnnotations; an array of objects for alerts; an integer for
 *     truncatedAlerts                                                    -> BAD_TYPE
 *   - status is "firing" or "resolved"; times are RFC 3339 (YYYY-MM-DDThh:mm:ss[.frac]
 *     then Z or +hh:mm/-hh:mm); truncatedAlerts >= 0; label and annotation names are not
 *     empty                                                              -> BAD_VALUE
 *   - more than limits.max_alerts alerts                                 -> TOO_MANY_ALERTS
 *   - more than limits.max_labels entries in one labels/annotations object -> TOO_MANY_LABELS
 *   - a string (a name or a value) longer than limits.max_string bytes   -> TOO_LONG
 * Optional fields may be absent or null (absent: "" for strings, empty sets, 0). Unknown keys
 * are ignored at every level (Grafana and newer Alertmanagers add some). Order of the checks
 * after the JSON syntax: version, status, receiver, groupKey, externalURL, truncatedAlerts,
 * groupLabels, commonLabels, commonAnnotations, alerts (type, count, then each alert in order:
 * an object, status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint); in a
 * labels/annotations object the count first, then each entry in document order, name before
 * value; for a string field absent/null, type, length, then its value.
 */
#ifndef DRIFTD_CONN_ALERTMANAGER_H
#define DRIFTD_CONN_ALERTMANAGER_H

#include <stddef.h>
#include <stdint.h>

enum conn_am_status {
	CONN_AM_FIRING = 1,
	CONN_AM_RESOLVED = 2,
};

struct conn_am_kv {
	const char *name;  /* NUL-terminated, no NUL inside, not empty */
	const char *value; /* NUL-terminated, no NUL inside */
};

/* A set of labels or annotations: sorted by name (bytewise), names unique. */
struct conn_am_labels {
	const struct conn_am_kv *kv;
	size_t n;
};

struct conn_am_alert {
	enum conn_am_status status;
	struct conn_am_labels labels;
	struct conn_am_labels annotations;
	const char *starts_at;	    /* as sent, "" when absent */
	const char *ends_at;	    /* as sent, "" when absent */
	int has_starts, has_ends;   /* 0: absent, or Go's zero time 0001-01-01T00:00:00Z
				     * (what Alertmanager sends as endsAt of a firing alert) */
	int64_t starts_ms, ends_ms; /* epoch milliseconds (fraction truncated), when has_* */
	const char *generator_url;  /* "" when absent */
	const char *fingerprint;    /* "" when absent */
};

/* A parsed payload: one allocation owning every string and array (conn_am_payload_free). */
struct conn_am_payload {
	enum conn_am_status status; /* of the group */
	const char *receiver;
	const char *group_key;
	const char *external_url; /* "" when absent */
	int64_t truncated_alerts; /* alerts Alertmanager left out (max_alerts), 0 when absent */
	struct conn_am_labels group_labels, common_labels, common_annotations;
	const struct conn_am_alert *alerts; /* in payload order */
	size_t nalerts;
};

struct conn_am_limits {
	size_t max_alerts; /* alerts per payload (default 256) */
	size_t max_labels; /* entries per labels/annotations object (default 64) */
	size_t max_string; /* bytes per string, names and values alike (default 4096) */
};

void conn_am_limits_default(struct conn_am_limits *l);

enum conn_am_reject {
	CONN_AM_OK = 0,
	CONN_AM_BAD_JSON,
	CONN_AM_BAD_VERSION,
	CONN_AM_MISSING,
	CONN_AM_BAD_TYPE,
	CONN_AM_BAD_VALUE,
	CONN_AM_TOO_MANY_ALERTS,
	CONN_AM_TOO_MANY_LABELS,
	CONN_AM_TOO_LONG,
	CONN_AM_NO_MEMORY,
	CONN_AM_REJECT_COUNT /* number of codes, OK included */
};

/* Stable lower-case name of a code ("ok", "bad_json", "bad_version", "missing", "bad_type",
 * "bad_value", "too_many_alerts", "too_many_labels", "too_long", "no_memory"): a metric label. */
const char *conn_am_reject_name(enum conn_am_reject r);

/* Parses body[0..len) (need not be NUL-terminated). limits NULL: the defaults. On success
 * returns CONN_AM_OK and *out, which the caller frees with conn_am_payload_free (it may be
 * handed to another thread). Otherwise *out is NULL and reason holds one line for a 400 reply
 * (names from the payload are shown sanitised: printable ASCII, at most 64 bytes). Thread-safe:
 * no shared state. Memory: jansson's tree of the body while parsing, then about the body's
 * size. */
enum conn_am_reject conn_am_parse(const char *body, size_t len, const struct conn_am_limits *limits,
				  struct conn_am_payload **out, char *reason, size_t reasoncap);
void conn_am_payload_free(struct conn_am_payload *p);

/* The value of label `name` in set, NULL when absent. O(log n). */
const char *conn_am_label(const struct conn_am_labels *set, const char *name);

/* ---- selectors ----
 * Text: matchers separated by commas, optionally inside { }, spaces allowed between tokens:
 *   severity="P0"            severity="P0",team="ml"            {severity="P0", env!="dev"}
 * A matcher is NAME OP VALUE: NAME is [A-Za-z_][A-Za-z0-9_]*, OP is = (equal) or != (not
 * equal), VALUE is a double-quoted string (escapes \" \\ \n) or a bare word up to the next
 * comma, brace or space. As in Prometheus, an absent label has the value "": team="" matches
 * alerts without a team label, team!="" those with a non-empty one. Regular-expression matchers
 * (=~, !~) are refused with a message. At most CONN_AM_MAX_MATCHERS matchers; an empty
 * selector is refused (it would match every alert). */
#define CONN_AM_MAX_MATCHERS 16

struct conn_am_selector;

/* NULL with a message in errbuf on a syntax error. */
struct conn_am_selector *conn_am_selector_new(const char *text, char *errbuf, size_t errlen);
void conn_am_selector_free(struct conn_am_selector *s);
/* 1 when every matcher holds on the alert's labels (its status is not looked at: the caller
 * tells firing from resolved), else 0. */
int conn_am_match(const struct conn_am_selector *s, const struct conn_am_alert *a);

#endif
