/*
 * event.h -- the rollback event: CloudEvents 1.0 in structured JSON mode (SPEC.md "Rollback
 * event", doc/events.md). The id is deterministic for (model, from_version, window end), so a
 * re-evaluated window produces the same id and the store's claim suppresses the duplicate; the
 * time is the window's end, so the whole event is a function of the window and its decision.
 */
#ifndef DRIFTD_AGENT_EVENT_H
#define DRIFTD_AGENT_EVENT_H

#include "agent/decide.h"
#include "connectors/alertmanager.h"
#include "connectors/io.h"

#define AGENT_EVENT_CONTENT_TYPE "application/cloudevents+json; charset=UTF-8"
#define AGENT_EVENT_HEADERS                                                                        \
	7 /* ce_specversion ce_id ce_source ce_type ce_time ce_subject                             \
	   * content-type */

struct agent_event {
	char *id;   /* "model/version/window_end_ms" */
	char *json; /* the whole event, compact, one line */
	size_t len;
	char time[32]; /* RFC 3339 of the window end */
	char *source;  /* "driftd://agent_id" */
	const char *type;
	struct conn_header headers[AGENT_EVENT_HEADERS];
};

/* Builds the event of a firing decision. baseline_version: the version whose baseline the
 * window was compared with (NULL if none). 0, or -1 on no memory. */
int agent_event_build(struct agent_event *ev, const char *agent_id, const char *model,
		      const char *version, const char *baseline_version, const struct agent_eval *e,
		      const struct agent_decision *d);
/* Builds the event of a rollback decided on a firing Alertmanager alert (trigger "alert"): id
 * "model/version/alert/FINGERPRINT" (the same alert re-sent is the same decision), time the
 * alert's startsAt (an alert without one: received_ms, the time it was received),
 * data.reasons one entry with the alert's labels, annotations, fingerprint, startsAt and
 * generatorURL, no window. type and to_version as a window decision's. */
int agent_event_build_alert(struct agent_event *ev, const char *agent_id, const char *model,
			    const char *version, const char *to_version, const char *type,
			    int dry_run, const struct conn_am_alert *a, int64_t received_ms);
void agent_event_free(struct agent_event *ev);

/* What it takes to send a stored event again (the outbox, emit.h): its CloudEvents attributes,
 * which every copy carries as headers, and the version it latches. */
struct agent_event_attrs {
	char *id, *source, *type, *time, *subject;
	char *from_version; /* data.from_version; NULL when it has none */
};
/* Reads them from an event's JSON. 0, or -1 when json is not a CloudEvent with a string id,
 * source, type, time and subject (nothing to free then). */
int agent_event_attrs_parse(struct agent_event_attrs *a, const char *json, size_t len);
void agent_event_attrs_free(struct agent_event_attrs *a);
/* The headers of a copy (pointers into a): h has AGENT_EVENT_HEADERS entries. */
void agent_event_attrs_headers(const struct agent_event_attrs *a, struct conn_header *h);

#endif
