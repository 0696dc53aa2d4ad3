/*
 * store.c -- conn_store_open's dispatch on the kind of the spec, and the conn_store_* functions
 * of store.h as thin calls through the backend's ops table (store_impl.h).
 *
 * The spec is parsed once, by endpoint.h's conn_endpoint_parse (the store role), and the kind
 * picks the backend:
 *
 *   dir:PATH                                      store_dir.c
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]    store_redis.c
 *   redis+unix://[[USER]:PASSWORD@]PATH[?db=N]    store_redis.c
 *   unix:PATH[?db=N]                              store_redis.c
 *
 * A refused spec is never echoed: it may carry a password. A malformed spec of one of these
 * kinds gets the parser's message ("store redis: the port must be 1 to 65535"); a spec of
 * another kind "unsupported store", with only its scheme quoted back, and only when it is made
 * of the characters a scheme may have.
 *
 * The calls added with the checkpoints (prefix, ping, pending events, checkpoints, locks) check
 * their arguments here, once for both backends (the bounds are in store_impl.h): a NULL
 * pointer, an empty or too long name, key, id or scope, an oversized blob or a ttl out of range
 * is -1 with a message naming the argument, and the backend is not called.
 */
#include "connectors/endpoint.h"
#include "connectors/store_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the scheme before the ':' of spec when it looks like one ([a-z][a-z0-9+.-]*,
 * at most 16 bytes), 0 otherwise. */
static size_t scheme_len(const char *spec)
{
	size_t n = 0;

	if (!(spec[0] >= 'a' && spec[0] <= 'z'))
		return 0;
	while (n < 17 &&
	       ((spec[n] >= 'a' && spec[n] <= 'z') || (spec[n] >= '0' && spec[n] <= '9') ||
		spec[n] == '+' || spec[n] == '.' || spec[n] == '-'))
		n++;
	return n <= 16 && spec[n] == ':' ? n : 0;
}

/* The message of a spec the parser refused with msg. */
static void refused(const char *spec, const char *msg, char *errbuf, size_t errlen)
{
	const char *expected = conn_endpoint_expected(CONN_ENDPOINT_STORE);
	size_t n;

	if (strcmp(msg, expected) != 0) /* a store kind, malformed */
		snprintf(errbuf, errlen, "store %s", msg);
	else if ((n = scheme_len(spec)) > 0)
		snprintf(errbuf, errlen, "unsupported store %.*s: (%s)", (int)n, spec, expected);
	else
		snprintf(errbuf, errlen, "unsupported store (%s)", expected);
}

struct conn_store *conn_store_open(const char *spec, char *errbuf, size_t errlen)
{
	struct conn_endpoint ep;
	struct conn_store *s = NULL;
	char msg[256];

	if (!spec || !spec[0]) {
		snprintf(errbuf, errlen, "no store given (%s)",
			 conn_endpoint_expected(CONN_ENDPOINT_STORE));
		return NULL;
	}
	if (conn_endpoint_parse(spec, CONN_ENDPOINT_STORE, &ep, msg, sizeof msg) < 0) {
		refused(spec, msg, errbuf, errlen);
		return NULL;
	}
	switch (ep.kind) {
	case CONN_ENDPOINT_DIR:
		s = conn_store_dir_open(ep.path, errbuf, errlen);
		break;
	case CONN_ENDPOINT_REDIS:
	case CONN_ENDPOINT_REDIS_UNIX:
		s = conn_store_redis_open(&ep, errbuf, errlen);
		break;
	default: /* the store role takes no other kind */
		snprintf(errbuf, errlen, "unsupported store");
		break;
	}
	conn_endpoint_free(&ep);
	return s;
}

void conn_store_close(struct conn_store *s)
{
	if (s)
		s->ops->close(s);
}

const char *conn_store_error(const struct conn_store *s)
{
	return s->err;
}

int conn_store_version_put(struct conn_store *s, const char *model, const char *version,
			   const char *doc, size_t len, int64_t registered_ms)
{
	return s->ops->version_put(s, model, version, doc, len, registered_ms);
}

int conn_store_version_get(struct conn_store *s, const char *model, const char *version,
			   struct conn_blob *out)
{
	return s->ops->version_get(s, model, version, out);
}

int conn_store_versions(struct conn_store *s, const char *model, conn_store_version_fn fn,
			void *arg)
{
	return s->ops->versions(s, model, fn, arg);
}

int conn_store_models(struct conn_store *s, conn_store_model_fn fn, void *arg)
{
	return s->ops->models(s, fn, arg);
}

int conn_store_baseline_put(struct conn_store *s, const char *model, const char *version,
			    const char *doc, size_t len)
{
	return s->ops->baseline_put(s, model, version, doc, len);
}

int conn_store_baseline_get(struct conn_store *s, const char *model, const char *version,
			    struct conn_blob *out)
{
	return s->ops->baseline_get(s, model, version, out);
}

int conn_store_good_set(struct conn_store *s, const char *model, const char *version)
{
	return s->ops->good_set(s, model, version);
}

int conn_store_good_get(struct conn_store *s, const char *model, struct conn_blob *out)
{
	return s->ops->good_get(s, model, out);
}

int conn_store_hold_set(struct conn_store *s, const char *model, int on)
{
	return s->ops->hold_set(s, model, on);
}

int conn_store_hold_get(struct conn_store *s, const char *model, int *on)
{
	return s->ops->hold_get(s, model, on);
}

int conn_store_latch_set(struct conn_store *s, const char *model, const char *version, int on)
{
	return s->ops->latch_set(s, model, version, on);
}

int conn_store_latch_get(struct conn_store *s, const char *model, const char *version, int *on)
{
	return s->ops->latch_get(s, model, version, on);
}

int conn_store_cooldown_raise(struct conn_store *s, const char *model, int64_t end_ms)
{
	return s->ops->cooldown_raise(s, model, end_ms);
}

int conn_store_cooldown_get(struct conn_store *s, const char *model, int64_t *end_ms)
{
	return s->ops->cooldown_get(s, model, end_ms);
}

int conn_store_history_append(struct conn_store *s, const char *model, const char *doc, size_t len)
{
	return s->ops->history_append(s, model, doc, len);
}

int conn_store_history(struct conn_store *s, const char *model, conn_store_entry_fn fn, void *arg)
{
	return s->ops->history(s, model, fn, arg);
}

int conn_store_claim(struct conn_store *s, const char *id)
{
	return s->ops->claim(s, id);
}

/* ---- arguments of the second group ---- */

/* 0 when str is 1..max bytes (NUL-terminated); -1 with "<what> must be 1 to <max> bytes". */
static int check_str(struct conn_store *s, const char *what, const char *str, size_t max)
{
	size_t n = str ? strnlen(str, max + 1) : 0;

	if (n == 0 || n > max) {
		conn_store_errf(s, "%s must be 1 to %zu bytes", what, max);
		return -1;
	}
	return 0;
}

/* 0 when p[0..n) is 1..max bytes (any bytes, NUL included). */
static int check_bytes(struct conn_store *s, const char *what, const char *p, size_t n, size_t max)
{
	if (!p || n == 0 || n > max) {
		conn_store_errf(s, "%s must be 1 to %zu bytes", what, max);
		return -1;
	}
	return 0;
}

/* 0 when p[0..n) is a value the store takes: data when n > 0, at most CONN_STORE_MAX_VALUE. */
static int check_blob(struct conn_store *s, const char *what, const char *p, size_t n)
{
	if (!p && n) {
		conn_store_errf(s, "%s of %zu bytes without data", what, n);
		return -1;
	}
	if (n > CONN_STORE_MAX_VALUE) {
		conn_store_errf(s, "%s must be at most %zu bytes", what, CONN_STORE_MAX_VALUE);
		return -1;
	}
	return 0;
}

/* -1 with the error set: a listing without its callback. */
static int no_fn(struct conn_store *s)
{
	conn_store_errf(s, "no callback given");
	return -1;
}

static int check_scope(struct conn_store *s, const char *scope)
{
	return check_str(s, "checkpoint scope", scope, CONN_CKPT_MAX_SCOPE);
}

/* The n items of one array of a checkpoint (what: the array; kwhat: its keys); their blobs
 * too when with_blobs (a NULL blob is a deletion). */
static int check_items(struct conn_store *s, const char *what, const char *kwhat,
		       const struct conn_ckpt_item *it, size_t n, int with_blobs)
{
	if (n && !it) {
		conn_store_errf(s, "checkpoint: %zu %s without their array", n, what);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_bytes(s, kwhat, it[i].key, it[i].klen, CONN_CKPT_MAX_KEY) < 0)
			return -1;
		if (with_blobs && it[i].blob &&
		    check_blob(s, "a checkpoint blob", it[i].blob, it[i].len) < 0)
			return -1;
	}
	return 0;
}

/* ---- prefix, ping, pending events ---- */

int conn_store_set_prefix(struct conn_store *s, const char *prefix)
{
	size_t n = prefix ? strnlen(prefix, CONN_STORE_MAX_PREFIX + 1) : 0;

	if (n == 0 || n > CONN_STORE_MAX_PREFIX ||
	    strspn(prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") !=
		n) {
		conn_store_errf(s, "a key prefix must be 1 to %u bytes of [A-Za-z0-9_.:-]",
				CONN_STORE_MAX_PREFIX);
		return -1;
	}
	return s->ops->set_prefix(s, prefix);
}

int conn_store_ping(struct conn_store *s)
{
	return s->ops->ping(s);
}

int conn_store_pending_put(struct conn_store *s, const char *id, const char *model, const char *doc,
			   size_t len)
{
	if (check_str(s, "pending event id", id, CONN_STORE_MAX_ID) < 0 ||
	    check_str(s, "model name", model, CONN_STORE_MAX_NAME) < 0 ||
	    check_blob(s, "a pending event", doc, len) < 0)
		return -1;
	return s->ops->pending_put(s, id, model, doc, len);
}

int conn_store_pending_del(struct conn_store *s, const char *id)
{
	if (check_str(s, "pending event id", id, CONN_STORE_MAX_ID) < 0)
		return -1;
	return s->ops->pending_del(s, id);
}

/* ---- the outbox ----
 * Built on the backend's claim value (store_impl.h): the claim of an event's id holds
 * "<modellen>:<model><doc>" (modellen in decimal) while the event is pending, "d" once it is
 * delivered; "1" or nothing is a claim made by conn_store_claim (or by a driftd before the
 * outbox), which kept no event. The pending list (the backend's) is the index the listing
 * reads: written right after the claim, removed right after the "d". A crash between the claim
 * and the index leaves a pending claim that is not listed; the window is then decided again
 * after the restart (its decision was not checkpointed yet), the claim says duplicate, and
 * conn_store_outbox_get finds the event pending: the engine puts it on the pending list again
 * and delivers it. A crash between
 * the "d" and the removal leaves an index entry that the listing removes. */

#define DELIVERED "d"

/* "<modellen>:<model><doc>" into out (malloc'd). -1 on no memory. */
static int outbox_value(struct conn_store *s, const char *model, const char *doc, size_t len,
			struct conn_blob *out)
{
	size_t ml = strlen(model);
	int hl;

	out->data = malloc(16 + ml + len);
	if (!out->data) {
		conn_store_errf(s, "out of memory");
		return -1;
	}
	hl = snprintf(out->data, 16, "%zu:", ml);
	memcpy(out->data + hl, model, ml);
	if (len)
		memcpy(out->data + hl + ml, doc, len);
	out->len = (size_t)hl + ml + len;
	return 0;
}

/* Splits an outbox value: 0 with the model [*m, *m + *ml) and the doc, -1 when it is not
 * one (a "1", an empty claim, a "d"). */
static int outbox_split(const char *v, size_t n, const char **m, size_t *ml, const char **doc,
			size_t *dlen)
{
	size_t i = 0, l = 0;

	while (i < n && i < 4 && v[i] >= '0' && v[i] <= '9')
		l = l * 10 + (size_t)(v[i++] - '0');
	if (i == 0 || i >= n || v[i] != ':' || l == 0 || l > CONN_STORE_MAX_NAME || n - i - 1 < l ||
	    memchr(v + i + 1, '\0', l))
		return -1;
	*m = v + i + 1;
	*ml = l;
	*doc = v + i + 1 + l;
	*dlen = n - i - 1 - l;
	return 0;
}

int conn_store_outbox_claim(struct conn_store *s, const char *id, const char *model,
			    const char *doc, size_t len)
{
	struct conn_blob v;
	int rc;

	if (check_str(s, "event id", id, CONN_STORE_MAX_ID) < 0 ||
	    check_str(s, "model name", model, CONN_STORE_MAX_NAME) < 0 ||
	    check_blob(s, "an event", doc, len) < 0 || outbox_value(s, model, doc, len, &v) < 0)
		return -1;
	rc = s->ops->claim_put(s, id, v.data, v.len);
	free(v.data);
	if (rc != 0)
		return rc;
	/* the index: on failure the claim holds the event still (see the top) */
	return s->ops->pending_put(s, id, model, doc, len) < 0 ? -1 : 0;
}

enum conn_outbox_state conn_store_outbox_get(struct conn_store *s, const char *id,
					     struct conn_blob *model, struct conn_blob *doc)
{
	struct conn_blob v = { 0 };
	const char *m, *d;
	size_t ml, dl;
	int rc;

	*model = (struct conn_blob){ 0 };
	*doc = (struct conn_blob){ 0 };
	if (check_str(s, "event id", id, CONN_STORE_MAX_ID) < 0)
		return CONN_OUTBOX_ERROR;
	rc = s->ops->claim_get(s, id, &v);
	if (rc != 0)
		return rc < 0 ? CONN_OUTBOX_ERROR : CONN_OUTBOX_NONE;
	if (outbox_split(v.data, v.len, &m, &ml, &d, &dl) < 0) {
		free(v.data);
		return CONN_OUTBOX_DELIVERED;
	}
	model->data = malloc(ml + 1);
	doc->data = malloc(dl + 1);
	if (!model->data || !doc->data) {
		free(model->data);
		free(doc->data);
		free(v.data);
		*model = (struct conn_blob){ 0 };
		*doc = (struct conn_blob){ 0 };
		conn_store_errf(s, "out of memory");
		return CONN_OUTBOX_ERROR;
	}
	memcpy(model->data, m, ml);
	model->data[ml] = '\0';
	model->len = ml;
	memcpy(doc->data, d, dl);
	doc->data[dl] = '\0';
	doc->len = dl;
	free(v.data);
	return CONN_OUTBOX_PENDING;
}

int conn_store_outbox_done(struct conn_store *s, const char *id)
{
	if (check_str(s, "event id", id, CONN_STORE_MAX_ID) < 0)
		return -1;
	if (s->ops->claim_mark(s, id, DELIVERED, 1) < 0) /* 1 (no claim): nothing to mark */
		return -1;
	return s->ops->pending_del(s, id);
}

/* The listing over the backend's: each index entry checked against its claim. */
struct pending_walk {
	struct conn_store *s;
	conn_store_pending_fn fn;
	void *arg;
	int err;
	char msg[512]; /* the error, kept over the backend's listing (its end clears it) */
};

static int walk_fail(struct pending_walk *w)
{
	w->err = 1;
	snprintf(w->msg, sizeof w->msg, "%s", conn_store_error(w->s));
	return 1;
}

static int pending_one(void *arg, const char *id, const char *model, const char *doc, size_t len)
{
	struct pending_walk *w = arg;
	struct conn_blob v = { 0 };
	const char *m, *d;
	size_t ml, dl;
	int rc = w->s->ops->claim_get(w->s, id, &v);

	if (rc < 0)
		return walk_fail(w);
	if (rc == 0 && v.len == 1 && v.data[0] == DELIVERED[0]) { /* delivered: a stale entry */
		free(v.data);
		return w->s->ops->pending_del(w->s, id) < 0 ? walk_fail(w) : 0;
	}
	if (rc == 0 && outbox_split(v.data, v.len, &m, &ml, &d, &dl) == 0) {
		char mm[CONN_STORE_MAX_NAME + 1];

		memcpy(mm, m, ml);
		mm[ml] = '\0';
		rc = w->fn(w->arg, id, mm, d, dl);
	} else { /* a claim without its event (or none): the entry is the event */
		rc = w->fn(w->arg, id, model, doc, len);
	}
	free(v.data);
	return rc;
}

int conn_store_pending_list(struct conn_store *s, conn_store_pending_fn fn, void *arg)
{
	struct pending_walk w = { .s = s, .fn = fn, .arg = arg };
	int rc;

	if (!fn)
		return no_fn(s);
	rc = s->ops->pending_list(s, pending_one, &w);
	if (w.err) {
		conn_store_errf(s, "%s", w.msg);
		return -1;
	}
	return rc;
}

/* ---- window checkpoints and locks ---- */

int conn_store_ckpt_commit(struct conn_store *s, const char *scope, const struct conn_ckpt *c)
{
	if (check_scope(s, scope) < 0)
		return -1;
	if (!c) {
		conn_store_errf(s, "no checkpoint given");
		return -1;
	}
	if (check_str(s, "instance name", c->instance, CONN_CKPT_MAX_INSTANCE) < 0)
		return -1;
	if (c->noffsets > CONN_CKPT_MAX_ITEMS || c->npartials > CONN_CKPT_MAX_ITEMS ||
	    c->ndrops > CONN_CKPT_MAX_ITEMS || c->nstates > CONN_CKPT_MAX_ITEMS ||
	    c->noffsets + c->npartials + c->ndrops + c->nstates > CONN_CKPT_MAX_ITEMS) {
		conn_store_errf(s, "a checkpoint holds at most %u items", CONN_CKPT_MAX_ITEMS);
		return -1;
	}
	if (c->noffsets && !c->offsets) {
		conn_store_errf(s, "checkpoint: %zu offsets without their array", c->noffsets);
		return -1;
	}
	for (size_t i = 0; i < c->noffsets; i++)
		if (check_str(s, "stream name", c->offsets[i].stream, CONN_CKPT_MAX_STREAM) < 0)
			return -1;
	if (check_items(s, "partials", "window key", c->partials, c->npartials, 1) < 0 ||
	    check_items(s, "drops", "window key", c->drops, c->ndrops, 0) < 0 ||
	    check_items(s, "states", "pair key", c->states, c->nstates, 1) < 0)
		return -1;
	return s->ops->ckpt_commit(s, scope, c);
}

int conn_store_ckpt_offsets(struct conn_store *s, const char *scope, conn_ckpt_offset_fn fn,
			    void *arg)
{
	if (check_scope(s, scope) < 0 || (!fn && no_fn(s) < 0))
		return -1;
	return s->ops->ckpt_offsets(s, scope, fn, arg);
}

/* The result of a backend's point read as the enum. */
static enum conn_store_lookup lookup(int rc)
{
	return rc == 0 ? CONN_STORE_FOUND : rc == 1 ? CONN_STORE_NONE : CONN_STORE_ERROR;
}

enum conn_store_lookup conn_store_ckpt_offset_get(struct conn_store *s, const char *scope,
						  const char *stream, struct conn_ckpt_offset *out)
{
	if (out)
		*out = (struct conn_ckpt_offset){ stream, 0, 0, 0 };
	if (check_scope(s, scope) < 0 ||
	    check_str(s, "stream name", stream, CONN_CKPT_MAX_STREAM) < 0)
		return CONN_STORE_ERROR;
	if (!out) {
		conn_store_errf(s, "no result given");
		return CONN_STORE_ERROR;
	}
	return lookup(s->ops->ckpt_offset_get(s, scope, stream, out));
}

int conn_store_ckpt_windows(struct conn_store *s, const char *scope, conn_ckpt_key_fn fn, void *arg)
{
	if (check_scope(s, scope) < 0 || (!fn && no_fn(s) < 0))
		return -1;
	return s->ops->ckpt_windows(s, scope, fn, arg);
}

int conn_store_ckpt_partials(struct conn_store *s, const char *scope, const char *key, size_t klen,
			     conn_ckpt_blob_fn fn, void *arg)
{
	if (check_scope(s, scope) < 0 ||
	    check_bytes(s, "window key", key, klen, CONN_CKPT_MAX_KEY) < 0 || (!fn && no_fn(s) < 0))
		return -1;
	return s->ops->ckpt_partials(s, scope, key, klen, fn, arg);
}

int conn_store_ckpt_states(struct conn_store *s, const char *scope, conn_ckpt_blob_fn fn, void *arg)
{
	if (check_scope(s, scope) < 0 || (!fn && no_fn(s) < 0))
		return -1;
	return s->ops->ckpt_states(s, scope, fn, arg);
}

enum conn_store_lookup conn_store_ckpt_state_get(struct conn_store *s, const char *scope,
						 const char *key, size_t klen,
						 struct conn_blob *out)
{
	if (out) {
		out->data = NULL;
		out->len = 0;
	}
	if (check_scope(s, scope) < 0 ||
	    check_bytes(s, "pair key", key, klen, CONN_CKPT_MAX_KEY) < 0)
		return CONN_STORE_ERROR;
	if (!out) {
		conn_store_errf(s, "no result given");
		return CONN_STORE_ERROR;
	}
	return lookup(s->ops->ckpt_state_get(s, scope, key, klen, out));
}

int conn_store_lock(struct conn_store *s, const char *scope, const char *name, const char *owner,
		    int64_t ttl_ms)
{
	if (check_scope(s, scope) < 0 || check_str(s, "lock name", name, CONN_LOCK_MAX_NAME) < 0 ||
	    check_str(s, "lock owner", owner, CONN_LOCK_MAX_OWNER) < 0)
		return -1;
	if (ttl_ms < 1 || ttl_ms > CONN_LOCK_MAX_TTL_MS) {
		conn_store_errf(s, "a lock ttl must be 1 to %lld ms",
				(long long)CONN_LOCK_MAX_TTL_MS);
		return -1;
	}
	return s->ops->lock(s, scope, name, owner, ttl_ms);
}

int conn_store_unlock(struct conn_store *s, const char *scope, const char *name, const char *owner)
{
	if (check_scope(s, scope) < 0 || check_str(s, "lock name", name, CONN_LOCK_MAX_NAME) < 0 ||
	    check_str(s, "lock owner", owner, CONN_LOCK_MAX_OWNER) < 0)
		return -1;
	return s->ops->unlock(s, scope, name, owner);
}

/* ---- errors ---- */

void conn_store_errf(struct conn_store *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	if (!s->err[0])
		snprintf(s->err, sizeof s->err, "error");
}

int conn_store_done(struct conn_store *s, int rc)
{
	if (rc >= 0)
		s->err[0] = '\0';
	return rc;
}
