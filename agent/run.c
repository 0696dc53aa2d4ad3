/*
 * run.c -- the main loop of driftd (see run.h): the endpoints read by the one spec parser
 * (connectors/endpoint.h), batches of messages from the source into the engine, windows closed
 * on the watermark after each batch; replay pacing for file sources.
 */
#include "agent/run.h"
#include "agent/log.h"
#include "agent/serve.h"
#include "agent/timefmt.h"
#include "connectors/endpoint.h"
#include "connectors/kafka.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH	      256  /* messages per source call */
#define MAX_TOPICS    4096 /* bytes of the topic list the consumer subscribes to */
#define STOP_DRAIN_MS 2000 /* at SIGTERM: how long deliveries in flight are waited for */

/* The endpoints of a run, each spec parsed once for its role; kind CONN_ENDPOINT_NONE for an
 * option not given. */
struct endpoints {
	struct conn_endpoint source;	   /* --source: records */
	struct conn_endpoint events;	   /* --events: the sink */
	struct conn_endpoint labels;	   /* --labels: a topic */
	struct conn_endpoint dead_letters; /* --dead-letters: a topic */
	struct conn_endpoint store;	   /* --store */
	char store_shown[512];		   /* the store spec, its password masked */
};

/* Parses spec (when given) for role into *ep; -1 with the message logged under facility. */
static int endpoint(const char *spec, enum conn_endpoint_role role, const char *facility,
		    struct conn_endpoint *ep)
{
	char err[256];

	memset(ep, 0, sizeof *ep);
	if (!spec)
		return 0;
	if (conn_endpoint_parse(spec, role, ep, err, sizeof err) == 0)
		return 0;
	agent_log(AGENT_LOG_ERR, facility, "%s", err);
	return -1;
}

/* Reads every endpoint of c into *ep (freed by endpoints_free, also after a failure). */
static int endpoints_parse(const struct agent_config *c, struct endpoints *ep)
{
	int bad = 0;

	bad |= endpoint(c->source, CONN_ENDPOINT_SOURCE, "source", &ep->source);
	bad |= endpoint(c->events, CONN_ENDPOINT_SINK, "events", &ep->events);
	bad |= endpoint(c->labels, CONN_ENDPOINT_TOPIC, "labels", &ep->labels);
	bad |= endpoint(c->dead_letters, CONN_ENDPOINT_TOPIC, "dead-letters", &ep->dead_letters);
	bad |= endpoint(c->store, CONN_ENDPOINT_STORE, "store", &ep->store);
	conn_endpoint_mask(c->store, ep->store_shown, sizeof ep->store_shown);
	return bad ? -1 : 0;
}

static void endpoints_free(struct endpoints *ep)
{
	conn_endpoint_free(&ep->source);
	conn_endpoint_free(&ep->events);
	conn_endpoint_free(&ep->labels);
	conn_endpoint_free(&ep->dead_letters);
	conn_endpoint_free(&ep->store);
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Sleeps until wall time target_ms (replay pacing), waking early on a stop request. */
/* The event time a replay waits for: the gap to the record before, at most one window (so that
 * one far-future record cannot make a replay sleep for years). */
static int64_t pace_gap(int64_t gap_ms, const struct agent_config *c)
{
	int64_t cap = (int64_t)(c->window_s * 1000.0);

	return gap_ms < 0 ? 0 : gap_ms > cap ? cap : gap_ms;
}

/* Sleeps until target_ms on the monotonic clock (or a stop). */
static void sleep_until(int64_t target_ms)
{
	while (!stop_requested) {
		int64_t left = target_ms - agent_time_mono_ms();
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

/* Checkpoints are on with a Kafka source in a group and a non-zero interval. */
static int checkpointing(const struct agent_config *c, const struct endpoints *ep)
{
	return ep->source.kind == CONN_ENDPOINT_KAFKA && c->group && c->checkpoint_s > 0;
}

/* The topics the consumer subscribes to, comma-separated: the source's, then the labels topic
 * (read by the same consumer: one group, one checkpoint). -1 when they do not fit. */
static int topic_list(const struct endpoints *ep, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ep->source.ntopics + ep->labels.ntopics; i++) {
		const char *t = i < ep->source.ntopics ? ep->source.topics[i]
						       : ep->labels.topics[i - ep->source.ntopics];
		int n = snprintf(out + o, cap - o, "%s%s", i ? "," : "", t);

		if (n < 0 || (size_t)n >= cap - o)
			return -1;
		o += (size_t)n;
	}
	return 0;
}

/* The source of --source: a file or Kafka topics (group c->group). With checkpoints the
 * offsets live in the store: Kafka's auto-commit is off (the checkpointed offsets are
 * committed to the group after each checkpoint). */
static struct conn_source *open_source(const struct agent_config *c, const struct endpoints *ep,
				       char *err, size_t errlen)
{
	struct conn_kafka_props props = { c->kafka_keys, c->kafka_values, c->kafka_n };
	struct conn_source *src;
	char **keys, **values, topics[MAX_TOPICS];

	if (ep->source.kind != CONN_ENDPOINT_KAFKA)
		return conn_source_open(c->source, c->max_message, err, errlen);
	keys = calloc(c->kafka_n + 2, sizeof *keys);
	values = calloc(c->kafka_n + 2, sizeof *values);
	if (!keys || !values) {
		free(keys);
		free(values);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (checkpointing(c, ep)) { /* first, so that a kafka.* option can still override it */
		keys[props.n = 0] = "enable.auto.commit";
		values[props.n++] = "false";
	} else {
		props.n = 0;
	}
	if (c->group_instance_id && c->group_instance_id[0]) {
		keys[props.n] = "group.instance.id";
		values[props.n++] = c->group_instance_id;
	}
	for (size_t i = 0; i < c->kafka_n; i++) {
		keys[props.n] = c->kafka_keys[i];
		values[props.n++] = c->kafka_values[i];
	}
	props.keys = keys;
	props.values = values;
	if (topic_list(ep, topics, sizeof topics) < 0) {
		free(keys);
		free(values);
		snprintf(err, errlen, "too many topics");
		return NULL;
	}
	src = conn_source_open_kafka(topics, c->brokers ? c->brokers : "", c->group, &props, 100,
				     c->max_message, err, errlen);
	free(keys);
	free(values);
	return src;
}

/* ---- checkpoint hooks of the Kafka source ---- */

/* What the hooks work on. */
struct hooks {
	struct agent_engine *e;
	struct conn_source *src;
	const uint32_t *revoked; /* during revoked(): the streams leaving */
	size_t nrevoked;
};

static int resume_at(void *arg, const char *topic, int32_t partition, int64_t *next)
{
	struct hooks *h = arg;
	int rc = agent_engine_resume_offset(h->e, topic, partition, next);

	if (rc == 0)
		agent_log(AGENT_LOG_INFO, "checkpoint", "%s/%d resumes at offset %lld", topic,
			  (int)partition, (long long)*next);
	else if (rc < 0)
		agent_log(AGENT_LOG_WARNING, "checkpoint",
			  "%s/%d: the store cannot say where to resume: the group's committed "
			  "offset is used",
			  topic, (int)partition);
	return rc;
}

/* A stream rewound to its checkpoint: one this agent keeps is read again from there (the
 * revoked ones are their next owner's). */
static void reread(void *arg, uint32_t stream, const char *name, int64_t offset)
{
	struct hooks *h = arg;

	for (size_t i = 0; i < h->nrevoked; i++)
		if (h->revoked[i] == stream)
			return;
	if (conn_source_kafka_seek(h->src, name, offset) < 0)
		agent_log(AGENT_LOG_ERR, "checkpoint", "%s cannot be read again from offset %lld",
			  name, (long long)offset);
}

static void revoked(void *arg, const uint32_t *streams, size_t n)
{
	struct hooks *h = arg;
	int saved = agent_engine_checkpoint(h->e, 1) == 0;

	if (!saved) {
		size_t w;

		h->revoked = streams;
		h->nrevoked = n;
		w = agent_engine_rewind(h->e, reread, h);
		h->revoked = NULL;
		h->nrevoked = 0;
		agent_log(
		    AGENT_LOG_ERR, "checkpoint",
		    "partitions leave and the store cannot take a checkpoint: what this agent "
		    "counted since its last one is dropped (%zu window%s rewound), so that "
		    "their next owner counts those records once, from the stored offsets",
		    w, w == 1 ? "" : "s");
	}
	agent_log(AGENT_LOG_INFO, "source", "%zu partition%s revoked (%s)", n, n == 1 ? "" : "s",
		  saved ? "checkpointed" : "rewound to the last checkpoint");
	for (size_t i = 0; i < n; i++)
		agent_engine_stream_gone(h->e, streams[i]);
}

/* The census of the input partitions (coverage.h): the Kafka source's, for the --source topics
 * only (the labels topic holds no event time). */
struct census {
	struct conn_source *src;
	const struct conn_endpoint *source;
	agent_census_each_fn each;
	void *earg;
};

static void census_part(void *arg, const char *topic, int32_t partition, int64_t low, int64_t high)
{
	struct census *cs = arg;

	for (size_t i = 0; i < cs->source->ntopics; i++)
		if (!strcmp(cs->source->topics[i], topic)) {
			cs->each(cs->earg, topic, partition, low, high);
			return;
		}
}

static int census(void *arg, agent_census_each_fn each, void *earg)
{
	struct census *cs = arg;

	cs->each = each;
	cs->earg = earg;
	return conn_source_kafka_partitions(cs->src, census_part, cs);
}

static void commit_offset(void *arg, const char *stream, int64_t next)
{
	conn_source_kafka_commit(arg, stream, next);
}

/* instance: AGENT_ID-PID-STARTMS, unique per run. */
static void instance_name(const struct agent_config *c, char *out, size_t cap)
{
	snprintf(out, cap, "%.64s-%ld-%lld", c->agent_id, (long)getpid(),
		 (long long)agent_time_now_ms());
}

/* The sink of --events: a file or a Kafka topic. */
static struct conn_sink *open_sink(const struct agent_config *c, const struct endpoints *ep,
				   char *err, size_t errlen)
{
	struct conn_kafka_props props = { c->kafka_keys, c->kafka_values, c->kafka_n };

	if (ep->events.kind == CONN_ENDPOINT_KAFKA)
		return conn_sink_open_kafka(ep->events.topics[0], c->brokers ? c->brokers : "",
					    &props, err, errlen);
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
	struct census cen = { 0 };
	struct hooks hk = { 0 };
	struct agent_serve *http = NULL;
	struct endpoints ep;
	struct conn_msg msgs[BATCH];
	struct sigaction sa;
	int64_t ts0 = 0;
	double wall0 = 0; /* replay pacing: the wall time (ms) event time ts0 is due at */
	int rc = 1, n = 0, paced = 0, undelivered = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* no reload: a hang-up stops cleanly, like SIGTERM */
	sigaction(SIGINT, &sa, NULL);
	stop_requested = 0;

	if (endpoints_parse(c, &ep) < 0)
		goto out;
	if (c->labels && ep.source.kind != CONN_ENDPOINT_KAFKA) {
		agent_log(AGENT_LOG_ERR, "labels",
			  "--labels %s needs a Kafka source (--source kafka:TOPIC): labels are "
			  "read in the same consumer group as the records",
			  c->labels);
		endpoints_free(&ep);
		return 2;
	}
	if (!(store = conn_store_open(c->store, err, sizeof err))) {
		agent_log(AGENT_LOG_ERR, "store", "%s", err);
		goto out;
	}
	if (conn_store_set_prefix(store, c->store_prefix) < 0) {
		agent_log(AGENT_LOG_ERR, "store", "%s", conn_store_error(store));
		goto out;
	}
	if (!(sink = open_sink(c, &ep, err, sizeof err))) {
		agent_log(AGENT_LOG_ERR, "events", "%s", err);
		goto out;
	}
	if (!(e = agent_engine_new(c, store, sink, err, sizeof err))) {
		agent_log(AGENT_LOG_ERR, "engine", "%s", err);
		goto out;
	}
	if (checkpointing(c, &ep)) {
		char inst[128];

		instance_name(c, inst, sizeof inst);
		if (agent_engine_checkpoints(e, c->group, inst,
					     (int64_t)llround(c->checkpoint_s * 1000.0), err,
					     sizeof err) < 0) {
			agent_log(AGENT_LOG_ERR, "checkpoint", "%s", err);
			goto out;
		}
		agent_log(AGENT_LOG_INFO, "checkpoint", "instance %s, every %gs, group %s", inst,
			  c->checkpoint_s, c->group);
	}
	if (!(src = open_source(c, &ep, err, sizeof err))) {
		agent_log(AGENT_LOG_ERR, "source", "%s", err);
		goto out;
	}
	/* HTTP: a daemon without its endpoint is misconfigured (exit); a file replay goes on */
	if (!(http = agent_serve_start(c, err, sizeof err)) && err[0]) {
		agent_log(conn_source_finite(src) ? AGENT_LOG_WARNING : AGENT_LOG_ERR, "http",
			  "%s %s: %s", c->metrics_listen,
			  conn_source_finite(src) ? "not served" : "cannot be served", err);
		if (!conn_source_finite(src))
			goto out;
	}
	if (http) {
		agent_serve_source(http, src);
		agent_log(AGENT_LOG_INFO, "http",
			  "serving /metrics /healthz /readyz /alertmanager on port %u",
			  agent_serve_port(http));
	}
	if (checkpointing(c, &ep)) {
		struct conn_kafka_hooks h = { &hk, resume_at, revoked };

		hk.e = e;
		hk.src = src;
		conn_source_kafka_hooks(src, &h);
		cen.src = src;
		cen.source = &ep.source;
		agent_engine_census(e, census, &cen);
	}
	agent_engine_on_window(e, fn, arg);
	agent_engine_replay(e, conn_source_finite(src));
	if (ep.dead_letters.kind == CONN_ENDPOINT_KAFKA) {
		struct conn_kafka_props props = { c->kafka_keys, c->kafka_values, c->kafka_n };

		dl.topic = ep.dead_letters.topics[0];
		dl.p =
		    conn_kafka_producer_new(c->brokers ? c->brokers : "", &props, err, sizeof err);
		if (!dl.p) {
			agent_log(AGENT_LOG_ERR, "dead-letters", "%s", err);
			goto out;
		}
		agent_engine_on_reject(e, dead_letter, &dl);
	}
	agent_log(AGENT_LOG_INFO, "run", "source %s, events %s, store %s, window %gs, grace %gs",
		  c->source, c->events, ep.store_shown, c->window_s, c->grace_s);
	while (!stop_requested) {
		int64_t now;

		n = conn_source_next(src, msgs, BATCH);
		if (n < 0)
			break;
		if (n == 0) {
			if (conn_source_finite(src))
				break;
			agent_engine_tick(e); /* nothing new: retries, checkpoints */
			agent_engine_committed_offsets(e, commit_offset, src);
			agent_serve_alerts(http, e);
			agent_serve_publish(http, e, store, src, 0);
			continue;
		}
		now = agent_time_now_ms();
		for (int i = 0; i < n; i++) {
			int64_t ts;

			agent_engine_feed(e, &msgs[i], now);
			/* replay pacing: event time advances at replay_speed x wall time; a jump of
			 * event time (one far-future record) waits one window at most */
			if (c->replay_speed > 0 && agent_engine_watermark(e, &ts) == 0) {
				if (!paced) {
					paced = 1;
					wall0 = (double)agent_time_mono_ms();
					ts0 = ts;
				}
				wall0 += (double)pace_gap(ts - ts0, c) / c->replay_speed;
				ts0 = ts;
				sleep_until((int64_t)wall0);
				if (stop_requested)
					break;
			}
		}
		agent_engine_tick(e);
		agent_engine_committed_offsets(e, commit_offset, src);
		agent_serve_alerts(http, e);
		agent_serve_publish(http, e, store, src, 0);
	}
	if (n < 0) {
		agent_log(AGENT_LOG_ERR, "source", "%s", conn_source_error(src));
		agent_engine_finish(e);
		goto out;
	}
	/* the end of a replay decides every open window; a stream stopped by a signal leaves its
	 * open windows to the next agent: checkpointed with their offsets when checkpoints are
	 * on, else undecided (at least once: their records are read again) */
	if (conn_source_finite(src)) {
		size_t left;

		agent_engine_finish(e);
		left = agent_engine_drain(e, 0);
		if (left) {
			agent_log(AGENT_LOG_ERR, "events",
				  "%zu event%s decided but not delivered within %d s: kept in the "
				  "store's outbox, the next run delivers them",
				  left, left == 1 ? "" : "s", AGENT_ENGINE_DRAIN_MS / 1000);
			undelivered = 1;
		}
	} else if (checkpointing(c, &ep)) {
		if (agent_engine_checkpoint(e, 1) == 0) {
			agent_engine_committed_offsets(e, commit_offset, src);
			agent_log(AGENT_LOG_NOTICE, "run", "stopping: open windows checkpointed");
		} else {
			agent_log(AGENT_LOG_ERR, "run",
				  "stopping without a checkpoint: the records since the last one "
				  "will be read again");
		}
	} else {
		agent_log(AGENT_LOG_NOTICE, "run", "stopping: open windows are not decided");
	}
	if (!conn_source_finite(src)) {
		size_t left = agent_engine_drain(e, STOP_DRAIN_MS);

		if (left)
			agent_log(AGENT_LOG_WARNING, "events",
				  "%zu event%s not delivered yet: kept in the store's outbox, the "
				  "next agent delivers them",
				  left, left == 1 ? "" : "s");
	}
	log_summary(agent_engine_counters(e));
	agent_serve_publish(http, e, store, src, 1);
	rc = undelivered ? 3 : 0;
out:
	agent_serve_stop(http);		/* before the engine and the source it wakes */
	conn_kafka_producer_free(dl.p); /* waits for the copies in flight (5 s at most) */
	/* leaving the group revokes: the hooks still see the engine */
	if (conn_source_close(src) < 0)
		agent_log(
		    AGENT_LOG_WARNING, "source",
		    "the consumer did not leave its group within 10 s (brokers unreachable?): "
		    "its partitions return to the group after the session timeout");
	agent_engine_free(e);
	conn_sink_close(sink);
	conn_store_close(store);
	endpoints_free(&ep);
	return rc;
}

int agent_run(const struct agent_config *c)
{
	return agent_run_observed(c, NULL, NULL);
}
