/*
 * watermark.c -- per-stream high-water marks and their low water (see watermark.h).
 */
#include "agent/watermark.h"

#include <stdlib.h>

struct mark {
	uint32_t id;
	int64_t max_ts;	   /* largest record time seen on it (INT64_MIN: none yet) */
	int64_t last_wall; /* monotonic ms it was last heard from (INT64_MIN: at its end) */
	int labels;	   /* a partition of the labels topic: holds no event time */
};

struct agent_watermark {
	struct mark *v;
	size_t n, last; /* last: the stream marked last */
	int64_t max_ts; /* largest record time seen */
	int have_ts;
};

struct agent_watermark *agent_watermark_new(void)
{
	return calloc(1, sizeof(struct agent_watermark));
}

void agent_watermark_free(struct agent_watermark *wm)
{
	if (!wm)
		return;
	free(wm->v);
	free(wm);
}

static struct mark *find(const struct agent_watermark *wm, uint32_t id)
{
	for (size_t i = 0; i < wm->n; i++)
		if (wm->v[i].id == id)
			return &wm->v[i];
	return NULL;
}

/* The mark of stream id, created (no time yet, heard from now) when new; NULL beyond
 * AGENT_STREAMS_MAX streams or on no memory. */
static struct mark *get(struct agent_watermark *wm, uint32_t id, int64_t now)
{
	struct mark *m;

	/* records come in runs from one partition: try the last stream first */
	if (wm->last < wm->n && wm->v[wm->last].id == id)
		return &wm->v[wm->last];
	for (size_t i = 0; i < wm->n; i++)
		if (wm->v[i].id == id) {
			wm->last = i;
			return &wm->v[i];
		}
	if (wm->n == AGENT_STREAMS_MAX)
		return NULL; /* beyond the bound: only the streams already known hold time */
	if (!(wm->n & (wm->n - 1))) { /* grow at powers of two */
		size_t cap = wm->n ? 2 * wm->n : 4;
		struct mark *g = realloc(wm->v, cap * sizeof *g);

		if (!g)
			return NULL;
		wm->v = g;
	}
	wm->last = wm->n;
	m = &wm->v[wm->n++];
	*m = (struct mark){ .id = id, .max_ts = INT64_MIN, .last_wall = now };
	return m;
}

void agent_watermark_hello(struct agent_watermark *wm, uint32_t id, int64_t now)
{
	struct mark *m = get(wm, id, now);

	if (m)
		m->last_wall = now;
}

void agent_watermark_mark(struct agent_watermark *wm, uint32_t id, int64_t ts, int64_t now)
{
	struct mark *m;

	if (!wm->have_ts || ts > wm->max_ts) {
		wm->max_ts = ts;
		wm->have_ts = 1;
	}
	if (!(m = get(wm, id, now)))
		return;
	if (ts > m->max_ts)
		m->max_ts = ts;
	m->last_wall = now;
}

void agent_watermark_at_end(struct agent_watermark *wm, uint32_t id)
{
	struct mark *m = find(wm, id);

	/* a stream with a mark keeps holding it (its producer may be behind the others) until
	 * it stays silent; one that never delivered a record has no time to hold */
	if (m && m->max_ts == INT64_MIN)
		m->last_wall = INT64_MIN;
}

void agent_watermark_labels(struct agent_watermark *wm, uint32_t id, int64_t now)
{
	struct mark *m = get(wm, id, now);

	if (m)
		m->labels = 1;
}

void agent_watermark_gone(struct agent_watermark *wm, uint32_t id)
{
	for (size_t i = 0; i < wm->n; i++) {
		if (wm->v[i].id != id)
			continue;
		wm->v[i] = wm->v[--wm->n];
		wm->last = 0;
		return;
	}
}

int agent_watermark_max(const struct agent_watermark *wm, int64_t *ts)
{
	if (!wm->have_ts)
		return -1;
	*ts = wm->max_ts;
	return 0;
}

int agent_watermark_low(const struct agent_watermark *wm, int64_t now, int64_t *ts)
{
	int64_t low = INT64_MAX;

	if (!wm->have_ts)
		return -1;
	for (size_t i = 0; i < wm->n; i++)
		if (!wm->v[i].labels && wm->v[i].last_wall >= now - AGENT_STREAM_IDLE_MS &&
		    wm->v[i].max_ts < low)
			low = wm->v[i].max_ts;
	*ts = low == INT64_MAX ? wm->max_ts : low;
	return 0;
}

int agent_watermark_stream(const struct agent_watermark *wm, uint32_t id, int64_t *ts)
{
	const struct mark *m = find(wm, id);

	if (!m)
		return -1;
	*ts = m->max_ts;
	return 0;
}

int agent_watermark_is_labels(const struct agent_watermark *wm, uint32_t id)
{
	const struct mark *m = find(wm, id);

	return m && m->labels;
}

size_t agent_watermark_streams(const struct agent_watermark *wm)
{
	return wm->n;
}

size_t agent_watermark_event_streams(const struct agent_watermark *wm)
{
	size_t n = 0;

	for (size_t i = 0; i < wm->n; i++)
		n += !wm->v[i].labels;
	return n;
}
