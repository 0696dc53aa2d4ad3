/*
 * late_labels.h -- late labels, the glue between the labels topic and the windows: predictions
 * remembered by (model, request_id) in the join table (join_table.h), label messages decoded
 * (connectors/label_decoder.h), joined and scored into the accuracy of a window (doc/labels.md,
 * "Which window a label counts in").
 *
 * A joined label counts in the window its prediction belongs to (the prediction's event time)
 * while that window is open; once it is closed, in the newest open window of the same (model,
 * version) -- so every joined label counts exactly once, and a decision never changes after it
 * was made. The labels topic's partitions hold no event time (labels come late by nature).
 */
#ifndef DRIFTD_AGENT_LATE_LABELS_H
#define DRIFTD_AGENT_LATE_LABELS_H

#include "agent/config.h"
#include "agent/engine.h"
#include "agent/pairs.h"
#include "connectors/io.h"
#include "connectors/record.h"

struct agent_late_labels;

/* For c->labels ("kafka:TOPIC"); lim, pairs and k are borrowed. NULL with err on a bad spec or
 * no memory. */
struct agent_late_labels *agent_late_labels_new(const struct agent_config *c,
						const struct conn_limits *lim,
						struct agent_pairs *pairs, struct agent_counters *k,
						char *err, size_t errlen);
void agent_late_labels_free(struct agent_late_labels *ll);

/* Whether m is a message of the labels topic. */
int agent_late_labels_owns(const struct agent_late_labels *ll, const struct conn_msg *m);
/* now_ms below: the receive time on the monotonic clock (agent_time_mono_ms), which the TTL
 * runs on. */
/* Decodes label message m and scores it when it joins its prediction (received at now_ms).
 * Returns CONN_REJECT_NONE, or why m was rejected (counted). */
enum conn_reject agent_late_labels_message(struct agent_late_labels *ll, const struct conn_msg *m,
					   int64_t now_ms);
/* Remembers record r (counted in a window at event time ts_ms) for its label to come. */
void agent_late_labels_remember(struct agent_late_labels *ll, const struct conn_record *r,
				int64_t ts_ms, int64_t now_ms);
/* Drops the predictions that waited in vain. */
void agent_late_labels_tick(struct agent_late_labels *ll, int64_t now_ms);

#endif
