/*
 * kafka_census.c -- the partitions of a consumer's topics and their offsets, asked of the
 * brokers by a thread of its own (kafka_census.h).
 */
#include "connectors/kafka_census.h"
#include "connectors/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METADATA_TIMEOUT_MS 1500
#define OFFSETS_TIMEOUT_MS  1000

struct census_part {
	const char *topic; /* in the census's topics */
	int32_t partition;
	int64_t low, high; /* -1: not known */
};

struct kafka_census {
	rd_kafka_t *rk;
	char *topics; /* NUL-separated */
	size_t len;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	struct census_part *parts; /* the last complete round (under mu) */
	size_t nparts;
	int known; /* a round completed */
};

static int stopping(struct kafka_census *c)
{
	int s;

	pthread_mutex_lock(&c->mu);
	s = c->stop;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* Appends topic's partitions to *v (n, cap); -1 on no memory, 1 when its metadata could not be
 * read (the round is incomplete), else 0. */
static int topic_parts(struct kafka_census *c, const char *topic, struct census_part **v, size_t *n,
		       size_t *cap)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int rc = 1;

	if (!rkt)
		return 1;
	if (rd_kafka_metadata(c->rk, 0, rkt, &md, METADATA_TIMEOUT_MS) !=
		RD_KAFKA_RESP_ERR_NO_ERROR ||
	    md->topic_cnt != 1 || md->topics[0].err)
		goto out;
	for (int p = 0; p < md->topics[0].partition_cnt; p++) {
		if (*n == *cap) {
			size_t nc = *cap ? 2 * *cap : 16;
			struct census_part *g = realloc(*v, nc * sizeof *g);

			if (!g) {
				rc = -1;
				goto out;
			}
			*v = g;
			*cap = nc;
		}
		(*v)[(*n)++] = (struct census_part){ .topic = topic,
						     .partition = md->topics[0].partitions[p].id,
						     .low = -1,
						     .high = -1 };
	}
	rc = 0;
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return rc;
}

/* One round: the metadata of every topic, then every partition's offsets. */
static void round_once(struct kafka_census *c)
{
	struct census_part *v = NULL, *old;
	size_t n = 0, cap = 0;

	for (size_t o = 0; o < c->len; o += strlen(c->topics + o) + 1) {
		if (stopping(c) || topic_parts(c, c->topics + o, &v, &n, &cap) != 0) {
			free(v);
			return; /* incomplete: the last complete round stays */
		}
	}
	for (size_t i = 0; i < n && !stopping(c); i++) {
		int64_t lo, hi;

		if (rd_kafka_query_watermark_offsets(c->rk, v[i].topic, v[i].partition, &lo, &hi,
						     OFFSETS_TIMEOUT_MS) ==
		    RD_KAFKA_RESP_ERR_NO_ERROR) {
			v[i].low = lo;
			v[i].high = hi;
		}
	}
	pthread_mutex_lock(&c->mu);
	old = c->parts;
	c->parts = v;
	c->nparts = n;
	c->known = 1;
	pthread_mutex_unlock(&c->mu);
	free(old);
}

static void *census_main(void *arg)
{
	struct kafka_census *c = arg;

	for (;;) {
		struct timespec until;

		round_once(c);
		until = conn_clock_deadline(CONN_KAFKA_CENSUS_MS);
		pthread_mutex_lock(&c->mu);
		while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
			;
		if (c->stop) {
			pthread_mutex_unlock(&c->mu);
			return NULL;
		}
		pthread_mutex_unlock(&c->mu);
	}
}

struct kafka_census *kafka_census_start(rd_kafka_t *rk, const char *topics, size_t len)
{
	struct kafka_census *c = calloc(1, sizeof *c);

	if (!c || !(c->topics = malloc(len ? len : 1))) {
		free(c);
		return NULL;
	}
	memcpy(c->topics, topics, len);
	c->len = len;
	c->rk = rk;
	pthread_mutex_init(&c->mu, NULL);
	conn_clock_cond_init(&c->cv);
	if (pthread_create(&c->thread, NULL, census_main, c) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c->topics);
		free(c);
		return NULL;
	}
	return c;
}

void kafka_census_stop(struct kafka_census *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->parts);
	free(c->topics);
	free(c);
}

int kafka_census_each(struct kafka_census *c, conn_kafka_partition_fn fn, void *arg)
{
	int n;

	pthread_mutex_lock(&c->mu);
	if (!c->known) {
		pthread_mutex_unlock(&c->mu);
		return -1;
	}
	for (size_t i = 0; i < c->nparts; i++)
		fn(arg, c->parts[i].topic, c->parts[i].partition, c->parts[i].low,
		   c->parts[i].high);
	n = (int)c->nparts;
	pthread_mutex_unlock(&c->mu);
	return n;
}
