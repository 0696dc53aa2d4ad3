/*
 * store.c -- conn_store_open's dispatch on the spec's scheme, and the conn_store_* functions of
 * store.h as thin calls through the backend's ops table (store_impl.h).
 *
 *   dir:PATH                                      store_dir.c
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]    store_redis.c
 *   redis+unix://[[USER]:PASSWORD@]PATH[?db=N]    store_redis.c
 *   unix:PATH[?db=N]                              store_redis.c
 *
 * A refused spec is never echoed: it may carry a password. Only a scheme made of the characters
 * a scheme may have is quoted back.
 */
#include "connectors/store_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

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

struct conn_store *conn_store_open(const char *spec, char *errbuf, size_t errlen)
{
	size_t n;

	if (!spec || !spec[0]) {
		snprintf(errbuf, errlen,
			 "no store given (expected dir:PATH, redis://... or unix:PATH)");
		return NULL;
	}
	if (has_prefix(spec, "dir:"))
		return conn_store_dir_open(spec + 4, errbuf, errlen);
	if (has_prefix(spec, "redis://") || has_prefix(spec, "redis+unix://") ||
	    has_prefix(spec, "unix:"))
		return conn_store_redis_open(spec, errbuf, errlen);
	if (has_prefix(spec, "rediss://")) {
		snprintf(errbuf, errlen,
			 "unsupported store rediss:// (Redis over TLS: hiredis 0.14 has no TLS)");
		return NULL;
	}
	n = scheme_len(spec);
	if (n)
		snprintf(errbuf, errlen,
			 "unsupported store %.*s: (expected dir:PATH, "
			 "redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:PATH)",
			 (int)n, spec);
	else
		snprintf(errbuf, errlen,
			 "unsupported store (expected dir:PATH, "
			 "redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:PATH)");
	return NULL;
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
