/*
 * test_store_redis.c -- the Redis store (connectors/store_redis*.c) against real redis-servers
 * this test starts itself: one on a Unix socket, one on a free TCP port with --requirepass and
 * an ACL user. The behaviour every backend owes store.h (store_suite.h) runs on both (the TCP
 * one through AUTH and SELECT 3), then what is particular to Redis: the spec syntax, AUTH and a
 * password that never appears in an error, the keys (hash tags, types, the claims' TTL),
 * corrupt and foreign values, the 64 MiB bound, a server killed and restarted mid-test (calls
 * fail cleanly while it is down and succeed again on the same handle), and a frozen server (the
 * command timeout).
 *
 * The servers are children of this process: stopped by the group teardown, by an atexit handler
 * when a test fails, by a handler of fatal signals (abort, ^C, a timeout's SIGTERM), and by the
 * kernel (PR_SET_PDEATHSIG) should this process die any other way. Skips (TAP "1..0 # SKIP",
 * exit 0) only when /usr/bin/redis-server is missing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "connectors/store.h"
#include "testutil.h"
#include "store_suite.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef REDIS_SERVER
#define REDIS_SERVER "/usr/bin/redis-server"
#endif
#define PASSWORD     "Sup3r@Secret:pw/x" /* '@', ':' and '/' on purpose */
#define PASSWORD_ENC "Sup3r%40Secret%3Apw%2Fx"
#define SECRET	     "Secret" /* what must never appear in an error */
#define ALICE_PW     "alice-Secret"

/* ---- servers ---- */

struct server {
	pid_t pid;     /* 0 when not running */
	char dir[64];  /* its temporary directory (--dir, the socket, the log) */
	char sock[96]; /* the Unix socket; "" for the TCP server */
	char log[96];  /* its stdout and stderr */
	int port;      /* the TCP port; 0 for the Unix server */
};

static struct server unix_srv, tcp_srv;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A port nobody listens on right now (bind port 0, read it back, close). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A connection for inspecting the server behind the store's back (AUTHed on the TCP one). */
static redisContext *admin(const struct server *sv)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = sv->sock[0] ? redisConnectUnixWithTimeout(sv->sock, tv)
				      : redisConnectWithTimeout("127.0.0.1", sv->port, tv);

	if (!c || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (!sv->sock[0]) {
		redisReply *r = redisCommand(c, "AUTH %s", PASSWORD);

		if (!r || r->type != REDIS_REPLY_STATUS) {
			if (r)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

/* One command on a fresh admin connection, in database db; the reply (caller frees). */
static redisReply *admin_cmd(const struct server *sv, int db, const char *fmt, ...)
{
	redisContext *c = admin(sv);
	redisReply *r;
	va_list ap;

	if (!c)
		fail_msg("admin connection to the %s server failed", sv->sock[0] ? "unix" : "tcp");
	r = redisCommand(c, "SELECT %d", db);
	assert_non_null(r);
	freeReplyObject(r);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	redisFree(c);
	return r;
}

/* Starts the server (fork + exec) and waits at most 5 s for it to answer. */
static void server_start(struct server *sv)
{
	char port[16];
	int64_t deadline;

	snprintf(port, sizeof port, "%d", sv->port);
	snprintf(sv->log, sizeof sv->log, "%s/redis.log", sv->dir);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (sv->pid == 0) {
		int fd = open(sv->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (sv->sock[0])
			execl(REDIS_SERVER, REDIS_SERVER, "--port", "0", "--unixsocket", sv->sock,
			      "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
			      "--dir", sv->dir, (char *)NULL);
		else
			execl(REDIS_SERVER, REDIS_SERVER, "--port", port, "--bind", "127.0.0.1",
			      "--requirepass", PASSWORD, "--user", "alice", "on", ">" ALICE_PW,
			      "~*", "&*", "+@all", "--save", "", "--appendonly", "no", "--dir",
			      sv->dir, (char *)NULL);
		_exit(127);
	}
	deadline = mono_ms() + 5000;
	for (;;) {
		redisContext *c = admin(sv);
		int st;

		if (c) {
			redisFree(c);
			return;
		}
		if (waitpid(sv->pid, &st, WNOHANG) == sv->pid) {
			sv->pid = 0;
			fail_msg("redis-server exited at start (see %s)", sv->log);
		}
		if (mono_ms() > deadline)
			fail_msg("redis-server did not answer within 5 s (see %s)", sv->log);
		sleep_ms(20);
	}
}

/* Stops the server: SIGTERM (after SIGCONT, should it be stopped), SIGKILL after 5 s; reaped. */
static void server_stop(struct server *sv, int sig)
{
	int64_t deadline = mono_ms() + 5000;

	if (sv->pid <= 0)
		return;
	kill(sv->pid, SIGCONT);
	kill(sv->pid, sig);
	while (waitpid(sv->pid, NULL, WNOHANG) != sv->pid) {
		if (mono_ms() > deadline) {
			kill(sv->pid, SIGKILL);
			waitpid(sv->pid, NULL, 0);
			break;
		}
		sleep_ms(10);
	}
	sv->pid = 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void server_cleanup(struct server *sv)
{
	server_stop(sv, SIGTERM);
	if (sv->dir[0])
		nftw(sv->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	sv->dir[0] = '\0';
}

/* atexit: whatever happened, no server is left running and no directory left behind. */
static pid_t main_pid;

static void cleanup_all(void)
{
	if (getpid() != main_pid)
		return; /* a forked child of a test */
	server_cleanup(&unix_srv);
	server_cleanup(&tcp_srv);
}

/* A fatal signal (abort, ^C, a timeout's SIGTERM): kill the servers, remove their files (all
 * async-signal-safe), then die of the signal. (A sanitizer's _exit skips this: the servers still
 * die of PR_SET_PDEATHSIG.) */
static void on_fatal(int sig)
{
	struct server *all[] = { &unix_srv, &tcp_srv };

	if (getpid() == main_pid) {
		for (size_t i = 0; i < 2; i++) {
			if (all[i]->pid > 0)
				kill(all[i]->pid, SIGKILL);
			if (all[i]->sock[0])
				unlink(all[i]->sock);
			if (all[i]->log[0])
				unlink(all[i]->log);
			if (all[i]->dir[0])
				rmdir(all[i]->dir);
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int group_setup(void **state)
{
	static const int fatal[] = { SIGABRT, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = on_fatal };

	(void)state;
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		sigaction(fatal[i], &sa, NULL);
	snprintf(unix_srv.dir, sizeof unix_srv.dir, "/tmp/driftd-test-redis-XXXXXX");
	assert_non_null(mkdtemp(unix_srv.dir));
	snprintf(unix_srv.sock, sizeof unix_srv.sock, "%s/redis.sock", unix_srv.dir);
	server_start(&unix_srv);
	snprintf(tcp_srv.dir, sizeof tcp_srv.dir, "/tmp/driftd-test-redis-XXXXXX");
	assert_non_null(mkdtemp(tcp_srv.dir));
	tcp_srv.port = free_port();
	server_start(&tcp_srv);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup_all();
	return 0;
}

/* ---- fixtures ---- */

struct fx {
	struct suite_fx sf; /* first: the spec and the open handle */
	struct server *sv;  /* the server behind it */
	int db;		    /* its database */
};

/* suite_fx.cut: the server killed (the next setup starts it again). */
static void cut(struct suite_fx *sf)
{
	server_stop(((struct fx *)sf)->sv, SIGKILL);
}

/* Empties the server (every database), makes sure it runs, opens spec. */
static int setup_spec(void **state, struct server *sv, int db, const char *spec)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	redisReply *r;

	assert_non_null(f);
	if (sv->pid == 0)
		server_start(sv);
	r = admin_cmd(sv, 0, "FLUSHALL");
	freeReplyObject(r);
	f->sv = sv;
	f->db = db;
	snprintf(f->sf.spec, sizeof f->sf.spec, "%s", spec);
	f->sf.cut = cut;
	f->sf.s = conn_store_open(f->sf.spec, err, sizeof err);
	if (!f->sf.s)
		fail_msg("open %s: %s", spec, err);
	*state = f;
	return 0;
}

static int setup_unix(void **state)
{
	char spec[128];

	snprintf(spec, sizeof spec, "unix:%s", unix_srv.sock);
	return setup_spec(state, &unix_srv, 0, spec);
}

static int setup_tcp(void **state)
{
	char spec[128];

	snprintf(spec, sizeof spec, "redis://:%s@127.0.0.1:%d/3", PASSWORD_ENC, tcp_srv.port);
	return setup_spec(state, &tcp_srv, 3, spec);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f) {
		conn_store_close(f->sf.s);
		free(f);
	}
	return 0;
}

/* ---- specs and AUTH ---- */

static void test_specs(void **state)
{
	struct fx *f = *state;
	static const char *bad[] = {
		"redis://",
		"redis://:" SECRET "@",
		"redis://:" SECRET "@host:0",
		"redis://:" SECRET "@host:65536",
		"redis://:" SECRET "@host:port",
		"redis://:" SECRET "@host:6379/x",
		"redis://:" SECRET "@host:6379/1?db=2",
		"redis://" SECRET "@host:6379",
		"redis://:%zz" SECRET "@host",
		"redis://:" SECRET "%00@host",
		"redis://:@host",
		"redis://:" SECRET "@[::1",
		"redis://:" SECRET "@[::1]x",
		"redis://:" SECRET "@ho st",
		"redis://:" SECRET "@a:b:c",
		"unix:",
		"unix:?db=1",
		"unix:/tmp/x.sock?db=x",
		"unix:/tmp/x.sock?other=1",
		"redis+unix://:" SECRET "@",
		"rediss://:" SECRET "@host:6380",
		("redis:/" SECRET),
	};
	char err[256], spec[256], longpath[200];
	struct conn_store *s;

	(void)f;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		s = conn_store_open(bad[i], err, sizeof err);
		if (s)
			fail_msg("spec %zu opened", i);
		if (!err[0] || strstr(err, SECRET))
			fail_msg("spec %zu: error \"%s\"", i, err);
	}
	memset(longpath, 'p', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	snprintf(spec, sizeof spec, "unix:/%s", longpath);
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_non_null(strstr(err, "socket path"));

	/* nobody there: refused at open, and the message says where */
	snprintf(spec, sizeof spec, "unix:%s/none.sock", unix_srv.dir);
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_non_null(strstr(err, "none.sock"));
	assert_non_null(strstr(err, "connect"));
	snprintf(spec, sizeof spec, "redis://:%s@127.0.0.1:%d", PASSWORD, free_port());
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_non_null(strstr(err, "127.0.0.1:"));
	assert_null(strstr(err, SECRET));

	/* the forms that work, each in its database */
	{
		const char *forms[] = { "unix:%s?db=2", "redis+unix://%s", "redis+unix://%s?db=2" };
		const int dbs[] = { 2, 0, 2 };

		for (size_t i = 0; i < 3; i++) {
			redisReply *r;

			snprintf(spec, sizeof spec, forms[i], unix_srv.sock);
			s = conn_store_open(spec, err, sizeof err);
			if (!s)
				fail_msg("%s: %s", spec, err);
			assert_int_equal(conn_store_hold_set(s, "spec", 1), 0);
			conn_store_close(s);
			r = admin_cmd(&unix_srv, dbs[i], "EXISTS driftd:{spec}:hold");
			assert_int_equal(r->integer, 1);
			freeReplyObject(r);
			r = admin_cmd(&unix_srv, dbs[i], "DEL driftd:{spec}:hold");
			freeReplyObject(r);
		}
	}
	/* an explicit / and no database, localhost by name, an IPv6 literal (when there is ::1) */
	{
		const char *hosts[] = { "redis://:%s@127.0.0.1:%d/", "redis://:%s@localhost:%d" };

		for (size_t i = 0; i < 2; i++) {
			snprintf(spec, sizeof spec, hosts[i], PASSWORD_ENC, tcp_srv.port);
			s = conn_store_open(spec, err, sizeof err);
			if (!s)
				fail_msg("%s: %s", hosts[i], err);
			conn_store_close(s);
		}
		snprintf(spec, sizeof spec, "redis://:%s@[::1]:%d", PASSWORD_ENC, tcp_srv.port);
		s = conn_store_open(spec, err, sizeof err);
		if (s)
			conn_store_close(s); /* the server binds 127.0.0.1 only: refused is fine */
		else
			assert_non_null(strstr(err, "[::1]:"));
		assert_null(strstr(err, SECRET));
	}
}

static void test_auth(void **state)
{
	struct fx *f = *state;
	char err[256], spec[256];
	struct conn_store *s;

	(void)f;
	/* the raw password (the last '@' ends it) and its percent-encoding */
	snprintf(spec, sizeof spec, "redis://:%s@127.0.0.1:%d/1", PASSWORD, tcp_srv.port);
	s = conn_store_open(spec, err, sizeof err);
	if (!s)
		fail_msg("open: %s", err);
	assert_int_equal(conn_store_claim(s, "auth/1"), 0);
	conn_store_close(s);
	/* an ACL user */
	snprintf(spec, sizeof spec, "redis://alice:%s@127.0.0.1:%d/1", ALICE_PW, tcp_srv.port);
	s = conn_store_open(spec, err, sizeof err);
	if (!s)
		fail_msg("open as alice: %s", err);
	assert_int_equal(conn_store_claim(s, "auth/1"), 1);
	conn_store_close(s);
	/* a wrong password, a wrong user, none at all: refused at open, nothing secret said */
	snprintf(spec, sizeof spec, "redis://:wrong%s@127.0.0.1:%d", SECRET, tcp_srv.port);
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_non_null(strstr(err, "AUTH"));
	assert_null(strstr(err, SECRET));
	snprintf(spec, sizeof spec, "redis://bob:%s@127.0.0.1:%d", PASSWORD_ENC, tcp_srv.port);
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_null(strstr(err, SECRET));
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d", tcp_srv.port);
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_non_null(strstr(err, "NOAUTH"));
	/* a database that does not exist */
	snprintf(spec, sizeof spec, "redis://:%s@127.0.0.1:%d/999", PASSWORD_ENC, tcp_srv.port);
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_non_null(strstr(err, "SELECT"));
	assert_null(strstr(err, SECRET));
}

/* ---- keys ---- */

/* The hash tag Redis Cluster computes for a key: between the first '{' and the first '}' after
 * it, when not empty; the whole key otherwise. */
static void cluster_tag(const char *key, size_t n, char *out, size_t cap)
{
	const char *open = memchr(key, '{', n), *close;

	if (open && (close = memchr(open + 1, '}', n - (size_t)(open + 1 - key))) &&
	    close > open + 1) {
		snprintf(out, cap, "%.*s", (int)(close - open - 1), open + 1);
		return;
	}
	snprintf(out, cap, "%.*s", (int)n, key);
}

static void test_keys(void **state)
{
	struct fx *f = *state;
	const char *models[] = { "fraud", "we}ird%", "{x}" };
	const char *tags[] = { "fraud", "we%7Dird%25", "{x%7D" };
	static const struct {
		const char *suffix;
		const char *type;
	} want[] = {
		{ "version:v1", "string" }, { "versions", "zset" },	 { "seq", "string" },
		{ "registered", "hash" },   { "baseline:v1", "string" }, { "good", "string" },
		{ "hold", "string" },	    { "latched", "set" },	 { "history", "stream" },
	};
	const size_t nwant = sizeof want / sizeof want[0];
	redisReply *r;
	size_t seen = 0;

	for (size_t m = 0; m < 3; m++) {
		suite_put_version(f->sf.s, models[m], "v1", 1);
		assert_int_equal(conn_store_baseline_put(f->sf.s, models[m], "v1", "{}", 2), 0);
		assert_int_equal(conn_store_good_set(f->sf.s, models[m], "v1"), 0);
		assert_int_equal(conn_store_hold_set(f->sf.s, models[m], 1), 0);
		assert_int_equal(conn_store_latch_set(f->sf.s, models[m], "v1", 1), 0);
		assert_int_equal(conn_store_history_append(f->sf.s, models[m], "{}", 2), 0);
	}
	assert_int_equal(conn_store_claim(f->sf.s, "fraud/v1/1000"), 0);

	/* exactly the documented keys, each of its type, each model's under its one tag */
	r = admin_cmd(f->sv, f->db, "KEYS *");
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 3 * nwant + 2);
	for (size_t i = 0; i < r->elements; i++) {
		const char *k = r->element[i]->str;
		size_t n = r->element[i]->len;
		char tag[300], key[600];
		redisReply *t;
		int ok = 0;

		if (!strcmp(k, "driftd:models")) {
			t = admin_cmd(f->sv, f->db, "TYPE %b", k, n);
			assert_string_equal(t->str, "set");
			freeReplyObject(t);
			continue;
		}
		if (!strcmp(k, "driftd:claim:{fraud/v1/1000}")) {
			t = admin_cmd(f->sv, f->db, "TTL %b", k, n);
			assert_true(t->integer > 0 && t->integer <= 30 * 24 * 3600);
			assert_true(t->integer > 30 * 24 * 3600 - 60);
			freeReplyObject(t);
			continue;
		}
		for (size_t m = 0; m < 3 && !ok; m++) {
			for (size_t w = 0; w < nwant && !ok; w++) {
				snprintf(key, sizeof key, "driftd:{%s}:%s", tags[m],
					 want[w].suffix);
				if (strlen(key) != n || memcmp(key, k, n) != 0)
					continue;
				ok = 1;
				seen++;
				t = admin_cmd(f->sv, f->db, "TYPE %b", k, n);
				if (strcmp(t->str, want[w].type))
					fail_msg("%s is a %s", key, t->str);
				freeReplyObject(t);
				/* the tag Redis Cluster hashes is the model's, for every key */
				cluster_tag(k, n, tag, sizeof tag);
				assert_string_equal(tag, tags[m]);
			}
		}
		if (!ok)
			fail_msg("unexpected key %.*s", (int)n, k);
	}
	assert_int_equal(seen, 3 * nwant);
	freeReplyObject(r);

	/* the history entries are stream entries with a doc field */
	r = admin_cmd(f->sv, f->db, "XRANGE driftd:{fraud}:history - +");
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->element[1]->element[0]->str, "doc");
	assert_string_equal(r->element[0]->element[1]->element[1]->str, "{}");
	freeReplyObject(r);
	/* registration bookkeeping */
	r = admin_cmd(f->sv, f->db, "HGET driftd:{fraud}:registered v1");
	assert_string_equal(r->str, "1");
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "GET driftd:{fraud}:hold");
	assert_string_equal(r->str, "1");
	freeReplyObject(r);
	/* a released hold is no key at all */
	assert_int_equal(conn_store_hold_set(f->sf.s, "fraud", 0), 0);
	r = admin_cmd(f->sv, f->db, "EXISTS driftd:{fraud}:hold");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
}

/* ---- foreign and corrupt values ---- */

/* A successful call: the next error is the first again. */
static void clear_error(struct fx *f)
{
	int on;

	assert_int_equal(conn_store_hold_get(f->sf.s, "clear", &on), 0);
	assert_string_equal(conn_store_error(f->sf.s), "");
}

static void test_corrupt(void **state)
{
	struct fx *f = *state;
	struct conn_blob b = { 0 };
	struct suite_vl l = { 0 };
	struct suite_el el = { 0 };
	redisReply *r;
	int on = 7;
	char big[200];

	/* a flag that is neither "1" nor "0" */
	freeReplyObject(admin_cmd(f->sv, f->db, "SET driftd:{m}:hold yes"));
	assert_int_equal(conn_store_hold_get(f->sf.s, "m", &on), -1);
	assert_int_equal(on, 0);
	assert_non_null(strstr(conn_store_error(f->sf.s), "flag"));
	freeReplyObject(admin_cmd(f->sv, f->db, "SET driftd:{m}:hold 0"));
	assert_int_equal(conn_store_hold_get(f->sf.s, "m", &on), 0);
	assert_int_equal(on, 0);
	/* a good version that is no version name */
	memset(big, 'g', sizeof big);
	freeReplyObject(admin_cmd(f->sv, f->db, "SET driftd:{m}:good %b", big, sizeof big));
	assert_int_equal(conn_store_good_get(f->sf.s, "m", &b), -1);
	assert_null(b.data);
	assert_non_null(strstr(conn_store_error(f->sf.s), "not a version name"));
	clear_error(f);
	/* a version without its registration time */
	freeReplyObject(admin_cmd(f->sv, f->db, "ZADD driftd:{m}:versions 1 ghost"));
	assert_int_equal(conn_store_versions(f->sf.s, "m", suite_collect_version, &l), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "registration time"));
	clear_error(f);
	/* a history entry of someone else's */
	freeReplyObject(admin_cmd(f->sv, f->db, "XADD driftd:{m}:history * other x"));
	assert_int_equal(conn_store_history(f->sf.s, "m", suite_collect_entry, &el), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "doc"));
	clear_error(f);

	/* a key of the wrong type: the registration fails whole (nothing written) */
	freeReplyObject(admin_cmd(f->sv, f->db, "SET driftd:{w}:registered x"));
	assert_int_equal(conn_store_version_put(f->sf.s, "w", "v1", "{}", 2, 1), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "WRONGTYPE"));
	clear_error(f);
	r = admin_cmd(f->sv, f->db,
		      "EXISTS driftd:{w}:version:v1 driftd:{w}:seq driftd:{w}:versions");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	assert_int_equal(conn_store_version_get(f->sf.s, "w", "v1", &b), 1);
	/* the model was added to the set first, but a model without a version is not listed */
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_models(f->sf.s, suite_collect_model, &l), 0);
	for (int i = 0; i < l.n; i++)
		assert_string_not_equal(l.name[i], "w");
	/* other wrong types */
	freeReplyObject(admin_cmd(f->sv, f->db, "SET driftd:{w}:latched x"));
	assert_int_equal(conn_store_latch_set(f->sf.s, "w", "v1", 1), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "WRONGTYPE"));
	assert_int_equal(conn_store_latch_get(f->sf.s, "w", "v1", &on), -1);
	clear_error(f);
	freeReplyObject(admin_cmd(f->sv, f->db, "RPUSH driftd:{w}:good x"));
	assert_int_equal(conn_store_good_get(f->sf.s, "w", &b), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "WRONGTYPE"));
	freeReplyObject(admin_cmd(f->sv, f->db, "SET driftd:models x"));
	assert_int_equal(conn_store_models(f->sf.s, suite_collect_model, &l), -1);
	/* ... and the handle still works */
	assert_int_equal(conn_store_claim(f->sf.s, "still/ok"), 0);
	assert_string_equal(conn_store_error(f->sf.s), "");
	/* a foreign member in the models set is skipped */
	freeReplyObject(admin_cmd(f->sv, f->db, "DEL driftd:models"));
	suite_put_version(f->sf.s, "real", "v1", 1);
	freeReplyObject(admin_cmd(f->sv, f->db, "SADD driftd:models %b", "a\0b", (size_t)3));
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_models(f->sf.s, suite_collect_model, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.name[0], "real");
}

/* Values are bounded at 64 MiB both ways; a larger value is never transferred. */
static void test_bounds(void **state)
{
	struct fx *f = *state;
	const size_t max = (size_t)64 << 20;
	char *v = malloc(max + 1);
	struct conn_blob b = { 0 };

	assert_non_null(v);
	memset(v, 'x', max + 1);
	assert_int_equal(conn_store_baseline_put(f->sf.s, "m", "v", v, max + 1), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "at most"));
	assert_int_equal(conn_store_history_append(f->sf.s, "m", v, max + 1), -1);
	assert_int_equal(conn_store_baseline_put(f->sf.s, "m", "v", v, max), 0);
	assert_int_equal(conn_store_baseline_get(f->sf.s, "m", "v", &b), 0);
	assert_int_equal(b.len, max);
	assert_true(b.data[0] == 'x' && b.data[max - 1] == 'x' && b.data[max] == '\0');
	free(b.data);
	/* grown behind our back by one byte */
	freeReplyObject(admin_cmd(f->sv, f->db, "APPEND driftd:{m}:baseline:v y"));
	assert_int_equal(conn_store_baseline_get(f->sf.s, "m", "v", &b), -1);
	assert_null(b.data);
	assert_non_null(strstr(conn_store_error(f->sf.s), "larger"));
	free(v);
}

/* ---- a server that goes away ---- */

/* Retries a claim until it succeeds, at most 15 s (the reconnection backoff is at most 5 s). */
static void claim_until_up(struct conn_store *s, const char *id)
{
	int64_t deadline = mono_ms() + 15000;
	int rc;

	while ((rc = conn_store_claim(s, id)) < 0) {
		assert_true(conn_store_error(s)[0] != '\0');
		assert_null(strstr(conn_store_error(s), SECRET));
		if (mono_ms() > deadline)
			fail_msg("no reconnection: %s", conn_store_error(s));
		sleep_ms(50);
	}
	assert_int_equal(rc, 0);
	assert_string_equal(conn_store_error(s), "");
}

/* Kills the server (SIGKILL: no goodbye), checks the calls fail at once and cleanly while it is
 * down, restarts it and checks the same handle works again. */
static void test_restart(void **state)
{
	struct fx *f = *state;
	struct conn_blob b = { 0 };
	struct suite_vl l = { 0 };
	int on = 7, fails = 0;
	int64_t t0;

	suite_put_version(f->sf.s, "m", "v1", 1);
	server_stop(f->sv, SIGKILL);

	/* every kind of call fails with -1 and an error, none hangs, none raises SIGPIPE */
	t0 = mono_ms();
	assert_int_equal(conn_store_version_get(f->sf.s, "m", "v1", &b), -1);
	assert_null(b.data);
	assert_true(conn_store_error(f->sf.s)[0] != '\0');
	assert_null(strstr(conn_store_error(f->sf.s), SECRET));
	assert_int_equal(conn_store_version_put(f->sf.s, "m", "v2", "{}", 2, 2), -1);
	assert_int_equal(conn_store_versions(f->sf.s, "m", suite_collect_version, &l), -1);
	assert_int_equal(l.n, 0);
	assert_int_equal(conn_store_models(f->sf.s, suite_collect_model, &l), -1);
	assert_int_equal(conn_store_baseline_put(f->sf.s, "m", "v1", "{}", 2), -1);
	assert_int_equal(conn_store_good_set(f->sf.s, "m", "v1"), -1);
	assert_int_equal(conn_store_hold_get(f->sf.s, "m", &on), -1);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_latch_set(f->sf.s, "m", "v1", 1), -1);
	assert_int_equal(conn_store_history_append(f->sf.s, "m", "{}", 2), -1);
	assert_int_equal(conn_store_claim(f->sf.s, "down/1"), -1);
	assert_null(strstr(conn_store_error(f->sf.s), SECRET));
	/* a caller retrying in a tight loop is answered at once (backoff), not by a connect each */
	for (int i = 0; i < 2000; i++)
		fails += conn_store_claim(f->sf.s, "down/1") == -1;
	assert_int_equal(fails, 2000);
	assert_true(mono_ms() - t0 < 3000);
	/* the first error since the last success is kept: where, and what happened */
	assert_non_null(strstr(conn_store_error(f->sf.s), f->sv->sock[0] ? "unix:" : "127.0.0.1:"));

	/* back: the same handle reconnects (and AUTHs and SELECTs again) */
	server_start(f->sv);
	claim_until_up(f->sf.s, "up/1");
	suite_put_version(f->sf.s, "m", "v1", 1); /* the server kept nothing (--save "") */
	assert_int_equal(conn_store_version_get(f->sf.s, "m", "v1", &b), 0);
	free(b.data);
	{
		redisReply *r = admin_cmd(f->sv, f->db, "EXISTS driftd:{m}:version:v1");

		assert_int_equal(r->integer, 1); /* in the database of the spec */
		freeReplyObject(r);
	}

	/* a restart between two calls: the first call after it may fail, a later one succeeds */
	server_stop(f->sv, SIGTERM);
	server_start(f->sv);
	claim_until_up(f->sf.s, "up/2");
}

/* A caller retrying in a loop against a server that accepts and hangs up at once: the store
 * reconnects after 100, 200, 400, 800 ms..., not on every call. A fake server (a child) reports
 * each connection it accepts by a byte on a pipe. */
static void test_backoff(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int p[2], lfd, n = 0, calls = 0;
	pid_t fake;
	int64_t t0;
	char buf[256];
	ssize_t r;

	assert_int_equal(conn_store_claim(f->sf.s, "b/1"), 0);
	server_stop(f->sv, SIGKILL);
	unlink(f->sv->sock);
	snprintf(a.sun_path, sizeof a.sun_path, "%s", f->sv->sock);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(lfd, 64), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fake = fork();
	assert_true(fake >= 0);
	if (fake == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		for (;;) {
			int c = accept(lfd, NULL, NULL);

			if (c >= 0) {
				close(c);
				if (write(p[1], "c", 1) != 1)
					_exit(1);
			}
		}
	}
	close(p[1]);
	close(lfd);
	t0 = mono_ms();
	while (mono_ms() - t0 < 1600) { /* tight: every call fails */
		calls++;
		assert_int_equal(conn_store_claim(f->sf.s, "b/2"), -1);
	}
	kill(fake, SIGKILL);
	waitpid(fake, NULL, 0);
	while ((r = read(p[0], buf, sizeof buf)) > 0)
		n += (int)r;
	close(p[0]);
	unlink(f->sv->sock);
	/* 0, 100, 300, 700, 1500 ms: 5 connections (one more or less with scheduling) */
	if (n < 3 || n > 7)
		fail_msg("%d connections for %d calls in 1.6 s", n, calls);
	assert_true(calls > 100);
	server_start(f->sv);
	claim_until_up(f->sf.s, "b/3");
}

/* A frozen server: the call gives up after the command timeout, the next one reconnects. */
static void test_timeout(void **state)
{
	struct fx *f = *state;
	int64_t t0, dt;

	assert_int_equal(conn_store_claim(f->sf.s, "t/1"), 0);
	assert_int_equal(kill(f->sv->pid, SIGSTOP), 0);
	t0 = mono_ms();
	assert_int_equal(conn_store_claim(f->sf.s, "t/2"), -1);
	dt = mono_ms() - t0;
	kill(f->sv->pid, SIGCONT);
	assert_true(dt >= 1500 && dt < 5000);
	assert_non_null(strstr(conn_store_error(f->sf.s), "timed out"));
	/* the claim may or may not have been applied: the reply was lost */
	claim_until_up(f->sf.s, "t/3");
}

/* An error names the key, with its control bytes escaped: one line, fit for a log. */
static void test_error_text(void **state)
{
	struct fx *f = *state;
	static const char key[] = "driftd:{a\x01\n}:latched";
	const char *e;

	freeReplyObject(admin_cmd(f->sv, f->db, "SET %b x", key, sizeof key - 1));
	assert_int_equal(conn_store_latch_get(f->sf.s, "a\x01\n", "v", &(int){ 0 }), -1);
	e = conn_store_error(f->sf.s);
	assert_non_null(strstr(e, "WRONGTYPE"));
	assert_non_null(strstr(e, "\\x01\\x0A"));
	assert_null(strchr(e, '\n'));
	assert_true(strlen(e) < 512);
}

/* ---- key prefix ---- */

/* Two stores on one server with different prefixes share nothing. */
static void test_prefix(void **state)
{
	struct fx *f = *state;
	const struct conn_ckpt_item part[] = { { "W", 1, "p", 1 } };
	const struct conn_ckpt_offset off = { "t/0", 1, 2, 3 };
	const struct conn_ckpt c = { "a", &off, 1, part, 1, NULL, 0, part, 1 };
	struct suite_kv l = { 0 };
	struct suite_vl vl = { 0 };
	struct conn_blob b = { 0 };
	struct conn_store *s2;
	char err[256];
	redisReply *r;
	size_t other = 0;

	s2 = conn_store_open(f->sf.spec, err, sizeof err);
	if (!s2)
		fail_msg("open: %s", err);
	assert_int_equal(conn_store_set_prefix(s2, "other:"), 0);
	suite_put_version(f->sf.s, "m", "v1", 1);
	assert_int_equal(conn_store_version_get(s2, "m", "v1", &b), 1);
	assert_int_equal(conn_store_models(s2, suite_collect_model, &vl), 0);
	assert_int_equal(vl.n, 0);
	suite_put_version(s2, "m", "v1", 1); /* not "already registered" */
	assert_int_equal(conn_store_claim(f->sf.s, "c/1"), 0);
	assert_int_equal(conn_store_claim(s2, "c/1"), 0);
	assert_int_equal(conn_store_hold_set(f->sf.s, "m", 1), 0);
	assert_int_equal(conn_store_hold_get(s2, "m", &(int){ 0 }), 0);
	suite_commit(f->sf.s, "g", &c);
	suite_read_windows(s2, "g", &l);
	assert_int_equal(l.n, 0);
	suite_read_offsets(s2, "g", &l);
	assert_int_equal(l.n, 0);
	suite_read_states(s2, "g", &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(conn_store_pending_put(f->sf.s, "e/1", "m", "{}", 2), 0);
	assert_int_equal(conn_store_pending_list(s2, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(conn_store_lock(f->sf.s, "g", "L", "a", 10000), 0);
	assert_int_equal(conn_store_lock(s2, "g", "L", "b", 10000), 0);
	suite_commit(s2, "g", &c);

	/* every key under one prefix or the other, and the second's where documented */
	r = admin_cmd(f->sv, f->db, "KEYS *");
	for (size_t i = 0; i < r->elements; i++) {
		const char *k = r->element[i]->str;

		if (!strncmp(k, "other:", 6))
			other++;
		else if (strncmp(k, "driftd:", 7) != 0)
			fail_msg("key %s under no prefix", k);
	}
	freeReplyObject(r);
	assert_int_equal(other, 11);
	r = admin_cmd(f->sv, f->db,
		      "EXISTS other:models other:{m}:version:v1 other:{m}:versions other:{m}:seq "
		      "other:{m}:registered other:claim:{c/1} other:ckpt:{g}:offsets "
		      "other:ckpt:{g}:windows other:ckpt:{g}:w:W other:ckpt:{g}:states "
		      "other:ckpt:{g}:lock:L");
	assert_int_equal(r->integer, 11);
	freeReplyObject(r);

	/* an invalid prefix is refused and the previous one kept */
	assert_int_equal(conn_store_set_prefix(s2, "no spaces"), -1);
	assert_non_null(strstr(conn_store_error(s2), "prefix"));
	assert_int_equal(conn_store_claim(s2, "c/1"), 1);
	assert_int_equal(conn_store_version_get(s2, "m", "v1", &b), 0);
	free(b.data);
	/* back to the default: the first store's state */
	assert_int_equal(conn_store_set_prefix(s2, "driftd:"), 0);
	assert_int_equal(conn_store_lock(s2, "g", "L", "b", 10000), 1);
	conn_store_close(s2);
}

/* ---- checkpoint keys ---- */

static void test_ckpt_keys(void **state)
{
	struct fx *f = *state;
	static const char scope[] = "g{1} x/\xff", tag[] = "g%7B1%7D%20x%2F%FF";
	static const char wraw[] = "w/1 }\xff\0"; /* with its NUL: 7 bytes */
	const struct conn_ckpt_item part[] = { { wraw, 7, "blob\0x", 6 } };
	const struct conn_ckpt_item state_[] = { { "fraud/v1", 8, "S", 1 } };
	const struct conn_ckpt_offset off = { "t/0", 5, 6, -7 };
	const struct conn_ckpt_item del[] = { { wraw, 7, NULL, 0 } };
	const struct conn_ckpt_item delst[] = { { "fraud/v1", 8, NULL, 0 } };
	static const struct {
		const char *key;
		const char *type;
	} want[] = {
		{ "driftd:ckpt:{g%7B1%7D%20x%2F%FF}:offsets", "hash" },
		{ "driftd:ckpt:{g%7B1%7D%20x%2F%FF}:windows", "set" },
		{ "driftd:ckpt:{g%7B1%7D%20x%2F%FF}:w:w%2F1%20%7D%FF%00", "hash" },
		{ "driftd:ckpt:{g%7B1%7D%20x%2F%FF}:states", "hash" },
		{ "driftd:ckpt:{g%7B1%7D%20x%2F%FF}:lock:L%201", "string" },
		{ "driftd:pending", "hash" },
	};
	redisReply *r;

	suite_commit(f->sf.s, scope,
		     &(struct conn_ckpt){ "in st", &off, 1, part, 1, NULL, 0, state_, 1 });
	assert_int_equal(conn_store_lock(f->sf.s, scope, "L 1", "own\xff", 10000), 0);
	assert_int_equal(conn_store_pending_put(f->sf.s, "e/1", "fraud", "{}", 2), 0);

	r = admin_cmd(f->sv, f->db, "KEYS *");
	assert_int_equal(r->elements, 6);
	freeReplyObject(r);
	for (size_t i = 0; i < 6; i++) {
		char t[300];

		r = admin_cmd(f->sv, f->db, "TYPE %s", want[i].key);
		if (strcmp(r->str, want[i].type))
			fail_msg("%s is a %s", want[i].key, r->str);
		freeReplyObject(r);
		if (i < 5) { /* one Redis Cluster slot for the whole scope */
			cluster_tag(want[i].key, strlen(want[i].key), t, sizeof t);
			assert_string_equal(t, tag);
		}
	}
	r = admin_cmd(f->sv, f->db, "HGET %s t/0", want[0].key);
	assert_string_equal(r->str, "5 6 -7");
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "SMEMBERS %s", want[1].key);
	assert_int_equal(r->elements, 1);
	assert_int_equal(r->element[0]->len, 7);
	assert_memory_equal(r->element[0]->str, wraw, 7);
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "HGET %s %s", want[2].key, "in st");
	assert_int_equal(r->len, 6);
	assert_memory_equal(r->str, "blob\0x", 6);
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "HGET %s fraud/v1", want[3].key);
	assert_string_equal(r->str, "S");
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "GET %s", want[4].key);
	assert_string_equal(r->str, "own\xff");
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "PTTL %s", want[4].key);
	assert_true(r->integer > 5000 && r->integer <= 10000);
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "HGET driftd:pending e/1");
	assert_string_equal(r->str, "5:fraud{}");
	freeReplyObject(r);

	/* nothing stays behind: emptied hashes and sets are no keys */
	suite_commit(f->sf.s, scope,
		     &(struct conn_ckpt){ "in st", NULL, 0, del, 1, NULL, 0, delst, 1 });
	assert_int_equal(conn_store_unlock(f->sf.s, scope, "L 1", "own\xff"), 0);
	assert_int_equal(conn_store_pending_del(f->sf.s, "e/1"), 0);
	r = admin_cmd(f->sv, f->db, "KEYS *");
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->str, want[0].key);
	freeReplyObject(r);
}

/* ---- checkpoints and foreign data ---- */

static void test_ckpt_corrupt(void **state)
{
	struct fx *f = *state;
	const struct conn_ckpt_item part[] = { { "W", 1, "p", 1 } };
	const struct conn_ckpt_offset off = { "t/0", 1, 2, 3 };
	struct suite_kv l = { 0 };
	redisReply *r;

	/* a key of the wrong type: the commit fails whole, before its first write */
	freeReplyObject(admin_cmd(f->sv, f->db, "SET driftd:ckpt:{g}:windows x"));
	assert_int_equal(
	    conn_store_ckpt_commit(f->sf.s, "g",
				   &(struct conn_ckpt){ "a", &off, 1, part, 1, NULL, 0, part, 1 }),
	    -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "WRONGTYPE"));
	r = admin_cmd(f->sv, f->db,
		      "EXISTS driftd:ckpt:{g}:offsets driftd:ckpt:{g}:w:W driftd:ckpt:{g}:states");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	assert_int_equal(conn_store_ckpt_windows(f->sf.s, "g", suite_kv_key, &l), -1);
	clear_error(f);
	freeReplyObject(admin_cmd(f->sv, f->db, "DEL driftd:ckpt:{g}:windows"));
	suite_commit(f->sf.s, "g", &(struct conn_ckpt){ "a", &off, 1, part, 1, NULL, 0, part, 1 });

	/* offsets that are not three numbers */
	{
		const char *bad[] = {
			"nonsense", "1 2", "1 2 3 4", "1  2 3", "1 2 x", "", " 1 2 3"
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			freeReplyObject(
			    admin_cmd(f->sv, f->db, "HSET driftd:ckpt:{g}:offsets t/9 %s", bad[i]));
			assert_int_equal(conn_store_ckpt_offsets(f->sf.s, "g", suite_kv_offset, &l),
					 -1);
			assert_non_null(strstr(conn_store_error(f->sf.s), "stream offset"));
			clear_error(f);
			suite_kv_free(&l);
		}
		freeReplyObject(admin_cmd(f->sv, f->db, "HDEL driftd:ckpt:{g}:offsets t/9"));
	}
	/* a member that is no window key, a partial of the wrong type */
	freeReplyObject(admin_cmd(f->sv, f->db, "SADD driftd:ckpt:{g}:windows %b", "", (size_t)0));
	assert_int_equal(conn_store_ckpt_windows(f->sf.s, "g", suite_kv_key, &l), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "window key"));
	clear_error(f);
	suite_kv_free(&l);
	freeReplyObject(admin_cmd(f->sv, f->db, "SET driftd:ckpt:{g}:w:V x"));
	assert_int_equal(conn_store_ckpt_partials(f->sf.s, "g", "V", 1, suite_kv_blob, &l), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "WRONGTYPE"));
	clear_error(f);
	/* pending events that are not ours */
	{
		const char *bad[] = { "x", "3:ab", "0:", ":m{}", "99999:x" };

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			freeReplyObject(
			    admin_cmd(f->sv, f->db, "HSET driftd:pending e %s", bad[i]));
			assert_int_equal(conn_store_pending_list(f->sf.s, suite_kv_pending, &l),
					 -1);
			assert_non_null(strstr(conn_store_error(f->sf.s), "malformed"));
			clear_error(f);
			suite_kv_free(&l);
		}
	}
	/* a lock of the wrong type */
	freeReplyObject(admin_cmd(f->sv, f->db, "HSET driftd:ckpt:{g}:lock:L a b"));
	assert_int_equal(conn_store_lock(f->sf.s, "g", "L", "a", 1000), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "WRONGTYPE"));
	assert_int_equal(conn_store_ping(f->sf.s), 0); /* the handle still works */
}

/* The state of scope "frz" as one snapshot (MULTI/EXEC on an admin connection): 0 when it is
 * the base checkpoint, 1 when it is the frozen commit's whole; fails on anything in between. */
static int frozen_state(struct fx *f)
{
	static const char *cmds[] = {
		"HGET driftd:ckpt:{frz}:offsets t/0",	  "SISMEMBER driftd:ckpt:{frz}:windows W0",
		"SISMEMBER driftd:ckpt:{frz}:windows W1", "EXISTS driftd:ckpt:{frz}:w:W0",
		"HGET driftd:ckpt:{frz}:w:W1 a",	  "HGET driftd:ckpt:{frz}:states p",
		"HEXISTS driftd:ckpt:{frz}:states q",	  "HEXISTS driftd:ckpt:{frz}:states big",
	};
	const size_t n = sizeof cmds / sizeof cmds[0];
	redisContext *c = admin(f->sv);
	redisReply *r, *x;
	int isnew, big;

	assert_non_null(c);
	freeReplyObject(redisCommand(c, "SELECT %d", f->db));
	freeReplyObject(redisCommand(c, "MULTI"));
	for (size_t i = 0; i < n; i++) {
		r = redisCommand(c, cmds[i]);
		assert_non_null(r);
		assert_int_equal(r->type, REDIS_REPLY_STATUS);
		freeReplyObject(r);
	}
	x = redisCommand(c, "EXEC");
	assert_non_null(x);
	assert_int_equal(x->type, REDIS_REPLY_ARRAY);
	assert_int_equal(x->elements, n);
	isnew = !strcmp(x->element[0]->str, "2 2 2");
	if (!isnew)
		assert_string_equal(x->element[0]->str, "1 1 1");
	assert_int_equal(x->element[1]->integer, !isnew);
	assert_int_equal(x->element[2]->integer, isnew);
	assert_int_equal(x->element[3]->integer, !isnew);
	if (isnew)
		assert_string_equal(x->element[4]->str, "new");
	else
		assert_int_equal(x->element[4]->type, REDIS_REPLY_NIL);
	assert_string_equal(x->element[5]->str, isnew ? "new" : "old");
	assert_int_equal(x->element[6]->integer, isnew);
	big = (int)x->element[7]->integer;
	assert_true(!big || isnew);
	freeReplyObject(x);
	redisFree(c);
	return isnew;
}

/* A commit to a frozen server fails (timeout); once the server runs again, the checkpoint is
 * there whole or not at all -- for a small request that reached the server whole, and for one
 * of 32 MiB cut by the timeout (the big blob is its last state, so a pipeline of separate
 * commands would have applied everything before it). */
static void test_ckpt_frozen(void **state)
{
	struct fx *f = *state;
	const size_t bign = (size_t)32 << 20;
	char *big = malloc(bign);
	const struct conn_ckpt_offset off1 = { "t/0", 1, 1, 1 }, off2 = { "t/0", 2, 2, 2 };
	const struct conn_ckpt_item w0[] = { { "W0", 2, "old", 3 } };
	const struct conn_ckpt_item w1[] = { { "W1", 2, "new", 3 } };
	const struct conn_ckpt_item dropw0[] = { { "W0", 2, NULL, 0 } };
	const struct conn_ckpt_item dropw1[] = { { "W1", 2, NULL, 0 } };
	const struct conn_ckpt_item st_old[] = { { "p", 1, "old", 3 },
						 { "q", 1, NULL, 0 },
						 { "big", 3, NULL, 0 } };
	struct conn_ckpt_item st_new[] = { { "p", 1, "new", 3 },
					   { "q", 1, "new", 3 },
					   { "big", 3, NULL, 0 } };
	const struct conn_ckpt base = { "a", &off1, 1, w0, 1, dropw1, 1, st_old, 3 };
	int outcome[2];

	assert_non_null(big);
	memset(big, 'B', bign);
	for (int round = 0; round < 2; round++) {
		const struct conn_ckpt next = { "a",	&off2, 1,      w1,	     1,
						dropw0, 1,     st_new, round ? 3 : 2 };
		int64_t t0;

		st_new[2].blob = round ? big : NULL;
		st_new[2].len = round ? bign : 0;
		if (round)
			claim_until_up(f->sf.s, "frz/up");
		suite_commit(f->sf.s, "frz", &base);
		assert_int_equal(frozen_state(f), 0);
		assert_int_equal(kill(f->sv->pid, SIGSTOP), 0);
		t0 = mono_ms();
		assert_int_equal(conn_store_ckpt_commit(f->sf.s, "frz", &next), -1);
		assert_true(mono_ms() - t0 < 5000);
		assert_non_null(strstr(conn_store_error(f->sf.s), "timed out"));
		kill(f->sv->pid, SIGCONT);
		sleep_ms(100);
		outcome[round] = frozen_state(f);
		/* and through the store, once it has reconnected */
		{
			struct suite_kv l = { 0 };
			int64_t deadline = mono_ms() + 15000;

			while (conn_store_ckpt_offsets(f->sf.s, "frz", suite_kv_offset, &l) != 0) {
				suite_kv_free(&l);
				if (mono_ms() > deadline)
					fail_msg("no reconnection: %s", conn_store_error(f->sf.s));
				sleep_ms(50);
			}
			assert_int_equal(l.n, 1);
			assert_true(l.v[0][0] == (outcome[round] ? 2 : 1));
			suite_read_windows(f->sf.s, "frz", &l);
			assert_int_equal(l.n, 1);
			assert_true(suite_kv_find(&l, outcome[round] ? "W1" : "W0", 2) == 0);
			suite_kv_free(&l);
		}
	}
	/* the small request reached the server whole: it ran; the cut one normally did not (it
	 * would only run were the socket buffers larger than 32 MiB) */
	assert_int_equal(outcome[0], 1);
	printf("# frozen commit of 32 MiB: %s\n", outcome[1] ? "applied" : "not applied");
	free(big);
}

/* The point reads are HGETs of the fields the commit script writes: a field written by hand
 * is found, a foreign value or type is an error, another prefix sees nothing. */
static void test_ckpt_point_keys(void **state)
{
	struct fx *f = *state;
	const char *off_key = "driftd:ckpt:{g%7B1%7D}:offsets",
		   *st_key = "driftd:ckpt:{g%7B1%7D}:states";
	struct conn_ckpt_offset o;
	struct conn_blob b;
	struct conn_store *s2;
	char err[256];
	redisReply *r;

	r = admin_cmd(f->sv, f->db, "HSET %s t/0 %s", off_key, "5 6 -7");
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "HSET %s %b %b", st_key, "p\0k", (size_t)3, "v\0w", (size_t)3);
	freeReplyObject(r);
	assert_int_equal(conn_store_ckpt_offset_get(f->sf.s, "g{1}", "t/0", &o), CONN_STORE_FOUND);
	assert_true(o.next_offset == 5 && o.hwm_ms == 6 && o.updated_ms == -7);
	assert_int_equal(conn_store_ckpt_state_get(f->sf.s, "g{1}", "p\0k", 3, &b),
			 CONN_STORE_FOUND);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "v\0w", 4);
	free(b.data);

	/* another prefix: other keys */
	s2 = conn_store_open(f->sf.spec, err, sizeof err);
	assert_non_null(s2);
	assert_int_equal(conn_store_set_prefix(s2, "other:"), 0);
	assert_int_equal(conn_store_ckpt_offset_get(s2, "g{1}", "t/0", &o), CONN_STORE_NONE);
	assert_int_equal(conn_store_ckpt_state_get(s2, "g{1}", "p\0k", 3, &b), CONN_STORE_NONE);
	suite_commit(s2, "g{1}",
		     &(struct conn_ckpt){ "a", &(struct conn_ckpt_offset){ "t/0", 1, 2, 3 }, 1,
					  NULL, 0, NULL, 0, NULL, 0 });
	r = admin_cmd(f->sv, f->db, "HGET other:ckpt:{g%%7B1%%7D}:offsets t/0");
	assert_string_equal(r->str, "1 2 3");
	freeReplyObject(r);
	assert_int_equal(conn_store_ckpt_offset_get(s2, "g{1}", "t/0", &o), CONN_STORE_FOUND);
	assert_true(o.next_offset == 1);
	conn_store_close(s2);

	/* foreign values */
	r = admin_cmd(f->sv, f->db, "HSET %s t/1 %s", off_key, "5 6");
	freeReplyObject(r);
	assert_int_equal(conn_store_ckpt_offset_get(f->sf.s, "g{1}", "t/1", &o), CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->sf.s), "not a stream offset"));
	assert_true(o.next_offset == 0 && o.hwm_ms == 0 && o.updated_ms == 0);
	assert_int_equal(conn_store_ckpt_offset_get(f->sf.s, "g{1}", "t/0", &o), CONN_STORE_FOUND);
	r = admin_cmd(f->sv, f->db, "DEL %s", st_key);
	freeReplyObject(r);
	r = admin_cmd(f->sv, f->db, "SET %s x", st_key);
	freeReplyObject(r);
	assert_int_equal(conn_store_ckpt_state_get(f->sf.s, "g{1}", "p\0k", 3, &b),
			 CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->sf.s), "WRONGTYPE"));
	assert_null(b.data);
	assert_null(strstr(conn_store_error(f->sf.s), SECRET));
}

/* A server killed and restarted (empty): commits fail while it is down, then succeed on the
 * same handle; ping follows. */
static void test_ckpt_restart(void **state)
{
	struct fx *f = *state;
	const struct conn_ckpt_item part[] = { { "W", 1, "p", 1 } };
	const struct conn_ckpt_offset off = { "t/0", 9, 9, 9 };
	const struct conn_ckpt c = { "a", &off, 1, part, 1, NULL, 0, part, 1 };
	struct suite_kv l = { 0 };
	int64_t deadline;

	suite_commit(f->sf.s, "g", &c);
	assert_int_equal(conn_store_ping(f->sf.s), 0);
	server_stop(f->sv, SIGKILL);
	assert_int_equal(conn_store_ckpt_commit(f->sf.s, "g", &c), -1);
	assert_null(strstr(conn_store_error(f->sf.s), SECRET));
	assert_int_equal(conn_store_ping(f->sf.s), -1);
	assert_true(conn_store_error(f->sf.s)[0] != '\0');
	assert_null(strstr(conn_store_error(f->sf.s), SECRET));
	assert_int_equal(conn_store_lock(f->sf.s, "g", "L", "a", 1000), -1);
	assert_int_equal(conn_store_pending_list(f->sf.s, suite_kv_pending, &l), -1);
	assert_int_equal(conn_store_ckpt_windows(f->sf.s, "g", suite_kv_key, &l), -1);
	assert_int_equal(l.n, 0);

	server_start(f->sv);
	deadline = mono_ms() + 15000;
	while (conn_store_ckpt_commit(f->sf.s, "g", &c) != 0) {
		assert_null(strstr(conn_store_error(f->sf.s), SECRET));
		if (mono_ms() > deadline)
			fail_msg("no reconnection: %s", conn_store_error(f->sf.s));
		sleep_ms(50);
	}
	assert_int_equal(conn_store_ping(f->sf.s), 0);
	assert_string_equal(conn_store_error(f->sf.s), "");
	suite_read_partials(f->sf.s, "g", "W", 1, &l);
	assert_int_equal(l.n, 1);
	suite_read_offsets(f->sf.s, "g", &l);
	assert_int_equal(l.n, 1);
	assert_true(l.v[0][0] == 9);
	suite_kv_free(&l);
	assert_int_equal(conn_store_lock(f->sf.s, "g", "L", "a", 1000), 0);
	{
		redisReply *r = admin_cmd(f->sv, f->db, "EXISTS driftd:ckpt:{g}:offsets");

		assert_int_equal(r->integer, 1); /* in the database of the spec */
		freeReplyObject(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SUITE_TESTS("unix: ", setup_unix, teardown),
		SUITE_TESTS("tcp+auth: ", setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(test_specs, setup_unix, teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup_unix, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup_unix, teardown),
		cmocka_unit_test_setup_teardown(test_error_text, setup_unix, teardown),
		{ "test_restart (unix)", test_restart, setup_unix, teardown, NULL },
		{ "test_restart (tcp+auth)", test_restart, setup_tcp, teardown, NULL },
		cmocka_unit_test_setup_teardown(test_timeout, setup_unix, teardown),
		cmocka_unit_test_setup_teardown(test_backoff, setup_unix, teardown),
		cmocka_unit_test_setup_teardown(test_prefix, setup_unix, teardown),
		cmocka_unit_test_setup_teardown(test_ckpt_keys, setup_unix, teardown),
		cmocka_unit_test_setup_teardown(test_ckpt_corrupt, setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(test_ckpt_frozen, setup_unix, teardown),
		cmocka_unit_test_setup_teardown(test_ckpt_point_keys, setup_tcp, teardown),
		{ "test_ckpt_restart (unix)", test_ckpt_restart, setup_unix, teardown, NULL },
		{ "test_ckpt_restart (tcp+auth)", test_ckpt_restart, setup_tcp, teardown, NULL },
	};

	if (access(REDIS_SERVER, X_OK) != 0) {
		/* a TAP skip: under automake's tap-driver.sh, exit status 77 would be an ERROR */
		printf("1..0 # SKIP %s is missing\n", REDIS_SERVER);
		return 0;
	}
	main_pid = getpid();
	atexit(cleanup_all);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
