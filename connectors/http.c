/*
 * http.c -- the HTTP server of http.h on libmicrohttpd (MHD).
 *
 * Snapshots. A published body becomes an MHD response built once, outside any lock, and wrapped
 * in a `struct snap` with our own reference count. A route holds one snap per variant; a GET
 * takes the route mutex just long enough to read the pointer and add a reference, queues the
 * response (MHD keeps its own reference while sending) and drops ours. Publishing swaps the
 * pointer under the same mutex and drops the route's reference on the old snap; the last
 * reference destroys our handle on the MHD response, whose body MHD frees once no connection
 * still sends it.
 *
 * POST bodies go into a buffer that grows to at most the route's max_body (+1 for a NUL).
 * A declared Content-Length above the limit is answered 413 before a body byte is read. A
 * chunked body that crosses it is freed and the rest discarded as it arrives (MHD 0.9.75
 * refuses a response queued before the body is complete), then answered 413; the per-request
 * deadline bounds how long a client can keep sending.
 *
 * Deadlines. MHD's connection timeout closes idle connections but not one that dribbles a byte
 * a second. The watchdog thread keeps every open connection in a list with a deadline (opening
 * or the end of its previous request + timeout_s) and shuts the socket down when the deadline
 * passes; MHD then sees the connection fail and closes it. Entries leave the list under the
 * watchdog mutex when MHD reports the connection closed -- before it closes the descriptor --
 * so the watchdog never touches a descriptor that was reused.
 */
#include "connectors/http.h"
#include "connectors/clock.h"
#include "connectors/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define REPLY_CAP	 4096 /* bytes of a POST handler's reply */
#define WATCH_PERIOD_MS	 100  /* how often the watchdog looks at the deadlines */
#define WATCH_LOG_MAX	 8    /* cut connections logged per look (all are counted) */
#define MAX_THREADS	 8
#define MIN_CONN_MEMORY	 4096
#define CT_TEXT		 "text/plain; charset=utf-8"
#define BODY_NOT_FOUND	 "not found\n"
#define BODY_NOT_ALLOWED "method not allowed\n"
#define BODY_NOT_READY	 "not published yet\n"
#define BODY_TOO_LARGE	 "request body too large\n"
#define BODY_UNAUTH	 "unauthorized\n"

/* ---- data ---- */

struct snap {
	atomic_uint refs;	   /* the route's reference + one per request holding it */
	struct MHD_Response *resp; /* built once; its body is freed by MHD */
	unsigned status;
};

struct route {
	char *path;
	int post;	     /* 0 GET (and HEAD), 1 POST */
	int flags;	     /* GET: CONN_HTTP_NEGOTIATE */
	struct snap *cur[2]; /* GET: per variant, under h->snap_lock; NULL until published */
	char *token;	     /* POST: bearer token, NULL for none */
	size_t token_len;
	size_t max_body;	       /* POST */
	conn_http_post_fn fn;	       /* POST */
	void *arg;		       /* POST */
	atomic_uint_fast64_t requests; /* conn_http_route_stats */
	atomic_uint_fast64_t errors;
};

/* A POST in progress (MHD's per-request con_cls). */
struct upload {
	struct route *r;
	char *buf; /* body so far, NUL-terminated; NULL while empty */
	size_t len, cap;
	int too_large; /* crossed max_body: the rest is discarded */
};

/* An open connection, for the watchdog. */
struct track {
	struct track *prev, *next;
	int fd;
	double deadline; /* monotonic seconds */
	int cut;	 /* already shut down by the watchdog */
	char peer[64];	 /* "ADDR:PORT" for the log line */
};

struct conn_http {
	struct conn_http_conf conf; /* copied; listen points to listen_buf */
	char listen_buf[300];
	int lfd; /* listening socket, -1 once MHD owns it */
	unsigned port;
	struct MHD_Daemon *d;
	char err[256];	   /* first set-up error */
	int starting;	   /* inside MHD_start_daemon (under watch_lock) */
	char mhd_msg[256]; /* MHD's first message while starting */

	struct route routes[CONN_HTTP_MAX_ROUTES];
	size_t nroutes;
	pthread_mutex_t snap_lock; /* route.cur */

	pthread_mutex_t watch_lock; /* the track list, stop */
	pthread_cond_t watch_cond;
	pthread_t watch_thread;
	int watch_started, stop;
	struct track *tracks;

	atomic_uint_fast64_t not_found, cut, timeouts, aborted;
};

/* ---- helpers ---- */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void seterr(struct conn_http *h, const char *fmt, ...)
{
	va_list ap;

	if (h->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(h->err, sizeof h->err, fmt, ap);
	va_end(ap);
}

static void logf_(struct conn_http *h, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!h->conf.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	h->conf.log(h->conf.log_arg, level, msg);
}

/* MHD's own messages (printf-style, usually ending with a newline). While conn_http_start runs
 * they explain a failure: kept for its error message and logged at LOG_ERR. Once serving they
 * are mostly about clients (closed early, malformed requests): LOG_DEBUG. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct conn_http *h = cls;
	char msg[256];
	size_t n;
	int starting;

	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	pthread_mutex_lock(&h->watch_lock);
	starting = h->starting;
	if (starting && !h->mhd_msg[0])
		snprintf(h->mhd_msg, sizeof h->mhd_msg, "%s", msg);
	pthread_mutex_unlock(&h->watch_lock);
	logf_(h, starting ? LOG_ERR : LOG_DEBUG, "http: %s", msg);
}

static struct route *find_route(struct conn_http *h, const char *path)
{
	for (size_t i = 0; i < h->nroutes; i++)
		if (!strcmp(h->routes[i].path, path))
			return &h->routes[i];
	return NULL;
}

static void snap_unref(struct snap *s)
{
	if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
		MHD_destroy_response(s->resp);
		free(s);
	}
}

static void peer_name(const struct sockaddr *sa, char *out, size_t cap)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
		port = ntohs(a->sin_port);
		snprintf(out, cap, "%s:%u", addr, port);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
		port = ntohs(a->sin6_port);
		snprintf(out, cap, "[%s]:%u", addr, port);
	} else {
		snprintf(out, cap, "?");
	}
}

/* ---- Accept negotiation ---- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* The q-value text "0", "0.5", "1.000" (RFC 9110 qvalue; up to 3 decimals) -> 0..1000, -1 if
 * malformed. */
static int parse_q(const char *v, size_t n)
{
	int q, digits = 0;
	size_t i = 2;

	if (n == 0 || (v[0] != '0' && v[0] != '1'))
		return -1;
	q = (v[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (v[1] != '.')
		return -1;
	for (int scale = 100; i < n; i++, scale /= 10) {
		if (v[i] < '0' || v[i] > '9' || ++digits > 3)
			return -1;
		q += (v[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static int eq_ci(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && !strncasecmp(s, lit, n);
}

struct offer {
	const char *type, *subtype;
	const char *const *versions; /* acceptable version parameter values */
	int best_spec;		     /* specificity of the best match so far, -1 none */
	int q;			     /* its q (max over equally specific matches) */
};

/* Applies one media range [p, end) to both offers. */
static void apply_range(const char *p, const char *end, struct offer *offers, int noffers)
{
	const char *type, *slash, *sub, *cur;
	size_t tlen, slen;
	const char *ver = NULL;
	size_t vlen = 0;
	int q = 1000;

	p = skip_ws(p, end);
	cur = p;
	while (cur < end && *cur != ';' && *cur != ' ' && *cur != '\t')
		cur++;
	slash = memchr(p, '/', (size_t)(cur - p));
	if (!slash)
		return;
	type = p;
	tlen = (size_t)(slash - p);
	sub = slash + 1;
	slen = (size_t)(cur - sub);
	if (!tlen || !slen)
		return;
	/* parameters: name=value (token or quoted string); q ends the media type's own ones */
	while (cur < end) {
		const char *name, *val;
		size_t nlen, vl;
		char qbuf[16];

		cur = skip_ws(cur, end);
		if (cur >= end)
			break;
		if (*cur != ';')
			return; /* junk after the type */
		cur = skip_ws(cur + 1, end);
		name = cur;
		while (cur < end && *cur != '=' && *cur != ';' && *cur != ' ' && *cur != '\t')
			cur++;
		nlen = (size_t)(cur - name);
		cur = skip_ws(cur, end);
		if (cur >= end || *cur != '=') {
			if (nlen == 0)
				continue; /* stray ';' */
			return;
		}
		cur = skip_ws(cur + 1, end);
		if (cur < end && *cur == '"') {
			val = ++cur;
			while (cur < end && *cur != '"')
				cur += (*cur == '\\' && cur + 1 < end) ? 2 : 1;
			if (cur >= end)
				return;
			vl = (size_t)(cur - val);
			cur++;
		} else {
			val = cur;
			while (cur < end && *cur != ';' && *cur != ' ' && *cur != '\t')
				cur++;
			vl = (size_t)(cur - val);
		}
		if (eq_ci(name, nlen, "q")) {
			if (vl >= sizeof qbuf)
				return;
			memcpy(qbuf, val, vl);
			q = parse_q(qbuf, vl);
			if (q < 0)
				return; /* a malformed q: the range is ignored */
			break;		/* accept-extensions follow: ignored */
		}
		if (eq_ci(name, nlen, "version")) {
			ver = val;
			vlen = vl;
		}
	}
	for (int o = 0; o < noffers; o++) {
		struct offer *f = &offers[o];
		int spec;

		if (eq_ci(type, tlen, "*") && eq_ci(sub, slen, "*"))
			spec = 0;
		else if (!eq_ci(type, tlen, f->type))
			continue;
		else if (eq_ci(sub, slen, "*"))
			spec = 1;
		else if (!eq_ci(sub, slen, f->subtype))
			continue;
		else if (!ver)
			spec = 2;
		else {
			int ok = 0;
			for (const char *const *v = f->versions; *v; v++)
				ok |= vlen == strlen(*v) && !memcmp(ver, *v, vlen);
			if (!ok)
				continue; /* a version we do not serve */
			spec = 3;
		}
		if (spec > f->best_spec) {
			f->best_spec = spec;
			f->q = q;
		} else if (spec == f->best_spec && q > f->q) {
			f->q = q;
		}
	}
}

int conn_http_prefers_openmetrics(const char *accept)
{
	static const char *const text_v[] = { "0.0.4", NULL };
	static const char *const om_v[] = { "1.0.0", "0.0.1", NULL };
	struct offer offers[2] = {
		{ "text", "plain", text_v, -1, 0 },
		{ "application", "openmetrics-text", om_v, -1, 0 },
	};
	const char *p = accept, *end;
	int inq = 0;

	if (!accept)
		return 0;
	end = accept + strlen(accept);
	for (const char *c = p; c <= end; c++) {
		if (c < end && *c == '"')
			inq = !inq;
		if (c < end && *c == '\\' && inq && c + 1 < end) {
			c++;
			continue;
		}
		if (c == end || (*c == ',' && !inq)) {
			apply_range(p, c, offers, 2);
			p = c + 1;
		}
	}
	return offers[1].q > 0 && offers[1].q > offers[0].q;
}

/* ---- responses ---- */

/* Queues a small per-request response; counts errors on r. */
static enum MHD_Result reply(struct MHD_Connection *c, struct route *r, unsigned status,
			     const char *body, const char *hname, const char *hvalue)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r && status >= 400)
		atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CT_TEXT);
	if (hname)
		MHD_add_response_header(resp, hname, hvalue);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result serve_get(struct conn_http *h, struct MHD_Connection *c, struct route *r)
{
	int want = CONN_HTTP_TEXT;
	struct snap *s;
	enum MHD_Result ret;

	if (r->flags & CONN_HTTP_NEGOTIATE)
		want = conn_http_prefers_openmetrics(
			   MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT))
			   ? CONN_HTTP_OPENMETRICS
			   : CONN_HTTP_TEXT;
	pthread_mutex_lock(&h->snap_lock);
	s = r->cur[want] ? r->cur[want] : r->cur[!want];
	if (s)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&h->snap_lock);
	if (!s)
		return reply(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, BODY_NOT_READY, NULL, NULL);
	if (s->status >= 400)
		atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
	ret = MHD_queue_response(c, s->status, s->resp);
	snap_unref(s);
	return ret;
}

/* Constant-time (in the token's content) check of "Bearer TOKEN". */
static int bearer_ok(const char *hdr, const struct route *r)
{
	const char *p;
	size_t n;
	unsigned char diff;

	if (!hdr || strncasecmp(hdr, "Bearer", 6) || (hdr[6] != ' ' && hdr[6] != '\t'))
		return 0;
	p = hdr + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	diff = n != r->token_len;
	for (size_t i = 0; i < r->token_len; i++)
		diff |= (unsigned char)(r->token[i] ^ (i < n ? p[i] : 0));
	return diff == 0;
}

/* Appends upload data to u, growing the buffer up to max_body + 1. 0, -1 over the limit, -2
 * out of memory. */
static int append(struct upload *u, const char *data, size_t n)
{
	size_t max = u->r->max_body;

	if (n > max - u->len)
		return -1;
	if (u->len + n + 1 > u->cap) {
		size_t cap = u->cap ? u->cap : 4096;
		char *b;

		while (cap < u->len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		b = realloc(u->buf, cap);
		if (!b)
			return -2;
		u->buf = b;
		u->cap = cap;
	}
	memcpy(u->buf + u->len, data, n);
	u->len += n;
	u->buf[u->len] = '\0';
	return 0;
}

static enum MHD_Result serve_post(struct conn_http *h, struct MHD_Connection *c, struct route *r,
				  const char *data, size_t *size, void **cls)
{
	struct upload *u = *cls;

	if (!u) { /* headers only: decide before reading the body */
		const char *cl;

		if (r->token && !bearer_ok(MHD_lookup_connection_value(
					       c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
					   r))
			return reply(c, r, MHD_HTTP_UNAUTHORIZED, BODY_UNAUTH,
				     MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"driftd\"");
		cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *e;
			unsigned long long v;

			errno = 0;
			v = strtoull(cl, &e, 10);
			if (errno || e == cl || v > r->max_body)
				return reply(c, r, MHD_HTTP_CONTENT_TOO_LARGE, BODY_TOO_LARGE, NULL,
					     NULL);
		}
		u = calloc(1, sizeof *u);
		if (!u)
			return MHD_NO;
		u->r = r;
		*cls = u;
		return MHD_YES;
	}
	if (*size) { /* a piece of the body */
		int rc = u->too_large ? 0 : append(u, data, *size);

		if (rc == -2)
			return MHD_NO; /* out of memory: close the connection */
		if (rc == -1) {
			u->too_large = 1;
			free(u->buf);
			u->buf = NULL;
			u->len = u->cap = 0;
		}
		*size = 0; /* over the limit: discarded (the deadline bounds how long) */
		return MHD_YES;
	}
	/* the whole body is here */
	if (u->too_large)
		return reply(c, r, MHD_HTTP_CONTENT_TOO_LARGE, BODY_TOO_LARGE, NULL, NULL);
	{
		char out[REPLY_CAP];
		int status;

		out[0] = '\0';
		status = r->fn(r->arg, u->buf ? u->buf : "", u->len, out, sizeof out);
		out[sizeof out - 1] = '\0';
		if (status < 100 || status > 599) {
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			snprintf(out, sizeof out, "internal error\n");
		}
		return reply(c, r, (unsigned)status, out, NULL, NULL);
	}
}

/* The con_cls of a GET or HEAD between its two calls. MHD 0.9.75 closes the connection after
 * a response queued on the first call (made before the request is complete), so GET and HEAD
 * answer on the second one and keep their connection alive; other methods with an error are
 * answered at once and closed (their body is never read). */
static int get_pending;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **ccls)
{
	struct conn_http *h = cls;
	int get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	struct route *r;

	(void)version;
	if (*ccls == &get_pending) {
		if (*size) { /* a body on a GET: dropped */
			*size = 0;
			return MHD_YES;
		}
		*ccls = NULL;
	} else if (*ccls) { /* a POST body in progress */
		return serve_post(h, c, ((struct upload *)*ccls)->r, data, size, ccls);
	} else if (get) {
		*ccls = &get_pending;
		return MHD_YES;
	}
	r = find_route(h, url);
	if (!r) {
		atomic_fetch_add_explicit(&h->not_found, 1, memory_order_relaxed);
		return reply(c, NULL, MHD_HTTP_NOT_FOUND, BODY_NOT_FOUND, NULL, NULL);
	}
	atomic_fetch_add_explicit(&r->requests, 1, memory_order_relaxed);
	if (r->post) {
		if (strcmp(method, MHD_HTTP_METHOD_POST))
			return reply(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, BODY_NOT_ALLOWED,
				     MHD_HTTP_HEADER_ALLOW, "POST");
		return serve_post(h, c, r, data, size, ccls);
	}
	if (!get)
		return reply(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, BODY_NOT_ALLOWED,
			     MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return serve_get(h, c, r);
}

/* ---- connection tracking and the watchdog ---- */

static void on_completed(void *cls, struct MHD_Connection *c, void **ccls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_http *h = cls;
	struct upload *u = *ccls == &get_pending ? NULL : *ccls;
	const union MHD_ConnectionInfo *ci;

	if (u) {
		free(u->buf);
		free(u);
	}
	*ccls = NULL;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		atomic_fetch_add_explicit(&h->timeouts, 1, memory_order_relaxed);
	else if (toe == MHD_REQUEST_TERMINATED_READ_ERROR ||
		 toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ||
		 toe == MHD_REQUEST_TERMINATED_WITH_ERROR)
		atomic_fetch_add_explicit(&h->aborted, 1, memory_order_relaxed);
	/* the next request on this connection gets a fresh deadline */
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context) {
		struct track *t = ci->socket_context;

		pthread_mutex_lock(&h->watch_lock);
		t->deadline = mono() + h->conf.timeout_s;
		pthread_mutex_unlock(&h->watch_lock);
	}
}

static void on_connection(void *cls, struct MHD_Connection *c, void **sctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct conn_http *h = cls;
	struct track *t;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd, *addr;

		t = calloc(1, sizeof *t);
		fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!t || !fd) { /* untracked: MHD's idle timeout still applies */
			free(t);
			return;
		}
		addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		peer_name(addr ? addr->client_addr : NULL, t->peer, sizeof t->peer);
		t->fd = fd->connect_fd;
		pthread_mutex_lock(&h->watch_lock);
		t->deadline = mono() + h->conf.timeout_s;
		t->next = h->tracks;
		if (h->tracks)
			h->tracks->prev = t;
		h->tracks = t;
		pthread_mutex_unlock(&h->watch_lock);
		*sctx = t;
		return;
	}
	t = *sctx;
	if (!t)
		return;
	pthread_mutex_lock(&h->watch_lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		h->tracks = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&h->watch_lock);
	free(t);
	*sctx = NULL;
}

static void *watchdog(void *arg)
{
	struct conn_http *h = arg;

	pthread_mutex_lock(&h->watch_lock);
	while (!h->stop) {
		char peers[WATCH_LOG_MAX][sizeof((struct track *)0)->peer];
		struct timespec ts;
		size_t ncut = 0;
		double now;

		ts = conn_clock_deadline(WATCH_PERIOD_MS);
		pthread_cond_timedwait(&h->watch_cond, &h->watch_lock, &ts);
		now = mono();
		for (struct track *t = h->tracks; t && !h->stop; t = t->next) {
			if (t->cut || now < t->deadline)
				continue;
			t->cut = 1;
			shutdown(t->fd, SHUT_RDWR);
			atomic_fetch_add_explicit(&h->cut, 1, memory_order_relaxed);
			if (ncut < WATCH_LOG_MAX)
				memcpy(peers[ncut++], t->peer, sizeof t->peer);
		}
		if (!ncut)
			continue;
		/* log without the lock: the log sink may be slow */
		pthread_mutex_unlock(&h->watch_lock);
		for (size_t i = 0; i < ncut; i++)
			logf_(h, LOG_NOTICE,
			      "http: connection from %s cut: request not done within %u s",
			      peers[i], h->conf.timeout_s);
		pthread_mutex_lock(&h->watch_lock);
	}
	pthread_mutex_unlock(&h->watch_lock);
	return NULL;
}

/* ---- address ---- */

/* "HOST:PORT", "[V6]:PORT", ":PORT" (text.h's HOST:PORT, port 0: the system picks one) -> a
 * bound, listening socket. -1 with errbuf. */
static int bind_listen(const char *spec, unsigned *port, char *errbuf, size_t errlen)
{
	struct conn_hostport hp;
	const char *host;
	char portstr[8];
	struct addrinfo hints, *res = NULL;
	int fd, rc, one = 1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (conn_text_hostport(spec, strlen(spec),
			       CONN_TEXT_HP_PORT | CONN_TEXT_HP_EMPTY | CONN_TEXT_HP_PORT0,
			       &hp) < 0) {
		snprintf(errbuf, errlen,
			 "listen address %s: expected HOST:PORT, [IPV6]:PORT or :PORT (port "
			 "0-65535)",
			 spec);
		return -1;
	}
	host = hp.host;
	snprintf(portstr, sizeof portstr, "%d", hp.port);

	memset(&hints, 0, sizeof hints);
	hints.ai_family = hp.bracketed ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (host[0] ? 0 : AI_PASSIVE);
	if (!host[0])
		hints.ai_family = AF_INET;
	if (hp.bracketed)
		hints.ai_flags |= AI_NUMERICHOST;
	rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
	if (rc) {
		snprintf(errbuf, errlen, "listen address %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(errbuf, errlen, "listen address %s: socket: %s", spec, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(errbuf, errlen, "listen address %s: %s", spec, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	*port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* ---- API ---- */

void conn_http_conf_default(struct conn_http_conf *c)
{
	memset(c, 0, sizeof *c);
	c->listen = "127.0.0.1:9640";
	c->threads = 1;
	c->max_connections = 64;
	c->max_per_ip = 0;
	c->conn_memory = 32 * 1024;
	c->timeout_s = 10;
	c->max_body = 1024 * 1024;
}

struct conn_http *conn_http_new(const struct conn_http_conf *c, char *errbuf, size_t errlen)
{
	struct conn_http *h;

	if (!c->listen || strlen(c->listen) >= sizeof h->listen_buf) {
		snprintf(errbuf, errlen, "listen address missing or too long");
		return NULL;
	}
	if (c->threads < 1 || c->threads > MAX_THREADS || c->max_connections < 1 ||
	    c->conn_memory < MIN_CONN_MEMORY || c->timeout_s < 1 || c->max_body < 1 ||
	    c->max_connections < c->threads) {
		snprintf(errbuf, errlen,
			 "http limits out of range (threads 1-%d, max_connections >= threads, "
			 "conn_memory >= %d, timeout_s >= 1, max_body >= 1)",
			 MAX_THREADS, MIN_CONN_MEMORY);
		return NULL;
	}
	h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	h->conf = *c;
	strcpy(h->listen_buf, c->listen);
	h->conf.listen = h->listen_buf;
	h->lfd = bind_listen(h->listen_buf, &h->port, errbuf, errlen);
	if (h->lfd < 0) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->snap_lock, NULL);
	pthread_mutex_init(&h->watch_lock, NULL);
	conn_clock_cond_init(&h->watch_cond);
	return h;
}

void conn_http_free(struct conn_http *h)
{
	if (!h)
		return;
	if (h->watch_started) {
		pthread_mutex_lock(&h->watch_lock);
		h->stop = 1;
		pthread_cond_signal(&h->watch_cond);
		pthread_mutex_unlock(&h->watch_lock);
		pthread_join(h->watch_thread, NULL);
	}
	if (h->d)
		MHD_stop_daemon(h->d); /* closes the connections and the listening socket */
	if (h->lfd >= 0)
		close(h->lfd);
	for (size_t i = 0; i < h->nroutes; i++) {
		struct route *r = &h->routes[i];

		snap_unref(r->cur[0]);
		snap_unref(r->cur[1]);
		free(r->path);
		if (r->token) {
			memset(r->token, 0, r->token_len);
			free(r->token);
		}
	}
	while (h->tracks) { /* none once MHD stopped; in case */
		struct track *t = h->tracks;
		h->tracks = t->next;
		free(t);
	}
	pthread_cond_destroy(&h->watch_cond);
	pthread_mutex_destroy(&h->watch_lock);
	pthread_mutex_destroy(&h->snap_lock);
	free(h);
}

unsigned conn_http_port(const struct conn_http *h)
{
	return h->port;
}

const char *conn_http_error(const struct conn_http *h)
{
	return h->err;
}

static struct route *add_route(struct conn_http *h, const char *path)
{
	struct route *r;

	if (h->d) {
		seterr(h, "route %s: the server is already started", path);
		return NULL;
	}
	if (!path || path[0] != '/') {
		seterr(h, "route %s: a path starts with /", path ? path : "(null)");
		return NULL;
	}
	if (find_route(h, path)) {
		seterr(h, "route %s: declared twice", path);
		return NULL;
	}
	if (h->nroutes == CONN_HTTP_MAX_ROUTES) {
		seterr(h, "route %s: more than %d routes", path, CONN_HTTP_MAX_ROUTES);
		return NULL;
	}
	r = &h->routes[h->nroutes];
	memset(r, 0, sizeof *r);
	r->path = strdup(path);
	if (!r->path) {
		seterr(h, "out of memory");
		return NULL;
	}
	h->nroutes++;
	return r;
}

int conn_http_route_get(struct conn_http *h, const char *path, int flags)
{
	struct route *r = add_route(h, path);

	if (!r)
		return -1;
	r->flags = flags & CONN_HTTP_NEGOTIATE;
	return 0;
}

int conn_http_route_post(struct conn_http *h, const char *path, const char *token, size_t max_body,
			 conn_http_post_fn fn, void *arg)
{
	struct route *r;

	if (!fn) {
		seterr(h, "route %s: no handler", path ? path : "(null)");
		return -1;
	}
	r = add_route(h, path);
	if (!r)
		return -1;
	r->post = 1;
	r->fn = fn;
	r->arg = arg;
	r->max_body = max_body ? max_body : h->conf.max_body;
	if (token && token[0]) {
		r->token = strdup(token);
		if (!r->token) { /* undeclare the route: never serve it without its token */
			seterr(h, "out of memory");
			free(r->path);
			h->nroutes--;
			return -1;
		}
		r->token_len = strlen(token);
	}
	return 0;
}

int conn_http_start(struct conn_http *h)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	struct MHD_OptionItem opts[16];
	struct MHD_Daemon *d;
	int n = 0;

	if (h->d) {
		seterr(h, "already started");
		return -1;
	}
	if (h->conf.log) {
		flags |= MHD_USE_ERROR_LOG;
		opts[n++] =
		    (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, h };
	}
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	else
		flags |= MHD_USE_POLL;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, h->lfd, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
					     (intptr_t)h->conf.max_connections, NULL };
	if (h->conf.max_per_ip)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
						     (intptr_t)h->conf.max_per_ip, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
					     (intptr_t)h->conf.conn_memory, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
					     (intptr_t)h->conf.timeout_s, NULL };
	opts[n++] =
	    (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h };
	opts[n++] =
	    (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h };
	if (h->conf.threads > 1)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
						     (intptr_t)h->conf.threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	if (pthread_create(&h->watch_thread, NULL, watchdog, h)) {
		seterr(h, "http: cannot start the watchdog thread");
		return -1;
	}
	h->watch_started = 1;
	pthread_mutex_lock(&h->watch_lock);
	h->starting = 1;
	pthread_mutex_unlock(&h->watch_lock);
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, opts,
			     MHD_OPTION_END);
	pthread_mutex_lock(&h->watch_lock);
	h->starting = 0;
	h->d = d;
	pthread_mutex_unlock(&h->watch_lock);
	if (!d) {
		seterr(h, "http: libmicrohttpd could not start on %s%s%s", h->conf.listen,
		       h->mhd_msg[0] ? ": " : "", h->mhd_msg);
		return -1;
	}
	h->lfd = -1; /* MHD's now */
	logf_(h, LOG_INFO, "http: listening on %s (port %u)", h->conf.listen, h->port);
	return 0;
}

int conn_http_publish(struct conn_http *h, const char *path, enum conn_http_variant variant,
		      unsigned status, const char *content_type, const char *body, size_t len)
{
	struct route *r = find_route(h, path);
	struct snap *s, *old;
	char *copy;

	if (!r || r->post || (variant != CONN_HTTP_TEXT && variant != CONN_HTTP_OPENMETRICS) ||
	    (variant == CONN_HTTP_OPENMETRICS && !(r->flags & CONN_HTTP_NEGOTIATE)) ||
	    status < 100 || status > 599 || !content_type)
		return -1;
	s = malloc(sizeof *s);
	copy = malloc(len ? len : 1);
	if (!s || !copy) {
		free(s);
		free(copy);
		return -1;
	}
	if (len)
		memcpy(copy, body, len);
	s->resp = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
	if (!s->resp) {
		free(copy);
		free(s);
		return -1;
	}
	if (MHD_add_response_header(s->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) !=
		MHD_YES ||
	    ((r->flags & CONN_HTTP_NEGOTIATE) &&
	     MHD_add_response_header(s->resp, MHD_HTTP_HEADER_VARY, "Accept") != MHD_YES) ||
	    MHD_add_response_header(s->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") !=
		MHD_YES) {
		MHD_destroy_response(s->resp);
		free(s);
		return -1;
	}
	s->status = status;
	atomic_init(&s->refs, 1);
	pthread_mutex_lock(&h->snap_lock);
	old = r->cur[variant];
	r->cur[variant] = s;
	pthread_mutex_unlock(&h->snap_lock);
	snap_unref(old);
	return 0;
}

int conn_http_route_stats(const struct conn_http *h, const char *path,
			  struct conn_http_route_stats *out)
{
	const struct route *r = find_route((struct conn_http *)h, path);

	if (!r)
		return -1;
	out->requests = atomic_load_explicit(&r->requests, memory_order_relaxed);
	out->errors = atomic_load_explicit(&r->errors, memory_order_relaxed);
	return 0;
}

void conn_http_stats(const struct conn_http *h, struct conn_http_stats *out)
{
	out->not_found = atomic_load_explicit(&h->not_found, memory_order_relaxed);
	out->cut = atomic_load_explicit(&h->cut, memory_order_relaxed);
	out->timeouts = atomic_load_explicit(&h->timeouts, memory_order_relaxed);
	out->aborted = atomic_load_explicit(&h->aborted, memory_order_relaxed);
}
