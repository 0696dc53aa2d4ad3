/*
 * run.c -- the main loop of driftd (see run.h): batches of messages from the source into the
 * engine, windows closed on the watermark after each batch; replay pacing for file sources.
 */
#include "agent/run.h"
#include "agent/log.h"
#include "agent/timefmt.h"
#include "connectors/kafka.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BATCH 256 /* messages per source call */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Sleeps until wall time target_ms (replay pacing), waking early on a stop request. */
static void sleep_until(int64_t target_ms)
{
	while (!stop_requested) {
		int64_t left = target_ms - agent_time_now_ms();
		struct timespec ts;

		if (left <= 0)
			return;
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

static void log_summary(const struct agent_counters *k)
{
	uint64_t rejected = 0;

	for (int r = 1; r < AGENT_REJECT_COUNT; r++)
		rejected += k->rejected[r];
	agent_log(AGENT_LOG_INFO, "run",
		  "records=%" PRIu64 " accepted=%" PRIu64 " rejected=%" PRIu64 " late=%" PRIu64
		  " windows=%" PRIu64 " events=%" PRIu64 " duplicates=%" PRIu64,
		  k->records, k->accepted, rejected, k->late, k->windows, k->events, k->duplicates);
	for (int r = 1; r < AGENT_REJECT_COUNT; r++)
		if (k->rejected[r])
			agent_log(AGENT_LOG_INFO, "run", "rejected %s: %" PRIu64,
				  agent_reject_name(r), k->rejected[r]);
}

/* The source of c->source: "file:..." or "kafka:TOPIC[,TOPIC...]" (group c->group). */
static struct conn_source *open_source(const struct agent_config *c, char *err, size_t errlen)
{
	struct conn_kafka_props props = { c->kafka_keys, c->kafka_values, c->kafka_n };

	if (!strncmp(c->source, "kafka:", 6))
		return conn_source_open_kafka(c->source + 6, c->brokers ? c->brokers : "", c->group,
					      &props, 100, c->max_message, err, errlen);
	return conn_source_open(c->source, c->max_message, err, errlen);
}

/* The sink of c->events: "file:..." or "kafka:TOPIC". */
static struct conn_sink *open_sink(const struct agent_config *c, char *err, size_t errlen)
{
	struct conn_kafka_props props = { c->kafka_keys, c->kafka_values, c->kafka_n };

	if (!strncmp(c->events, "kafka:", 6))
		return conn_sink_open_kafka(c->events + 6, c->brokers ? c->brokers : "", &props,
					    err, errlen);
	return conn_sink_open(c->events, err, errlen);
}

/* Dead letters: every rejected message, unchanged (too_large: its first max_message bytes), to
 * the dead-letter topic with the reason and where it came from in headers. Best effort: a copy
 * that cannot be queued is logged, the record is counted as rejected either way. */
struct dead_letters {
	struct conn_kafka_producer *p;
	const char *topic;
	uint64_t failed;
};

static void dead_letter(void *arg, const struct conn_msg *m, const char *reason)
{
	struct dead_letters *dl = arg;
	char part[16], off[24];
	struct conn_header h[5] = { { "driftd-reason", reason } };
	size_t nh = 1;

	snprintf(part, sizeof part, "%d", (int)m->partition);
	snprintf(off, sizeof off, "%lld", (long long)m->offset);
	if (m->topic)
		h[nh++] = (struct conn_header){ "driftd-source-topic", m->topic };
	h[nh++] = (struct conn_header){ "driftd-source-partition", part };
	h[nh++] = (struct conn_header){ "driftd-source-offset", off };
	if (m->oversized)
		h[nh++] = (struct conn_header){ "driftd-truncated", "true" };
	if (conn_kafka_produce(dl->p, dl->topic, NULL, m->data, m->len, m->ts_ms, h, nh) < 0 &&
	    dl->failed++ % 1000 == 0)
		agent_log(AGENT_LOG_WARNING, "dead-letters", "%s (%llu copies lost so far)",
			  conn_kafka_producer_error(dl->p), (unsigned long long)dl->failed);
}

int agent_run_observed(const struct agent_config *c, agent_window_fn fn, void *arg)
{
	char err[512];
	struct conn_store *store = NULL;
	struct conn_sink *sink = NULL;
	struct conn_source *src = NULL;
	struct agent_engine *e = NULL;
	struct dead_letters dl = { 0 };
	struct conn_msg msgs[BATCH];
	struct sigaction sa;
	int64_t wall0 = 0, ts0 = 0;
	int rc = 1, n = 0, paced = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	stop_requested = 0;

	if (c->labels) {
		agent_log(AGENT_LOG_ERR, "labels",
			  "--labels %s: joining delayed labels is not built yet; unset it (labels "
			  "inside the records are used)",
			  c->labels);
		return 2;
	}
	if (!(store = conn_store_open(c->store, err, sizeof err))) {
		agent_log(AGENT_LOG_ERR, "store", "%s", err);
		goto out;
	}
	if (!(sink = open_sink(c, err, sizeof err))) {
		agent_log(AGENT_LOG_ERR, "events", "%s", err);
		goto out;
	}
	if (!(src = open_source(c, err, sizeof err))) {
		agent_log(AGENT_LOG_ERR, "source", "%s", err);
		goto out;
	}
	if (!(e = agent_engine_new(c, store, sink, err, sizeof err))) {
		agent_log(AGENT_LOG_ERR, "engine", "%s", err);
		goto out;
	}
	agent_engine_on_window(e, fn, arg);
	if (c->dead_letters && !strncmp(c->dead_letters, "kafka:", 6)) {
		struct conn_kafka_props props = { c->kafka_keys, c->kafka_values, c->kafka_n };

		dl.topic = c->dead_letters + 6;
		dl.p =
		    conn_kafka_producer_new(c->brokers ? c->brokers : "", &props, err, sizeof err);
		if (!dl.p) {
			agent_log(AGENT_LOG_ERR, "dead-letters", "%s", err);
			goto out;
		}
		agent_engine_on_reject(e, dead_letter, &dl);
	}
	agent_log(AGENT_LOG_INFO, "run", "source %s, events %s, window %gs, grace %gs", c->source,
		  c->events, c->window_s, c->grace_s);
	while (!stop_requested) {
		int64_t now;

		n = conn_source_next(src, msgs, BATCH);
		if (n < 0)
			break;
		if (n == 0) {
			if (conn_source_finite(src))
				break;
			agent_engine_tick(e); /* nothing new: retries, nothing else moves */
			continue;
		}
		now = agent_time_now_ms();
		for (int i = 0; i < n; i++) {
			int64_t ts;

			agent_engine_feed(e, &msgs[i], now);
			/* replay pacing: event time advances at replay_speed x wall time */
			if (c->replay_speed > 0 && agent_engine_watermark(e, &ts) == 0) {
				if (!paced) {
					paced = 1;
					wall0 = agent_time_now_ms();
					ts0 = ts;
				}
				sleep_until(wall0 +
					    (int64_t)((double)(ts - ts0) / c->replay_speed));
				if (stop_requested)
					break;
			}
		}
		agent_engine_tick(e);
	}
	if (n < 0) {
		agent_log(AGENT_LOG_ERR, "source", "%s", conn_source_error(src));
		agent_engine_finish(e);
		goto out;
	}
	/* the end of a replay decides every open window; a stream stopped by a signal leaves its
	 * open windows undecided (their records are not committed as decided: checkpoints of
	 * partial windows come with the Redis store) */
	if (conn_source_finite(src))
		agent_engine_finish(e);
	else
		agent_log(AGENT_LOG_NOTICE, "run", "stopping: open windows are not decided");
	log_summary(agent_engine_counters(e));
	rc = 0;
out:
	conn_kafka_producer_free(dl.p); /* waits for the copies in flight (5 s at most) */
	agent_engine_free(e);
	conn_source_close(src);
	conn_sink_close(sink);
	conn_store_close(store);
	return rc;
}

int agent_run(const struct agent_config *c)
{
	return agent_run_observed(c, NULL, NULL);
}
