/*
 * baselines.c -- the baseline cache and the choice of a window's baseline (see baselines.h).
 */
#include "agent/baselines.h"
#include "agent/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct cached {
	char *model, *version;	  /* key */
	struct agent_baseline *b; /* NULL: not in the store (looked up again next time) */
};

/* A model's good version as last read from the store. */
struct known_good {
	char *model, *version;
	int lost; /* the store no longer has it: the store was emptied or replaced */
};

struct agent_baselines {
	struct conn_store *store; /* borrowed */
	uint64_t *store_errors;	  /* borrowed */
	struct cached *v;
	size_t n;
	struct known_good *good;
	size_t ngood;
	uint64_t lost_events; /* good versions found gone */
};

struct agent_baselines *agent_baselines_new(struct conn_store *store, uint64_t *store_errors)
{
	struct agent_baselines *bl = calloc(1, sizeof *bl);

	if (!bl)
		return NULL;
	bl->store = store;
	bl->store_errors = store_errors;
	return bl;
}

void agent_baselines_free(struct agent_baselines *bl)
{
	if (!bl)
		return;
	for (size_t i = 0; i < bl->n; i++) {
		free(bl->v[i].model);
		free(bl->v[i].version);
		agent_baseline_free(bl->v[i].b);
	}
	free(bl->v);
	for (size_t i = 0; i < bl->ngood; i++) {
		free(bl->good[i].model);
		free(bl->good[i].version);
	}
	free(bl->good);
	free(bl);
}

/* A new, empty cache slot for (model, version); NULL on no memory. */
static struct cached *slot(struct agent_baselines *bl, const char *model, const char *version)
{
	struct cached *grown, *cb;

	grown = realloc(bl->v, (bl->n + 1) * sizeof *bl->v);
	if (!grown)
		return NULL;
	bl->v = grown;
	cb = &bl->v[bl->n];
	cb->model = strdup(model);
	cb->version = strdup(version);
	cb->b = NULL;
	if (!cb->model || !cb->version) {
		free(cb->model);
		free(cb->version);
		return NULL;
	}
	bl->n++;
	return cb;
}

static struct cached *find(struct agent_baselines *bl, const char *model, const char *version)
{
	for (size_t i = 0; i < bl->n; i++)
		if (!strcmp(bl->v[i].model, model) && !strcmp(bl->v[i].version, version))
			return &bl->v[i];
	return NULL;
}

const struct agent_baseline *agent_baselines_get(struct agent_baselines *bl, const char *model,
						 const char *version)
{
	struct cached *cb = find(bl, model, version);
	struct conn_blob blob;
	char err[256];
	int rc;

	if (cb && cb->b)
		return cb->b;
	rc = conn_store_baseline_get(bl->store, model, version, &blob);
	if (rc < 0) {
		(*bl->store_errors)++;
		agent_log(AGENT_LOG_WARNING, "store", "baseline %s %s: %s", model, version,
			  conn_store_error(bl->store));
		return NULL;
	}
	if (!cb && !(cb = slot(bl, model, version))) {
		if (rc == 0)
			free(blob.data);
		return NULL;
	}
	if (rc == 1)
		return NULL;
	cb->b = agent_baseline_from_json(blob.data, blob.len, err, sizeof err);
	free(blob.data);
	if (!cb->b)
		agent_log(AGENT_LOG_ERR, "store", "baseline %s %s is invalid: %s", model, version,
			  err);
	else
		agent_log(AGENT_LOG_INFO, "baseline",
			  "loaded %s %s (%" PRIu64 " samples, %zu features)", model, version,
			  cb->b->samples, cb->b->nfeatures);
	return cb->b;
}

static struct known_good *known(struct agent_baselines *bl, const char *model)
{
	for (size_t i = 0; i < bl->ngood; i++)
		if (!strcmp(bl->good[i].model, model))
			return &bl->good[i];
	return NULL;
}

/* Notes version as model's good version (the store said so). */
static void remember_good(struct agent_baselines *bl, const char *model, const char *version)
{
	struct known_good *k = known(bl, model), *g;
	char *v;

	if (k) {
		if (k->lost)
			agent_log(AGENT_LOG_NOTICE, "store", "%s: good version %s stored again",
				  model, version);
		k->lost = 0;
		if (!strcmp(k->version, version) || !(v = strdup(version)))
			return;
		free(k->version);
		k->version = v;
		return;
	}
	g = realloc(bl->good, (bl->ngood + 1) * sizeof *g);
	if (!g)
		return;
	bl->good = g;
	g[bl->ngood] = (struct known_good){ strdup(model), strdup(version), 0 };
	if (!g[bl->ngood].model || !g[bl->ngood].version) {
		free(g[bl->ngood].model);
		free(g[bl->ngood].version);
		return;
	}
	bl->ngood++;
}

char *agent_baselines_good(struct agent_baselines *bl, const char *model)
{
	struct conn_blob blob;
	struct known_good *k;
	int rc = conn_store_good_get(bl->store, model, &blob);

	if (rc < 0) {
		(*bl->store_errors)++;
		return NULL;
	}
	if (rc == 0) {
		remember_good(bl, model, blob.data);
		return blob.data;
	}
	/* none: a good version is never unset, so one read before and gone now means the store
	 * lost what it held (a Redis restarted without persistence, a flush, another directory) */
	if (!(k = known(bl, model)))
		return NULL;
	if (!k->lost) {
		k->lost = 1;
		bl->lost_events++;
		agent_log(
		    AGENT_LOG_ERR, "store",
		    "%s: the good version %s is gone from the store: the store was emptied or "
		    "replaced (restarted without persistence?); deciding with the good version "
		    "known, not ready until it is stored again (driftctl good)",
		    model, k->version);
	}
	return strdup(k->version);
}

size_t agent_baselines_lost(const struct agent_baselines *bl, uint64_t *events)
{
	size_t n = 0;

	for (size_t i = 0; i < bl->ngood; i++)
		n += bl->good[i].lost;
	if (events)
		*events = bl->lost_events;
	return n;
}

const struct agent_baseline *agent_baselines_choose(struct agent_baselines *bl,
						    enum agent_baseline_ref ref, const char *model,
						    const char *version, const char *previous)
{
	const struct agent_baseline *b = NULL;
	uint64_t errors = *bl->store_errors;
	char *good = ref == AGENT_BASELINE_LAST_GOOD ? agent_baselines_good(bl, model) : NULL;
	struct cached *cb;

	if (*bl->store_errors == errors) { /* the store said which version is good */
		if (good)
			b = agent_baselines_get(bl, model, good);
		if (!b)
			b = agent_baselines_get(bl, model, version);
	}
	free(good);
	if (*bl->store_errors != errors && previous && (cb = find(bl, model, previous)) && cb->b) {
		agent_log(AGENT_LOG_WARNING, "baseline",
			  "%s %s: store unreachable, compared with the baseline of %s as before",
			  model, version, previous);
		return cb->b;
	}
	return b;
}
