/*
 * serve.h -- driftd's HTTP side (doc/http.md): the routes on connectors/http.h, the pages the
 * agent loop publishes (/metrics in both formats, /healthz, /readyz) and the Alertmanager webhook,
 * whose alerts are queued by the HTTP thread and acted on by the loop (agent_engine_alert).
 *
 * Threads: agent_serve_* are called from the agent loop only, except what the HTTP threads do
 * inside serve.c (parse and queue a webhook, wake the source). A webhook is answered 202 once
 * queued (400 with the reason when malformed, 503 when the queue is full: Alertmanager retries).
 */
#ifndef DRIFTD_AGENT_SERVE_H
#define DRIFTD_AGENT_SERVE_H

#include "agent/config.h"
#include "agent/engine.h"
#include "connectors/io.h"
#include "connectors/store.h"

struct agent_serve;

/* Starts the server on c->metrics_listen (NULL, with *err empty, when it is empty: no HTTP).
 * NULL with a message in err on a bad address, a bind error, a bad selector. */
struct agent_serve *agent_serve_start(const struct agent_config *c, char *err, size_t errlen);
/* Stops it (joins its threads); queued alerts are dropped (Alertmanager re-sends). NULL ok. */
void agent_serve_stop(struct agent_serve *s);
/* The bound port (for logs and tests). */
unsigned agent_serve_port(const struct agent_serve *s);
/* The source the webhook wakes (a blocked Kafka poll returns at once); NULL: none. */
void agent_serve_source(struct agent_serve *s, struct conn_source *src);
/* Acts on the queued alerts: each one matching the selector goes to agent_engine_alert. */
void agent_serve_alerts(struct agent_serve *s, struct agent_engine *e);
/* Publishes /metrics and /readyz from the engine, store and source: at most once a second
 * unless force. */
void agent_serve_publish(struct agent_serve *s, struct agent_engine *e, struct conn_store *store,
			 struct conn_source *src, int force);

#endif
