/*
 * http.h -- the agent's HTTP server (libmicrohttpd): GET paths that serve immutable snapshots the
 * agent loop publishes (/metrics, /healthz, /readyz), and POST paths that hand a bounded body to
 * a callback (/alertmanager). See doc/http.md for what clients see.
 *
 * Threads. The server runs in its own thread(s) (libmicrohttpd's internal polling thread, epoll
 * when available, or a pool of them) plus one watchdog thread that cuts requests exceeding their
 * deadline. A GET never waits for the agent: conn_http_publish swaps a reference-counted,
 * pre-built response under a mutex held for the pointer swap only; a request in flight keeps the
 * snapshot it took alive until its last byte is sent. A POST callback runs on an HTTP thread.
 *
 * Lifecycle. conn_http_new binds the listening socket (so the port is known and bind errors
 * surface at once); conn_http_route_get / conn_http_route_post declare the paths, before
 * conn_http_start (the route table is immutable while serving: no lock on lookup);
 * conn_http_publish may be called from any thread at any time after the route exists;
 * conn_http_free stops everything and joins the threads.
 *
 * Limits, all configurable (struct conn_http_conf): connections at once, connections per client
 * IP, memory per connection (request line and headers: larger gets 431/413 from libmicrohttpd),
 * POST body bytes (larger gets 413 before any body byte is read when Content-Length says so; a
 * chunked body is dropped from where it crosses the limit, read to its end and answered 413),
 * and one timeout: a connection idle for
 * timeout_s seconds is closed, and so is one whose current request (headers, body and response)
 * is not done timeout_s seconds after the previous one finished or the connection opened -- a
 * client dribbling bytes is cut off however steadily it dribbles.
 *
 * Secrets. A route's bearer token is compared in time independent of its content, never logged,
 * never echoed; request headers and bodies are never logged.
 */
#ifndef DRIFTD_CONN_HTTP_H
#define DRIFTD_CONN_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Log sink: level is a syslog level (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG);
 * msg is one line without a newline. Called from the server's threads. */
typedef void (*conn_http_log_fn)(void *arg, int level, const char *msg);

/* A POST handler. body[0..len) is the whole request body, NUL-terminated at body[len] (it may
 * contain NUL bytes of its own); it is valid during the call only. Write a reply (text, UTF-8,
 * NUL-terminated, at most replycap bytes with the NUL; sent as text/plain) into reply and
 * return the HTTP status (100..599; anything else becomes 500). Runs on an HTTP thread,
 * concurrently with other requests (and with itself when threads > 1): it must be cheap and
 * thread-safe -- parse, enqueue for the agent loop, return; never block on the loop. */
typedef int (*conn_http_post_fn)(void *arg, const char *body, size_t len, char *reply,
				 size_t replycap);

struct conn_http_conf {
	const char *listen;	  /* "HOST:PORT": an IPv4 literal, "[IPv6 literal]", a host name
				   * (first address), or empty for every IPv4 interface; port 0:
				   * ephemeral (conn_http_port). Default "127.0.0.1:9640" */
	unsigned threads;	  /* 1: one polling thread (default); 2..8: a pool */
	unsigned max_connections; /* open at once; more wait in the backlog (default 64) */
	unsigned max_per_ip;	  /* connections at once per client address, 0 = no limit (0) */
	size_t conn_memory;	  /* bytes per connection for the request line and headers
				   * (default 32 KiB, at least 4 KiB) */
	unsigned timeout_s;	  /* idle timeout and per-request deadline, seconds (default 10) */
	size_t max_body;	  /* POST body bytes when the route says 0 (default 1 MiB) */
	conn_http_log_fn log;	  /* NULL: silent */
	void *log_arg;
};

/* The defaults above. */
void conn_http_conf_default(struct conn_http_conf *c);

struct conn_http;

/* Parses c->listen, binds and listens (nothing is served before conn_http_start). The conf is
 * copied. NULL with a message in errbuf on a bad address, a limit out of range, a bind error. */
struct conn_http *conn_http_new(const struct conn_http_conf *c, char *errbuf, size_t errlen);
/* Stops the server (open connections are closed), joins its threads, frees the snapshots that
 * no request holds any more. NULL is ignored. */
void conn_http_free(struct conn_http *h);
/* The bound TCP port (the ephemeral one when the conf said 0). */
unsigned conn_http_port(const struct conn_http *h);
/* The first error of the set-up calls (conn_http_route_*, conn_http_start); "" when none.
 * conn_http_publish only returns -1 (it may run on several threads: it keeps no message). */
const char *conn_http_error(const struct conn_http *h);

#define CONN_HTTP_MAX_ROUTES 16

/* Route flag of a GET path: content negotiation between the Prometheus text format (variant
 * CONN_HTTP_TEXT) and OpenMetrics (CONN_HTTP_OPENMETRICS) by the Accept header; its responses
 * carry "Vary: Accept". */
#define CONN_HTTP_NEGOTIATE 1

/* Declares a GET path (HEAD too). Until something is published for it, it answers 503. path is
 * matched exactly against the request path (the query string is ignored). 0, or -1 (duplicate
 * path, too many routes, already started). */
int conn_http_route_get(struct conn_http *h, const char *path, int flags);
/* Declares a POST path. token: when non-NULL and non-empty, requests must carry
 * "Authorization: Bearer TOKEN" (else 401); copied. max_body: 0 = the conf's. 0 or -1. */
int conn_http_route_post(struct conn_http *h, const char *path, const char *token, size_t max_body,
			 conn_http_post_fn fn, void *arg);
/* Starts serving. 0, or -1 (libmicrohttpd refused to start; the message says why). */
int conn_http_start(struct conn_http *h);

/* What a GET path serves: the default body, and on a negotiated route the one served when the
 * client prefers application/openmetrics-text (conn_http_prefers_openmetrics). */
enum conn_http_variant {
	CONN_HTTP_TEXT = 0,
	CONN_HTTP_OPENMETRICS = 1,
};

/* The Content-Type values of the two /metrics variants. */
#define CONN_HTTP_CT_PROMETHEUS	 "text/plain; version=0.0.4; charset=utf-8"
#define CONN_HTTP_CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Replaces what GET path serves for variant: status (200, 503, ...), content_type and a copy of
 * body[0..len). The copy and the response are built before the lock; the lock covers the
 * pointer swap only. Requests already holding the old snapshot finish with it. Thread-safe.
 * When a negotiated route has only one variant published, that one is served to every client.
 * 0, or -1 (unknown GET path, variant not allowed on the route, status out of 100..599, no
 * memory). */
int conn_http_publish(struct conn_http *h, const char *path, enum conn_http_variant variant,
		      unsigned status, const char *content_type, const char *body, size_t len);

/* 1 when the Accept header value asks for OpenMetrics before the Prometheus text format: the
 * q-value of application/openmetrics-text (version 1.0.0 or 0.0.1, or no version) -- taken from
 * the most specific media range that matches it, as RFC 9110 says -- is above 0 and strictly
 * above that of text/plain (version 0.0.4 or none). 0 otherwise, and for NULL (no header). */
int conn_http_prefers_openmetrics(const char *accept);

/* ---- counters (atomic, readable from any thread) ---- */

struct conn_http_route_stats {
	uint64_t requests; /* every request for the path, whatever its method and outcome */
	uint64_t errors;   /* those answered with a status >= 400 (401, 405, 413, the handler's) */
};
/* 0, or -1 for an unknown path. */
int conn_http_route_stats(const struct conn_http *h, const char *path,
			  struct conn_http_route_stats *out);

struct conn_http_stats {
	uint64_t not_found; /* requests for a path no route declares (404) */
	uint64_t cut;	    /* connections cut by the per-request deadline (slow clients) */
	uint64_t timeouts;  /* requests ended by libmicrohttpd's idle timeout */
	uint64_t aborted;   /* requests ended by a client that went away or a read error */
};
void conn_http_stats(const struct conn_http *h, struct conn_http_stats *out);

#endif
