/*
 * kafka.c -- the librdkafka consumer source, producer, Kafka sink and mock cluster of kafka.h.
 */
#include "connectors/io_impl.h"
#include "connectors/clock.h"
#include "connectors/kafka.h"
#include "connectors/kafka_census.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 1024 /* messages held by one source batch */

/* Builds a configuration: our settings first, then the pass-through properties (so an operator
 * can override any of ours). NULL with errbuf on a bad property (named; its value is never shown,
 * it may be a secret). ours: key, value pairs, NULL-terminated. */
/* ---- librdkafka's log, and which client a property is for ---- */

static conn_kafka_log_fn log_fn; /* NULL: librdkafka prints its own lines on stderr */

void conn_kafka_set_log(conn_kafka_log_fn fn)
{
	log_fn = fn;
}

/* From librdkafka's threads: one call per line. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (log_fn)
		log_fn(level, fac, buf);
}

/* Properties of one kind of client only: "|name|" lists, from librdkafka's own table
 * (rd_kafka_conf_properties_show: a "C/P" column of C, P or *), read once. */
static char *consumer_only, *producer_only;
static pthread_once_t scope_once = PTHREAD_ONCE_INIT;

static void read_scopes(void)
{
	char *text = NULL, *line, *save = NULL;
	size_t n = 0, cl = 1, pl = 1;
	FILE *f = open_memstream(&text, &n);

	if (!f)
		return;
	rd_kafka_conf_properties_show(f);
	fclose(f);
	consumer_only = calloc(1, n + 2);
	producer_only = calloc(1, n + 2);
	if (!text || !consumer_only || !producer_only) {
		free(consumer_only);
		free(producer_only);
		consumer_only = producer_only = NULL;
		free(text);
		return;
	}
	consumer_only[0] = producer_only[0] = '|';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[256], cp[8];

		/* "name | C/P | range | default | importance | description" */
		if (sscanf(line, "%255s | %7s |", name, cp) != 2 || cp[1] != '\0')
			continue;
		if (cp[0] == 'C')
			cl += (size_t)sprintf(consumer_only + cl, "%s|", name);
		else if (cp[0] == 'P')
			pl += (size_t)sprintf(producer_only + pl, "%s|", name);
	}
	free(text);
}

/* Whether property key is for the other kind of client only (consumer: this one is one). */
static int other_client(const char *key, int consumer)
{
	char pat[260];
	const char *list;

	pthread_once(&scope_once, read_scopes);
	list = consumer ? producer_only : consumer_only;
	if (!list || strlen(key) > 250)
		return 0;
	snprintf(pat, sizeof pat, "|%s|", key);
	return strstr(list, pat) != NULL;
}

/* A configuration: ours, then the operator's kafka.* properties (those of the other kind of
 * client left out: librdkafka would only warn about them, CONFWARN), then the log hook. */
static rd_kafka_conf_t *make_conf(const struct conn_kafka_props *props, const char *const *ours,
				  int consumer, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];

	for (size_t i = 0; ours[i]; i += 2) {
		if (rd_kafka_conf_set(conf, ours[i], ours[i + 1], err, sizeof err) !=
		    RD_KAFKA_CONF_OK) {
			snprintf(errbuf, errlen, "kafka property %s: %s", ours[i], err);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	for (size_t i = 0; props && i < props->n; i++) {
		if (other_client(props->keys[i], consumer))
			continue;
		if (rd_kafka_conf_set(conf, props->keys[i], props->values[i], err, sizeof err) !=
		    RD_KAFKA_CONF_OK) {
			snprintf(errbuf, errlen, "kafka property %s: invalid (%s)", props->keys[i],
				 strstr(err, "nknown") ? "unknown property" : "bad value");
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	if (log_fn)
		rd_kafka_conf_set_log_cb(conf, on_log);
	return conf;
}

/* ---- consumer source ---- */

/* One (topic, partition) seen by the source and the stream id handed out for it. */
struct stream_slot {
	char *topic;	   /* own copy; NULL: the slot is free */
	int32_t partition; /* the partition */
	uint32_t id;	   /* dense: the order in which the source first saw the pair */
};

/* The stream ids of a source: an open-addressing table (linear probing, at most half full)
 * from (topic, partition) to its id. Entries are never removed, so an id stays the pair's for
 * the source's lifetime, also across revocations and reassignments. */
struct stream_ids {
	struct stream_slot *slot; /* cap slots */
	size_t cap;		  /* a power of two, or 0 before the first pair */
	size_t n;		  /* pairs held: the next id */
};

struct kafka_source {
	struct conn_source base;	     /* ops, err */
	rd_kafka_t *rk;			     /* the consumer */
	rd_kafka_message_t *held[BATCH_MAX]; /* the last batch, freed on the next call */
	size_t nheld;
	int poll_ms;
	size_t max_message;
	uint32_t hello[BATCH_MAX]; /* newly assigned partitions not yet announced (stream ids) */
	const char *hello_topic[BATCH_MAX]; /* and their topics (in topics, or NULL) */
	int32_t hello_part[BATCH_MAX];
	size_t nhello;
	char *topics;		       /* the topics, NUL-separated copies */
	size_t topics_len;	       /* bytes of topics */
	struct conn_kafka_hooks hooks; /* resume and revoke (zero: none) */
	int brokers_up;	       /* from the last statistics: -1 none yet, 0 no broker up, 1 one is */
	struct stream_ids ids; /* (topic, partition) -> stream id */
	int ids_oom;	       /* a new pair found no memory: the next batch fails */
	struct kafka_census *census; /* every partition of the topics (with a group), or NULL */
	rd_kafka_topic_partition_list_t *seeks; /* to do before the next poll, or NULL */
	int deferred; /* held messages not handed out yet (announcements went first) */
	/* the rebalance callback runs in the thread that polls, or in close_bounded's closer; once
	 * a close is abandoned (it outlived CLOSE_TIMEOUT_S) the callback must no longer reach the
	 * hooks, whose engine the caller frees next: it holds cb_mu throughout, and finds
	 * abandoned set */
	pthread_mutex_t cb_mu;
	int abandoned;
};

static void release(struct kafka_source *s)
{
	for (size_t i = 0; i < s->nheld; i++)
		rd_kafka_message_destroy(s->held[i]);
	s->nheld = 0;
}

/* FNV-1a of the topic name, mixed with the partition: where the pair's probe starts. */
static size_t pair_hash(const char *topic, int32_t partition)
{
	uint32_t h = 2166136261u;

	for (; *topic; topic++)
		h = (h ^ (unsigned char)*topic) * 16777619u;
	return (h ^ (uint32_t)partition) * 16777619u;
}

/* The slot of (topic, partition) in a table of cap slots: the pair's, or the free one where it
 * goes. */
static struct stream_slot *ids_find(struct stream_slot *slot, size_t cap, const char *topic,
				    int32_t partition)
{
	size_t i = pair_hash(topic, partition) & (cap - 1);

	while (slot[i].topic &&
	       (slot[i].partition != partition || strcmp(slot[i].topic, topic) != 0))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/* Doubles the table (16 slots at first). 0, or -1 on no memory (the table unchanged). */
static int ids_grow(struct stream_ids *t)
{
	size_t cap = t->cap ? 2 * t->cap : 16;
	struct stream_slot *slot = calloc(cap, sizeof *slot);

	if (!slot)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i].topic)
			*ids_find(slot, cap, t->slot[i].topic, t->slot[i].partition) = t->slot[i];
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

static void ids_free(struct stream_ids *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slot[i].topic);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

/* The stream id of (topic, partition): the one handed out when the source first saw the pair,
 * else the next one (0, 1, 2, ...). Out of memory for a new pair: ids_oom is set (the next
 * batch fails) and UINT32_MAX is returned. */
static uint32_t stream_id(struct kafka_source *s, const char *topic, int32_t partition)
{
	struct stream_ids *t = &s->ids;
	struct stream_slot *sl;

	if (t->cap) {
		sl = ids_find(t->slot, t->cap, topic, partition);
		if (sl->topic)
			return sl->id;
	}
	if ((2 * (t->n + 1) > t->cap && ids_grow(t) < 0) || t->n >= UINT32_MAX) {
		s->ids_oom = 1;
		return UINT32_MAX;
	}
	sl = ids_find(t->slot, t->cap, topic, partition);
	sl->topic = strdup(topic);
	if (!sl->topic) {
		s->ids_oom = 1;
		return UINT32_MAX;
	}
	sl->partition = partition;
	sl->id = (uint32_t)t->n++;
	return sl->id;
}

/* -1 with the error set when a stream id could not be handed out (no memory), else n. */
static int ids_check(struct kafka_source *s, int n)
{
	if (!s->ids_oom)
		return n;
	snprintf(s->base.err, sizeof s->base.err, "kafka: out of memory for the stream ids");
	return -1;
}

/* Hands out up to cap announcements of newly assigned partitions. */
static int hellos(struct kafka_source *s, struct conn_msg *msgs, int cap)
{
	int k = 0;

	while (s->nhello && k < cap) {
		s->nhello--;
		msgs[k++] = (struct conn_msg){ .data = "",
					       .ts_ms = -1,
					       .topic = s->hello_topic[s->nhello],
					       .partition = s->hello_part[s->nhello],
					       .stream = s->hello[s->nhello],
					       .hello = 1 };
	}
	return k;
}

static int kafka_next(struct conn_source *base, struct conn_msg *msgs, int cap)
{
	struct kafka_source *s = (struct kafka_source *)base;
	int n = 0;

	if (!s->deferred)
		release(s);
	if (s->ids_oom)
		return ids_check(s, 0);
	if (cap > BATCH_MAX)
		cap = BATCH_MAX;
	/* announce newly assigned partitions first: they hold event time back until heard from */
	if (s->nhello)
		return hellos(s, msgs, cap);
	if (!s->deferred) {
		if (s->seeks) { /* partitions rewound (conn_source_kafka_seek) */
			rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, s->seeks, 5000);

			if (e)
				rd_kafka_error_destroy(e);
			rd_kafka_topic_partition_list_destroy(s->seeks);
			s->seeks = NULL;
		}
		/* wait up to poll_ms for the first message, then take what is already there; a
		 * rebalance inside the poll may drop held messages of the partitions it revokes
		 * (drop_held) */
		while (s->nheld < (size_t)cap) {
			rd_kafka_message_t *m =
			    rd_kafka_consumer_poll(s->rk, s->nheld ? 0 : s->poll_ms);

			if (!m)
				break;
			s->held[s->nheld++] = m;
		}
		/* partitions assigned inside the poll: announced before the messages polled with
		 * them (a message of one partition must not move event time past another it
		 * does not know of yet), which wait for the next call */
		if (s->nhello) {
			s->deferred = 1;
			return hellos(s, msgs, cap);
		}
	}
	s->deferred = 0;
	for (size_t i = 0; i < s->nheld; i++) {
		rd_kafka_message_t *m = s->held[i];
		rd_kafka_timestamp_type_t tt;
		int64_t ts;

		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			/* caught up on this partition: it must not hold event time back */
			msgs[n++] = (struct conn_msg){
				.data = "",
				.ts_ms = -1,
				.stream = stream_id(s, rd_kafka_topic_name(m->rkt), m->partition),
				.topic = rd_kafka_topic_name(m->rkt),
				.partition = m->partition,
				.eof = 1,
			};
			continue;
		}
		if (m->err) /* transient errors: librdkafka recovers */
			continue;
		ts = rd_kafka_message_timestamp(m, &tt);
		msgs[n] =
		    (struct conn_msg){ .data = m->payload ? m->payload : "",
				       .len = m->len,
				       .ts_ms = tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts,
				       .offset = m->offset,
				       .oversized = m->len > s->max_message };
		if (msgs[n].oversized)
			msgs[n].len = s->max_message;
		msgs[n].stream = stream_id(s, rd_kafka_topic_name(m->rkt), m->partition);
		msgs[n].topic = rd_kafka_topic_name(m->rkt);
		msgs[n].partition = m->partition;
		n++;
	}
	return ids_check(s, n);
}

/* How long closing the consumer may take: librdkafka 2.0.2's rd_kafka_consumer_close can wait
 * forever for a group coordinator that is gone (all brokers down at shutdown). */
#define CLOSE_TIMEOUT_S 10

struct closer {
	rd_kafka_t *rk;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void *close_consumer(void *arg)
{
	struct closer *c = arg;

	rd_kafka_consumer_close(c->rk); /* leaves the group (no-op without one); rebalance
					 * callbacks run here while the caller waits */
	pthread_mutex_lock(&c->mu);
	c->done = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void closer_free(struct closer *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Closes the consumer within CLOSE_TIMEOUT_S: 0, or -1 when it did not finish (the consumer is
 * then left to the process's exit: the group takes its partitions back after the session
 * timeout; the checkpoint was written before). */
static int close_bounded(rd_kafka_t *rk)
{
	struct closer *c = calloc(1, sizeof *c);
	struct timespec until;
	pthread_t t;
	int done;

	if (!c) {
		rd_kafka_consumer_close(rk);
		return 0;
	}
	c->rk = rk;
	pthread_mutex_init(&c->mu, NULL);
	conn_clock_cond_init(&c->cv);
	if (pthread_create(&t, NULL, close_consumer, c) != 0) {
		closer_free(c);
		rd_kafka_consumer_close(rk);
		return 0;
	}
	until = conn_clock_deadline(CLOSE_TIMEOUT_S * 1000);
	pthread_mutex_lock(&c->mu);
	while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
	done = c->done;
	pthread_mutex_unlock(&c->mu);
	if (!done) { /* the thread keeps c (and rk) until the process ends */
		pthread_detach(t);
		return -1;
	}
	pthread_join(t, NULL);
	closer_free(c);
	return 0;
}

static int kafka_close(struct conn_source *base)
{
	struct kafka_source *s = (struct kafka_source *)base;
	int rc = 0;

	release(s);
	kafka_census_stop(s->census); /* first: it asks the brokers through s->rk */
	s->census = NULL;
	if (s->seeks)
		rd_kafka_topic_partition_list_destroy(s->seeks);
	s->seeks = NULL;
	if (s->rk && close_bounded(s->rk) < 0) {
		/* still inside librdkafka: the consumer is not destroyed, nor s (its callbacks'
		 * opaque), the process is ending; a callback running now finishes first */
		pthread_mutex_lock(&s->cb_mu);
		s->abandoned = 1;
		pthread_mutex_unlock(&s->cb_mu);
		return -1;
	}
	if (s->rk)
		rd_kafka_destroy(s->rk);
	pthread_mutex_destroy(&s->cb_mu);
	free(s->topics);
	ids_free(&s->ids);
	free(s);
	return rc;
}

/* From another thread: the consumer's queue is yielded, a blocked poll returns at once. */
static void kafka_wake(struct conn_source *base)
{
	struct kafka_source *s = (struct kafka_source *)base;
	rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(s->rk);

	if (q) {
		rd_kafka_queue_yield(q);
		rd_kafka_queue_destroy(q);
	}
}

static const struct conn_source_ops kafka_source_ops = { kafka_next, kafka_close, 0, kafka_wake };

int conn_source_kafka_lag(struct conn_source *src, conn_kafka_lag_fn fn, void *arg)
{
	struct kafka_source *s = (struct kafka_source *)src;
	rd_kafka_topic_partition_list_t *l = NULL;

	if (src->ops != &kafka_source_ops)
		return -1;
	if (rd_kafka_assignment(s->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR || !l)
		return 0;
	rd_kafka_position(s->rk, l);
	for (int i = 0; i < l->cnt; i++) {
		int64_t lo = -1, hi = -1, pos = l->elems[i].offset;

		rd_kafka_get_watermark_offsets(s->rk, l->elems[i].topic, l->elems[i].partition, &lo,
					       &hi);
		fn(arg, l->elems[i].topic, l->elems[i].partition,
		   hi >= 0 && pos >= 0 ? (hi > pos ? hi - pos : 0) : -1);
	}
	rd_kafka_topic_partition_list_destroy(l);
	return 0;
}

int conn_source_kafka_partitions(struct conn_source *src, conn_kafka_partition_fn fn, void *arg)
{
	struct kafka_source *s = (struct kafka_source *)src;

	if (src->ops != &kafka_source_ops || !s->census)
		return -1;
	return kafka_census_each(s->census, fn, arg);
}

/* Queues the partitions of l for announcement. */
static void note_assigned(struct kafka_source *s, const rd_kafka_topic_partition_list_t *l)
{
	for (int i = 0; i < l->cnt && s->nhello < BATCH_MAX; i++) {
		const char *t = NULL;

		for (size_t o = 0; o < s->topics_len; o += strlen(s->topics + o) + 1)
			if (!strcmp(s->topics + o, l->elems[i].topic))
				t = s->topics + o;
		s->hello_topic[s->nhello] = t;
		s->hello_part[s->nhello] = l->elems[i].partition;
		s->hello[s->nhello++] = stream_id(s, l->elems[i].topic, l->elems[i].partition);
	}
}

/* librdkafka's statistics (every statistics.interval.ms, from inside the consumer poll): is
 * any broker connection up? "brokers" maps each broker to an object whose "state" is "UP" when
 * connected. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	struct kafka_source *s = opaque;
	json_t *root = json_loadb(json, len, 0, NULL), *brokers;
	const char *name;
	json_t *b;
	int up = 0;

	(void)rk;
	brokers = root ? json_object_get(root, "brokers") : NULL;
	if (json_is_object(brokers)) {
		json_object_foreach(brokers, name, b)
		{
			const char *st = json_string_value(json_object_get(b, "state"));

			up |= st && !strcmp(st, "UP");
		}
		s->brokers_up = up;
	}
	json_decref(root);
	return 0; /* librdkafka frees json */
}

int conn_source_kafka_up(const struct conn_source *src)
{
	if (src->ops != &kafka_source_ops)
		return -1;
	return ((const struct kafka_source *)src)->brokers_up;
}

/* Drops the held messages of (topic, partition) not handed out yet: polled in this batch before
 * a rebalance took the partition away (or rewound it), they are read again by its next owner
 * (from the checkpointed offset) and must not be counted here too. */
static void drop_held(struct kafka_source *s, const char *topic, int32_t partition)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nheld; i++) {
		rd_kafka_message_t *m = s->held[i];

		if (m->partition == partition && !strcmp(rd_kafka_topic_name(m->rkt), topic))
			rd_kafka_message_destroy(m);
		else
			s->held[k++] = m;
	}
	s->nheld = k;
}

/* Tells the hooks that the partitions of l are leaving. */
static void revoke(struct kafka_source *s, const rd_kafka_topic_partition_list_t *l)
{
	uint32_t ids[BATCH_MAX];
	size_t n = 0;

	if (!s->hooks.revoke)
		return; /* no checkpoints: librdkafka commits what it handed out, held included */
	for (int i = 0; i < l->cnt; i++) /* not counted: the checkpoint below has not seen them */
		drop_held(s, l->elems[i].topic, l->elems[i].partition);
	for (int i = 0; i < l->cnt; i++) {
		ids[n++] = stream_id(s, l->elems[i].topic, l->elems[i].partition);
		if (n == BATCH_MAX || i + 1 == l->cnt) {
			s->hooks.revoke(s->hooks.arg, ids, n);
			n = 0;
		}
	}
}

int conn_source_kafka_hooks(struct conn_source *src, const struct conn_kafka_hooks *h)
{
	if (src->ops != &kafka_source_ops)
		return -1;
	((struct kafka_source *)src)->hooks = *h;
	return 0;
}

/* "TOPIC/PARTITION" into topic (cap bytes) and *part; -1 when malformed. */
static int split_stream(const char *stream, char *topic, size_t cap, int32_t *part)
{
	const char *slash = strrchr(stream, '/');
	char *end;
	long p;

	if (!slash || slash == stream || (size_t)(slash - stream) >= cap)
		return -1;
	p = strtol(slash + 1, &end, 10);
	if (*end || slash[1] == '\0' || p < 0 || p > INT32_MAX)
		return -1;
	memcpy(topic, stream, (size_t)(slash - stream));
	topic[slash - stream] = '\0';
	*part = (int32_t)p;
	return 0;
}

int conn_source_kafka_seek(struct conn_source *src, const char *stream, int64_t next)
{
	struct kafka_source *s = (struct kafka_source *)src;
	char topic[512];
	int32_t part;

	if (src->ops != &kafka_source_ops || split_stream(stream, topic, sizeof topic, &part) < 0)
		return -1;
	if (!s->seeks && !(s->seeks = rd_kafka_topic_partition_list_new(4)))
		return -1;
	rd_kafka_topic_partition_list_add(s->seeks, topic, part)->offset = next;
	drop_held(s, topic, part);
	return 0;
}

int conn_source_kafka_commit(struct conn_source *src, const char *stream, int64_t next)
{
	struct kafka_source *s = (struct kafka_source *)src;
	rd_kafka_topic_partition_list_t *l;
	char topic[512];
	int32_t part;

	if (src->ops != &kafka_source_ops || split_stream(stream, topic, sizeof topic, &part) < 0)
		return -1;
	l = rd_kafka_topic_partition_list_new(1);
	if (!l)
		return -1;
	rd_kafka_topic_partition_list_add(l, topic, part)->offset = next;
	rd_kafka_commit(s->rk, l, 1);
	rd_kafka_topic_partition_list_destroy(l);
	return 0;
}

/* Group rebalances: take the assignment (eager or cooperative protocol) and note the new
 * partitions, or give it up. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct kafka_source *s = opaque;
	int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");

	rd_kafka_error_t *e = NULL;

	pthread_mutex_lock(&s->cb_mu);
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && !s->abandoned) {
		note_assigned(s, parts);
		for (int i = 0; s->hooks.resume && i < parts->cnt; i++) {
			int64_t next;

			if (s->hooks.resume(s->hooks.arg, parts->elems[i].topic,
					    parts->elems[i].partition, &next) == 0)
				parts->elems[i].offset = next;
		}
		if (coop)
			e = rd_kafka_incremental_assign(rk, parts);
		else
			rd_kafka_assign(rk, parts);
	} else if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		if (!s->abandoned) /* else the caller has gone on (kafka_close): only give up */
			revoke(s, parts);
		if (coop)
			e = rd_kafka_incremental_unassign(rk, parts);
		else
			rd_kafka_assign(rk, NULL);
	}
	if (e)
		rd_kafka_error_destroy(e);
	pthread_mutex_unlock(&s->cb_mu);
}

/* Adds every partition of topic, from the beginning, to tl (metadata within 10 s). */
static int add_all_partitions(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *tl,
			      const char *topic, char *errbuf, size_t errlen)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e;
	int rc = -1;

	if (!rkt) {
		snprintf(errbuf, errlen, "kafka topic %s: %s", topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
		snprintf(errbuf, errlen, "kafka metadata of %s: %s", topic,
			 rd_kafka_err2str(e		  ? e
					  : md->topic_cnt ? md->topics[0].err
							  : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
		goto out;
	}
	for (int p = 0; p < md->topics[0].partition_cnt; p++)
		rd_kafka_topic_partition_list_add(tl, topic, md->topics[0].partitions[p].id)
		    ->offset = RD_KAFKA_OFFSET_BEGINNING;
	rc = 0;
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return rc;
}

/* The partition assignor. cooperative-sticky moves only the partitions that change hands, but
 * librdkafka before 2.3.0 (Debian 12 ships 2.0.2) aborts in it when a consumer is closed before
 * its first assignment (rd_kafka_sticky_assignor_state_destroy: Assertion 'assignor_state'
 * failed; librdkafka issue 4312): there the eager roundrobin assignor is used, whose rebalances
 * revoke every partition (each agent checkpoints them and resumes at once; doc/kafka.md). An
 * operator can still choose with --kafka.partition.assignment.strategy. */
static const char *assignor(void)
{
	return rd_kafka_version() >= 0x020300ff ? "cooperative-sticky" : "roundrobin";
}

struct conn_source *conn_source_open_kafka(const char *topics, const char *brokers,
					   const char *group, const struct conn_kafka_props *props,
					   int poll_ms, size_t max_message, char *errbuf,
					   size_t errlen)
{
	/* without a group: a private group id, nothing committed */
	const char *ours[] = { "bootstrap.servers", brokers, "group.id",
			       group ? group : "driftd-unassigned", "auto.offset.reset", "earliest",
			       "enable.partition.eof", "true", "enable.auto.commit",
			       group ? "true" : "false",
			       /* a monitor wants records soon: at most 100 ms idle per fetch */
			       "fetch.wait.max.ms", "100",
			       /* see assignor() */
			       "partition.assignment.strategy", assignor(),
			       /* broker reachability for readiness (on_stats) */
			       "statistics.interval.ms", "2000", NULL };
	struct kafka_source *s = calloc(1, sizeof *s);
	rd_kafka_topic_partition_list_t *tl = NULL;
	rd_kafka_conf_t *conf;
	char err[512], *copy = NULL, *save = NULL;

	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &kafka_source_ops;
	s->poll_ms = poll_ms;
	s->max_message = max_message;
	pthread_mutex_init(&s->cb_mu, NULL);
	conf = make_conf(props, ours, 1, errbuf, errlen);
	if (!conf)
		goto error;
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	rd_kafka_conf_set_stats_cb(conf, on_stats);
	s->brokers_up = -1;
	rd_kafka_conf_set_opaque(conf, s);
	s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
	if (!s->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(errbuf, errlen, "kafka consumer: %s", err);
		goto error;
	}
	rd_kafka_poll_set_consumer(s->rk);
	tl = rd_kafka_topic_partition_list_new(4);
	copy = strdup(topics);
	s->topics = strdup(topics);
	if (s->topics) { /* "a,b" -> "a\0b": the names hello messages point at */
		s->topics_len = strlen(topics) + 1;
		for (char *c = s->topics; *c; c++)
			if (*c == ',')
				*c = '\0';
	}
	if (!copy || !tl || !s->topics) {
		snprintf(errbuf, errlen, "out of memory");
		goto error;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (group) {
			rd_kafka_topic_partition_list_add(tl, t, RD_KAFKA_PARTITION_UA);
		} else if (add_all_partitions(s->rk, tl, t, errbuf, errlen) < 0) {
			goto error;
		}
	}
	if (!group) {
		note_assigned(s, tl);
		if (rd_kafka_assign(s->rk, tl) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(errbuf, errlen, "kafka assign %s: failed", topics);
			goto error;
		}
	} else if (rd_kafka_subscribe(s->rk, tl) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(errbuf, errlen, "kafka subscribe %s: %s", topics,
			 rd_kafka_err2str(rd_kafka_last_error()));
		goto error;
	} else if (!(s->census = kafka_census_start(s->rk, s->topics, s->topics_len))) {
		snprintf(errbuf, errlen, "kafka: cannot start the partition census");
		goto error;
	}
	rd_kafka_topic_partition_list_destroy(tl);
	free(copy);
	return &s->base;
error:
	if (tl)
		rd_kafka_topic_partition_list_destroy(tl);
	free(copy);
	kafka_close(&s->base);
	return NULL;
}

/* ---- producer ---- */

struct conn_kafka_producer {
	rd_kafka_t *rk;
	uint64_t failed;	/* delivery failures since the last flush */
	char err[256];		/* the last error */
	struct conn_sink *sink; /* the sink over it: outcomes of its messages go there */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct conn_kafka_producer *p = opaque;
	char why[300];

	(void)rk;
	if (m->err) {
		p->failed++;
		snprintf(p->err, sizeof p->err, "delivery: %s", rd_kafka_err2str(m->err));
	}
	/* a sink's message carries its token + 1 (NULL: not the sink's) */
	if (p->sink && m->_private) {
		snprintf(why, sizeof why, "delivery: %s", rd_kafka_err2str(m->err));
		conn_sink_done_add(p->sink, (uint64_t)(uintptr_t)m->_private - 1,
				   m->err ? why : NULL);
	}
}

struct conn_kafka_producer *conn_kafka_producer_new(const char *brokers,
						    const struct conn_kafka_props *props,
						    char *errbuf, size_t errlen)
{
	const char *ours[] = { "bootstrap.servers",
			       brokers,
			       "enable.idempotence",
			       "true",
			       "acks",
			       "all",
			       "linger.ms",
			       "5",
			       NULL };
	struct conn_kafka_producer *p = calloc(1, sizeof *p);
	rd_kafka_conf_t *conf;
	char err[512];

	if (!p) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	conf = make_conf(props, ours, 0, errbuf, errlen);
	if (!conf) {
		free(p);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, p);
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!p->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(errbuf, errlen, "kafka producer: %s", err);
		free(p);
		return NULL;
	}
	return p;
}

/* Waits up to flush_ms for the messages in flight, then frees p. */
static void producer_free(struct conn_kafka_producer *p, int flush_ms)
{
	if (!p)
		return;
	rd_kafka_flush(p->rk, flush_ms);
	rd_kafka_destroy(p->rk);
	free(p);
}

void conn_kafka_producer_free(struct conn_kafka_producer *p)
{
	producer_free(p, 5000);
}

const char *conn_kafka_producer_error(const struct conn_kafka_producer *p)
{
	return p->err;
}

/* conn_kafka_produce with the message's opaque (delivery reports of opaque != NULL go to the
 * producer's sink). */
static int produce(struct conn_kafka_producer *p, const char *topic, const char *key,
		   const char *value, size_t len, int64_t ts_ms, const struct conn_header *headers,
		   size_t nheaders, void *opaque)
{
	rd_kafka_headers_t *hs = nheaders ? rd_kafka_headers_new(nheaders) : NULL;
	rd_kafka_resp_err_t e;

	for (size_t i = 0; i < nheaders; i++)
		rd_kafka_header_add(hs, headers[i].name, -1, headers[i].value, -1);
	for (int tries = 0;; tries++) {
		e = rd_kafka_producev(
		    p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
		    RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_TIMESTAMP(ts_ms < 0 ? 0 : ts_ms), RD_KAFKA_V_HEADERS(hs),
		    RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries == 100)
			break;
		rd_kafka_poll(p->rk, 50); /* let deliveries drain the queue */
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (hs)
			rd_kafka_headers_destroy(hs); /* not taken over on failure */
		snprintf(p->err, sizeof p->err, "produce to %s: %s", topic, rd_kafka_err2str(e));
		return -1;
	}
	rd_kafka_poll(p->rk, 0);
	return 0;
}

int conn_kafka_produce(struct conn_kafka_producer *p, const char *topic, const char *key,
		       const char *value, size_t len, int64_t ts_ms,
		       const struct conn_header *headers, size_t nheaders)
{
	return produce(p, topic, key, value, len, ts_ms, headers, nheaders, NULL);
}

int conn_kafka_producer_flush(struct conn_kafka_producer *p, int timeout_ms)
{
	rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
	int rc = 0;

	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(p->err, sizeof p->err, "flush: %s", rd_kafka_err2str(e));
		rc = -1;
	}
	if (p->failed) {
		p->failed = 0;
		rc = -1;
	}
	return rc;
}

/* ---- sink ---- */

struct kafka_sink {
	struct conn_sink base; /* ops, err */
	struct conn_kafka_producer *p;
	char *topic;
};

/* Queued in the idempotent producer: librdkafka retries it itself until acknowledged or its
 * message.timeout.ms passes, then reports it (on_delivery); never produced twice by us. */
static int kafka_send(struct conn_sink *base, uint64_t token, const char *key, const char *value,
		      size_t len, const struct conn_header *headers, size_t nheaders)
{
	struct kafka_sink *k = (struct kafka_sink *)base;

	if (token == UINT64_MAX || produce(k->p, k->topic, key, value, len, -1, headers, nheaders,
					   (void *)(uintptr_t)(token + 1)) < 0) {
		snprintf(k->base.err, sizeof k->base.err, "%s",
			 token == UINT64_MAX ? "token out of range"
					     : conn_kafka_producer_error(k->p));
		return -1;
	}
	return 0;
}

static void kafka_poll(struct conn_sink *base, int timeout_ms)
{
	struct kafka_sink *k = (struct kafka_sink *)base;

	rd_kafka_poll(k->p->rk, timeout_ms);
}

static void kafka_sink_close(struct conn_sink *base)
{
	struct kafka_sink *k = (struct kafka_sink *)base;

	/* 1 s for acknowledgements on their way; what is still in flight stays in the caller's
	 * outbox (io.h), so no longer wait is needed */
	producer_free(k->p, 1000);
	conn_sink_done_free(&k->base);
	free(k->topic);
	free(k);
}

static const struct conn_sink_ops kafka_sink_ops = { kafka_send, kafka_poll, kafka_sink_close };

struct conn_sink *conn_sink_open_kafka(const char *topic, const char *brokers,
				       const struct conn_kafka_props *props, char *errbuf,
				       size_t errlen)
{
	struct kafka_sink *k = calloc(1, sizeof *k);

	if (!k || !(k->topic = strdup(topic))) {
		free(k);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	k->base.ops = &kafka_sink_ops;
	k->p = conn_kafka_producer_new(brokers, props, errbuf, errlen);
	if (!k->p) {
		free(k->topic);
		free(k);
		return NULL;
	}
	k->p->sink = &k->base;
	return &k->base;
}

/* ---- mock cluster ---- */

struct conn_kafka_mock {
	rd_kafka_t *rk; /* the client instance hosting the cluster */
	rd_kafka_mock_cluster_t *mcluster;
};

struct conn_kafka_mock *conn_kafka_mock_new(int brokers, char *errbuf, size_t errlen)
{
	struct conn_kafka_mock *m = calloc(1, sizeof *m);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];

	if (!m) {
		rd_kafka_conf_destroy(conf);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	/* the hosting client never connects anywhere itself */
	rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", NULL, 0);
	rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
	m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!m->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(errbuf, errlen, "mock cluster host: %s", err);
		free(m);
		return NULL;
	}
	m->mcluster = rd_kafka_mock_cluster_new(m->rk, brokers);
	if (!m->mcluster) {
		snprintf(errbuf, errlen, "mock cluster: could not start %d brokers", brokers);
		conn_kafka_mock_free(m);
		return NULL;
	}
	return m;
}

void conn_kafka_mock_free(struct conn_kafka_mock *m)
{
	if (!m)
		return;
	if (m->mcluster)
		rd_kafka_mock_cluster_destroy(m->mcluster);
	rd_kafka_destroy(m->rk);
	free(m);
}

const char *conn_kafka_mock_bootstraps(const struct conn_kafka_mock *m)
{
	return rd_kafka_mock_cluster_bootstraps(m->mcluster);
}

int conn_kafka_mock_topic(struct conn_kafka_mock *m, const char *topic, int partitions,
			  char *errbuf, size_t errlen)
{
	rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(m->mcluster, topic, partitions, 1);

	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(errbuf, errlen, "create topic %s: %s", topic, rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

/* The brokers the mock cluster has (ids 1..n): n, from its bootstrap list. */
static int mock_brokers(const struct conn_kafka_mock *m)
{
	const char *b = rd_kafka_mock_cluster_bootstraps(m->mcluster);
	int n = 1;

	for (; *b; b++)
		n += *b == ',';
	return n;
}

int conn_kafka_mock_broker_up(struct conn_kafka_mock *m, int broker, int up, char *errbuf,
			      size_t errlen)
{
	int n = mock_brokers(m);

	if (broker != -1 && (broker < 1 || broker > n)) {
		snprintf(errbuf, errlen, "no broker %d (1..%d)", broker, n);
		return -1;
	}
	for (int id = broker == -1 ? 1 : broker; id <= (broker == -1 ? n : broker); id++) {
		rd_kafka_resp_err_t e = up ? rd_kafka_mock_broker_set_up(m->mcluster, id)
					   : rd_kafka_mock_broker_set_down(m->mcluster, id);

		if (e) {
			snprintf(errbuf, errlen, "broker %d: %s", id, rd_kafka_err2str(e));
			return -1;
		}
	}
	return 0;
}

int conn_kafka_mock_broker_rtt(struct conn_kafka_mock *m, int broker, int rtt_ms, char *errbuf,
			       size_t errlen)
{
	int n = mock_brokers(m);

	if (broker != -1 && (broker < 1 || broker > n)) {
		snprintf(errbuf, errlen, "no broker %d (1..%d)", broker, n);
		return -1;
	}
	for (int id = broker == -1 ? 1 : broker; id <= (broker == -1 ? n : broker); id++) {
		rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_rtt(m->mcluster, id, rtt_ms);

		if (e) {
			snprintf(errbuf, errlen, "broker %d: %s", id, rd_kafka_err2str(e));
			return -1;
		}
	}
	return 0;
}

int conn_kafka_mock_request_errors(struct conn_kafka_mock *m, int api, int n, int err, char *errbuf,
				   size_t errlen)
{
	rd_kafka_resp_err_t *errs;

	if (api < 0 || api > 100 || n < 1 || n > 100000) {
		snprintf(errbuf, errlen, "bad API key %d or count %d", api, n);
		return -1;
	}
	if (!(errs = malloc((size_t)n * sizeof *errs))) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++)
		errs[i] = (rd_kafka_resp_err_t)err;
	rd_kafka_mock_push_request_errors_array(m->mcluster, (int16_t)api, (size_t)n, errs);
	free(errs);
	return 0;
}

int conn_kafka_mock_broker_errors(struct conn_kafka_mock *m, int broker, int api, int n, int err,
				  char *errbuf, size_t errlen)
{
	if (broker < 1 || broker > mock_brokers(m) || api < 0 || api > 100 || n < 1 || n > 100000) {
		snprintf(errbuf, errlen, "bad broker %d, API key %d or count %d", broker, api, n);
		return -1;
	}
	for (int i = 0; i < n; i++) { /* one (error, rtt) a call: the stack keeps their order */
		rd_kafka_resp_err_t e = rd_kafka_mock_broker_push_request_error_rtts(
		    m->mcluster, broker, (int16_t)api, 1, (rd_kafka_resp_err_t)err, 0);

		if (e) {
			snprintf(errbuf, errlen, "broker %d: %s", broker, rd_kafka_err2str(e));
			return -1;
		}
	}
	return 0;
}

int conn_kafka_mock_leader(struct conn_kafka_mock *m, const char *topic, int partition, int broker,
			   char *errbuf, size_t errlen)
{
	rd_kafka_resp_err_t e;

	if (broker < 1 || broker > mock_brokers(m) || partition < 0) {
		snprintf(errbuf, errlen, "bad broker %d or partition %d", broker, partition);
		return -1;
	}
	e = rd_kafka_mock_partition_set_leader(m->mcluster, topic, partition, broker);
	if (e) {
		snprintf(errbuf, errlen, "%s/%d: %s", topic, partition, rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

int conn_kafka_error_code(const char *name)
{
	const struct rd_kafka_err_desc *d;
	size_t n;
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end)
		return v >= -200 && v <= 200 ? (int)v : -1;
	rd_kafka_get_err_descs(&d, &n);
	for (size_t i = 0; i < n; i++)
		if (d[i].name && !strcmp(d[i].name, name))
			return d[i].code;
	return -1;
}
