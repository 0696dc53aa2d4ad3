/*
 * endpoint.h -- the one parser of driftd's endpoint specs: where records come from, where
 * events and dead letters go, where the labels are read and where the state is stored.
 *
 *   spec                                          kind                 roles
 *   file:PATH                                     CONN_ENDPOINT_FILE   source, sink
 *   file:-  (standard input / standard output)    CONN_ENDPOINT_FILE   source, sink
 *   kafka:TOPIC[,TOPIC...]                        CONN_ENDPOINT_KAFKA  source (1 or more),
 *                                                                      sink, topic (exactly 1)
 *   dir:PATH                                      CONN_ENDPOINT_DIR    store
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]    CONN_ENDPOINT_REDIS  store
 *   redis+unix://[[USER]:PASSWORD@]PATH[?db=N]    CONN_ENDPOINT_REDIS_UNIX  store
 *   unix:PATH[?db=N]                              CONN_ENDPOINT_REDIS_UNIX  store
 *
 * The grammar, exactly:
 *   - PATH (file:, dir:) is any non-empty text; a socket PATH is 1 to 107 bytes (sun_path).
 *   - TOPIC is 1 to 249 of [A-Za-z0-9._-]; topics are separated by single commas.
 *   - HOST[:PORT] is text.h's conn_text_hostport (an IPv6 literal in brackets, PORT 1..65535,
 *     6379 when absent); DB and N are 1 to 9 digits (0 to INT_MAX), 0 when absent; "/" alone
 *     is database 0.
 *   - USER and PASSWORD are percent-decoded (%40 for '@', %3A for ':', %2F for '/'); the
 *     *last* '@' of the spec ends them, the first ':' before it separates them. "PASSWORD@"
 *     without the ':' is refused (a password alone is ":PASSWORD@"), so is an empty password.
 *   - rediss:// (TLS) is refused with its own message: hiredis 0.14 has no TLS.
 *
 * Secrets: an error message never quotes the spec (it may hold a password), and
 * conn_endpoint_mask is the one way to show a spec: the password becomes "***".
 *
 * Use:
 *     struct conn_endpoint ep;
 *     char err[256];
 *
 *     if (conn_endpoint_parse(c->store, CONN_ENDPOINT_STORE, &ep, err, sizeof err) < 0)
 *             return fail("store: %s", err);
 *     ... ep.kind, ep.host, ep.port, ep.db, ep.password ...
 *     conn_endpoint_free(&ep);
 */
#ifndef DRIFTD_CONN_ENDPOINT_H
#define DRIFTD_CONN_ENDPOINT_H

#include <stddef.h>

enum conn_endpoint_kind {
	CONN_ENDPOINT_NONE = 0,	  /* not parsed (a zeroed or freed struct) */
	CONN_ENDPOINT_FILE,	  /* file:PATH, file:- */
	CONN_ENDPOINT_KAFKA,	  /* kafka:TOPIC[,TOPIC...] */
	CONN_ENDPOINT_DIR,	  /* dir:PATH */
	CONN_ENDPOINT_REDIS,	  /* redis://... (TCP) */
	CONN_ENDPOINT_REDIS_UNIX, /* redis+unix://... or unix:... (a Unix socket) */
};

/* What the spec is for: it decides which kinds are accepted and the message of a refusal. */
enum conn_endpoint_role {
	CONN_ENDPOINT_SOURCE, /* records: file:PATH, file:-, kafka:TOPIC[,TOPIC...] */
	CONN_ENDPOINT_SINK,   /* events: file:PATH, file:-, kafka:TOPIC */
	CONN_ENDPOINT_TOPIC,  /* labels, dead letters: kafka:TOPIC */
	CONN_ENDPOINT_STORE,  /* dir:PATH, redis://..., redis+unix://..., unix:PATH */
};

#define CONN_ENDPOINT_MAX_TOPIC	 249  /* bytes of a Kafka topic name */
#define CONN_ENDPOINT_REDIS_PORT 6379 /* the port of a redis:// spec without one */

/* A parsed spec. Every pointer points into memory the struct owns (freed, the password
 * zeroed, by conn_endpoint_free); fields that do not apply to the kind are NULL or 0. */
struct conn_endpoint {
	enum conn_endpoint_kind kind;
	const char *path; /* FILE, DIR: the path ("-" for file:-); REDIS_UNIX: the socket */
	int std;	  /* FILE: 1 for file:- (standard input for a source, output for a sink) */
	const char *const *topics; /* KAFKA: the ntopics topics, in spec order */
	size_t ntopics;
	const char *host;     /* REDIS: the host, without brackets */
	int port;	      /* REDIS: the port (CONN_ENDPOINT_REDIS_PORT when not given) */
	int bracketed;	      /* REDIS: the host was written in brackets (an IPv6 literal) */
	int db;		      /* REDIS, REDIS_UNIX: the database (0 when not given) */
	const char *user;     /* REDIS, REDIS_UNIX: the ACL user (percent-decoded), or NULL */
	const char *password; /* REDIS, REDIS_UNIX: percent-decoded, or NULL; never show it */
	size_t password_len;  /* its bytes */
	const char *where;    /* for messages, never holding the password: "HOST:PORT",
			       * "[HOST]:PORT", "unix:PATH", or the spec itself (file:, kafka:,
			       * dir:) */
	char *mem_;	      /* private: the strings */
	size_t memlen_;	      /* private: bytes of mem_ */
	const char **topicv_; /* private: the topics array */
};

/* Parses spec for role into *ep (overwritten; free it with conn_endpoint_free). 0, or -1
 * with *ep zeroed and a message in errbuf that never quotes spec. A kind the role does not
 * take, and every malformed file:/kafka: spec, gets exactly the role's message,
 * conn_endpoint_expected(role) ("expected file:PATH, file:- or kafka:TOPIC", ...); an empty
 * dir: path "dir: empty path (" that message ")"; a malformed Redis spec a message naming the
 * part ("redis: the port must be 1 to 65535", ...); out of memory "out of memory". */
int conn_endpoint_parse(const char *spec, enum conn_endpoint_role role, struct conn_endpoint *ep,
			char *errbuf, size_t errlen);
/* The forms role takes, as conn_endpoint_parse writes them when a spec is none of them
 * ("expected dir:PATH, redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:PATH" for the store): a
 * caller compares its message with this to tell "not a kind of this role" from "malformed". */
const char *conn_endpoint_expected(enum conn_endpoint_role role);
/* Frees what *ep holds (zeroing the password) and zeroes *ep; a zeroed *ep is fine. */
void conn_endpoint_free(struct conn_endpoint *ep);

/* Writes spec for display into out (cap bytes, NUL-terminated when cap > 0) and returns the
 * length of the whole display (like snprintf). Works on any text, parsed or not:
 *   - file:..., kafka:..., dir:..., unix:... are shown as they are (no password in them);
 *   - redis://, redis+unix:// and rediss:// specs with an '@': the part between the first ':'
 *     after the "://" and the last '@' becomes "***" (redis://user:***@host:6379/1); without
 *     that ':' the whole part before the '@' does; without an '@' the spec is shown as is;
 *   - anything else (NULL included) is shown as "***": it could be a bare password. */
size_t conn_endpoint_mask(const char *spec, char *out, size_t cap);

#endif
