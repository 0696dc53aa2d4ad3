/*
 * test_endpoint.c -- the endpoint spec parser and display (connectors/endpoint.h): every
 * spelling of every kind with the fields it gives, every refusal with its message (never
 * quoting the spec, never the password), the roles (which kinds each takes), and the masking
 * of passwords for display.
 */
#include "connectors/endpoint.h"
#include "testutil.h"

#define SECRET "s3cr3tPW"

static struct conn_endpoint ep;
static char err[256];

static const struct conn_endpoint *ok(const char *spec, enum conn_endpoint_role role)
{
	conn_endpoint_free(&ep);
	if (conn_endpoint_parse(spec, role, &ep, err, sizeof err) != 0)
		fail_msg("refused %s: %s", spec, err);
	assert_string_equal(err, "");
	return &ep;
}

/* spec is refused for role with a message that contains want and no part of the secret. */
static void bad(const char *spec, enum conn_endpoint_role role, const char *want)
{
	conn_endpoint_free(&ep);
	if (conn_endpoint_parse(spec, role, &ep, err, sizeof err) == 0)
		fail_msg("accepted %s", spec);
	assert_int_equal(ep.kind, CONN_ENDPOINT_NONE);
	assert_null(ep.mem_);
	if (!strstr(err, want))
		fail_msg("%s: \"%s\" lacks \"%s\"", spec, err, want);
	assert_null(strstr(err, SECRET));
	assert_null(strstr(err, "cr3t"));
}

static const char source_msg[] = "expected file:PATH, file:- or kafka:TOPIC[,TOPIC...] (topics: "
				 "letters, digits, '.', '_', '-')";
static const char sink_msg[] = "expected file:PATH, file:- or kafka:TOPIC";
static const char topic_msg[] = "expected kafka:TOPIC";
static const char store_msg[] =
    "expected dir:PATH, redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:PATH";

static void test_file(void **state)
{
	const struct conn_endpoint *e;

	(void)state;
	e = ok("file:/var/log/inference.jsonl", CONN_ENDPOINT_SOURCE);
	assert_int_equal(e->kind, CONN_ENDPOINT_FILE);
	assert_string_equal(e->path, "/var/log/inference.jsonl");
	assert_int_equal(e->std, 0);
	assert_string_equal(e->where, "file:/var/log/inference.jsonl");
	assert_null(e->topics);
	assert_null(e->host);
	assert_null(e->password);
	e = ok("file:-", CONN_ENDPOINT_SOURCE);
	assert_string_equal(e->path, "-");
	assert_int_equal(e->std, 1);
	e = ok("file:-", CONN_ENDPOINT_SINK);
	assert_int_equal(e->std, 1);
	e = ok("file:./rel path with spaces,and,commas@x", CONN_ENDPOINT_SINK);
	assert_string_equal(e->path, "./rel path with spaces,and,commas@x");
	e = ok("file:--", CONN_ENDPOINT_SINK);
	assert_int_equal(e->std, 0);
	bad("file:", CONN_ENDPOINT_SOURCE, source_msg);
	bad("file:", CONN_ENDPOINT_SINK, sink_msg);
	bad("file:x", CONN_ENDPOINT_TOPIC, topic_msg);
	bad("file:x", CONN_ENDPOINT_STORE, store_msg);
	bad("-", CONN_ENDPOINT_SOURCE, source_msg); /* stdin is spelt file:- */
	bad("/var/log/x.jsonl", CONN_ENDPOINT_SOURCE, source_msg);
	bad("File:x", CONN_ENDPOINT_SOURCE, source_msg);
	bad("", CONN_ENDPOINT_SOURCE, source_msg);
	bad(NULL, CONN_ENDPOINT_SINK, sink_msg);
}

static void test_kafka(void **state)
{
	const struct conn_endpoint *e;
	char t249[260], spec[300];

	(void)state;
	e = ok("kafka:inference-logs", CONN_ENDPOINT_SOURCE);
	assert_int_equal(e->kind, CONN_ENDPOINT_KAFKA);
	assert_int_equal(e->ntopics, 1);
	assert_string_equal(e->topics[0], "inference-logs");
	assert_string_equal(e->where, "kafka:inference-logs");
	assert_null(e->path);
	e = ok("kafka:a,b.c,D_9-x", CONN_ENDPOINT_SOURCE);
	assert_int_equal(e->ntopics, 3);
	assert_string_equal(e->topics[0], "a");
	assert_string_equal(e->topics[1], "b.c");
	assert_string_equal(e->topics[2], "D_9-x");
	assert_null(e->topics[3]);
	e = ok("kafka:model-rollbacks", CONN_ENDPOINT_SINK);
	assert_string_equal(e->topics[0], "model-rollbacks");
	e = ok("kafka:labels", CONN_ENDPOINT_TOPIC);
	assert_int_equal(e->ntopics, 1);

	/* a topic: 1 to 249 of [A-Za-z0-9._-] */
	memset(t249, 'x', 249);
	t249[249] = '\0';
	snprintf(spec, sizeof spec, "kafka:%s", t249);
	e = ok(spec, CONN_ENDPOINT_TOPIC);
	assert_int_equal(strlen(e->topics[0]), 249);
	snprintf(spec, sizeof spec, "kafka:%sx", t249);
	bad(spec, CONN_ENDPOINT_TOPIC, topic_msg);
	bad(spec, CONN_ENDPOINT_SOURCE, source_msg);

	bad("kafka:", CONN_ENDPOINT_SOURCE, source_msg);
	bad("kafka:a,,b", CONN_ENDPOINT_SOURCE, source_msg);
	bad("kafka:a,", CONN_ENDPOINT_SOURCE, source_msg);
	bad("kafka:,a", CONN_ENDPOINT_SOURCE, source_msg);
	bad("kafka:a b", CONN_ENDPOINT_SOURCE, source_msg);
	bad("kafka:a/b", CONN_ENDPOINT_SOURCE, source_msg);
	bad("kafka:caf\xc3\xa9", CONN_ENDPOINT_SOURCE, source_msg);
	bad("kafka:a,b", CONN_ENDPOINT_SINK, sink_msg); /* one topic for a sink */
	bad("kafka:a,b", CONN_ENDPOINT_TOPIC, topic_msg);
	bad("kafka:", CONN_ENDPOINT_TOPIC, topic_msg);
	bad("kafka:t", CONN_ENDPOINT_STORE, store_msg);
	bad("kafka", CONN_ENDPOINT_TOPIC, topic_msg);
	bad("kafka://t", CONN_ENDPOINT_TOPIC, topic_msg);
	bad("http://x", CONN_ENDPOINT_SOURCE, source_msg);
}

static void test_dir(void **state)
{
	const struct conn_endpoint *e;

	(void)state;
	e = ok("dir:./driftd-store", CONN_ENDPOINT_STORE);
	assert_int_equal(e->kind, CONN_ENDPOINT_DIR);
	assert_string_equal(e->path, "./driftd-store");
	assert_string_equal(e->where, "dir:./driftd-store");
	assert_null(e->password);
	e = ok("dir:/var/x@y:z", CONN_ENDPOINT_STORE); /* no userinfo in a dir: spec */
	assert_string_equal(e->path, "/var/x@y:z");
	bad("dir:", CONN_ENDPOINT_STORE, store_msg);
	assert_non_null(strstr(err, "dir: empty path"));
	bad("dir:/x", CONN_ENDPOINT_SOURCE, source_msg);
	bad(SECRET, CONN_ENDPOINT_STORE, store_msg);
	bad("", CONN_ENDPOINT_STORE, store_msg);
	bad(NULL, CONN_ENDPOINT_STORE, store_msg);
	bad("ftp://" SECRET, CONN_ENDPOINT_STORE, store_msg);
	bad("redis:/" SECRET, CONN_ENDPOINT_STORE, store_msg);
	bad("Redis://h", CONN_ENDPOINT_STORE, store_msg);
	bad("rediss://:" SECRET "@host:6380", CONN_ENDPOINT_STORE, "TLS");
}

/* conn_endpoint_expected is the whole message of a kind the role does not take, and only of
 * that: a caller tells "not this role's" from "malformed" by it. */
static void test_expected(void **state)
{
	(void)state;
	assert_string_equal(conn_endpoint_expected(CONN_ENDPOINT_SOURCE), source_msg);
	assert_string_equal(conn_endpoint_expected(CONN_ENDPOINT_SINK), sink_msg);
	assert_string_equal(conn_endpoint_expected(CONN_ENDPOINT_TOPIC), topic_msg);
	assert_string_equal(conn_endpoint_expected(CONN_ENDPOINT_STORE), store_msg);
	assert_string_equal(conn_endpoint_expected((enum conn_endpoint_role)99),
			    "unknown endpoint role");
	bad("ftp://" SECRET, CONN_ENDPOINT_STORE, store_msg);
	assert_string_equal(err, conn_endpoint_expected(CONN_ENDPOINT_STORE));
	bad("kafka:a,b", CONN_ENDPOINT_SINK, sink_msg);
	assert_string_equal(err, conn_endpoint_expected(CONN_ENDPOINT_SINK));
	bad("file:", CONN_ENDPOINT_SOURCE, source_msg);
	assert_string_equal(err, conn_endpoint_expected(CONN_ENDPOINT_SOURCE));
	/* a store spec of a known kind, malformed: a message of its own */
	bad("dir:", CONN_ENDPOINT_STORE, store_msg);
	assert_string_not_equal(err, conn_endpoint_expected(CONN_ENDPOINT_STORE));
	bad("redis://h:0", CONN_ENDPOINT_STORE, "redis: the port");
	bad("unix:", CONN_ENDPOINT_STORE, "redis: the socket path");
	bad("rediss://h", CONN_ENDPOINT_STORE, "TLS");
	assert_string_not_equal(err, conn_endpoint_expected(CONN_ENDPOINT_STORE));
}

static void test_redis_tcp(void **state)
{
	const struct conn_endpoint *e;

	(void)state;
	e = ok("redis://10.0.0.7", CONN_ENDPOINT_STORE);
	assert_int_equal(e->kind, CONN_ENDPOINT_REDIS);
	assert_string_equal(e->host, "10.0.0.7");
	assert_int_equal(e->port, 6379);
	assert_int_equal(e->db, 0);
	assert_int_equal(e->bracketed, 0);
	assert_null(e->user);
	assert_null(e->password);
	assert_null(e->path);
	assert_string_equal(e->where, "10.0.0.7:6379");
	e = ok("redis://:" SECRET "@redis.internal:6380/2", CONN_ENDPOINT_STORE);
	assert_string_equal(e->host, "redis.internal");
	assert_int_equal(e->port, 6380);
	assert_int_equal(e->db, 2);
	assert_null(e->user);
	assert_string_equal(e->password, SECRET);
	assert_int_equal(e->password_len, strlen(SECRET));
	assert_string_equal(e->where, "redis.internal:6380");
	e = ok("redis://alice:" SECRET "@h", CONN_ENDPOINT_STORE);
	assert_string_equal(e->user, "alice");
	assert_string_equal(e->password, SECRET);
	/* percent-decoded; the last '@' ends the password, the first ':' starts it */
	e = ok("redis://a%40b:p%40ss%3Aw%2Fd%25@h", CONN_ENDPOINT_STORE);
	assert_string_equal(e->user, "a@b");
	assert_string_equal(e->password, "p@ss:w/d%");
	e = ok("redis://:hun@ter2:x@h/1", CONN_ENDPOINT_STORE);
	assert_string_equal(e->password, "hun@ter2:x");
	assert_string_equal(e->host, "h");
	assert_int_equal(e->db, 1);
	e = ok("redis://:p/w@h", CONN_ENDPOINT_STORE);
	assert_string_equal(e->password, "p/w");
	assert_string_equal(e->host, "h");
	/* IPv6 literals, "/" alone, leading zeros, the largest database */
	e = ok("redis://:" SECRET "@[::1]:6380", CONN_ENDPOINT_STORE);
	assert_string_equal(e->host, "::1");
	assert_int_equal(e->port, 6380);
	assert_int_equal(e->bracketed, 1);
	assert_string_equal(e->where, "[::1]:6380");
	e = ok("redis://[::1]", CONN_ENDPOINT_STORE);
	assert_int_equal(e->port, 6379);
	assert_string_equal(e->where, "[::1]:6379");
	e = ok("redis://h/", CONN_ENDPOINT_STORE);
	assert_int_equal(e->db, 0);
	e = ok("redis://h:06379/000000002", CONN_ENDPOINT_STORE);
	assert_int_equal(e->port, 6379);
	assert_int_equal(e->db, 2);
	e = ok("redis://h/999999999", CONN_ENDPOINT_STORE);
	assert_int_equal(e->db, 999999999);

	/* every refusal of the store tests, with its message */
	bad("redis://", CONN_ENDPOINT_STORE, "redis: the host must be 1 to 255 bytes");
	bad("redis://:" SECRET "@", CONN_ENDPOINT_STORE, "the host must be 1 to 255 bytes");
	bad("redis://:" SECRET "@host:0", CONN_ENDPOINT_STORE, "the port must be 1 to 65535");
	bad("redis://:" SECRET "@host:65536", CONN_ENDPOINT_STORE, "the port must be 1 to 65535");
	bad("redis://:" SECRET "@host:port", CONN_ENDPOINT_STORE, "the port must be 1 to 65535");
	bad("redis://:" SECRET "@host:", CONN_ENDPOINT_STORE, "the port must be 1 to 65535");
	bad("redis://:" SECRET "@a:b:c", CONN_ENDPOINT_STORE, "the port must be 1 to 65535");
	bad("redis://:" SECRET "@host:6379/x", CONN_ENDPOINT_STORE,
	    "redis: the database must be a number");
	bad("redis://:" SECRET "@host:6379/1?db=2", CONN_ENDPOINT_STORE,
	    "the database must be a number");
	bad("redis://h/1234567890", CONN_ENDPOINT_STORE, "the database must be a number");
	bad("redis://h/-1", CONN_ENDPOINT_STORE, "the database must be a number");
	bad("redis://" SECRET "@host:6379", CONN_ENDPOINT_STORE,
	    "redis: the part before '@' must be [USER]:PASSWORD");
	bad("redis://:%zz" SECRET "@host", CONN_ENDPOINT_STORE,
	    "redis: malformed password (percent-encoding)");
	bad("redis://:" SECRET "%00@host", CONN_ENDPOINT_STORE, "malformed password");
	bad("redis://us%4zr:" SECRET "@host", CONN_ENDPOINT_STORE,
	    "redis: malformed user name (percent-encoding)");
	bad("redis://:@host", CONN_ENDPOINT_STORE, "redis: empty password");
	bad("redis://alice:@host", CONN_ENDPOINT_STORE, "empty password");
	bad("redis://:" SECRET "@[::1", CONN_ENDPOINT_STORE, "redis: malformed [IPv6] host");
	bad("redis://:" SECRET "@[::1]x", CONN_ENDPOINT_STORE, "malformed [IPv6] host");
	bad("redis://:" SECRET "@[]:1", CONN_ENDPOINT_STORE, "malformed [IPv6] host");
	bad("redis://:" SECRET "@[::1]:0", CONN_ENDPOINT_STORE, "the port must be 1 to 65535");
	bad("redis://:" SECRET "@ho st", CONN_ENDPOINT_STORE, "redis: malformed host");
	bad("redis://:" SECRET "@h]:1", CONN_ENDPOINT_STORE, "malformed host");
	bad("redis://:" SECRET "@h?db=1", CONN_ENDPOINT_STORE, "malformed host");
	{
		char spec[300] = "redis://";

		memset(spec + 8, 'h', 256);
		spec[8 + 256] = '\0';
		bad(spec, CONN_ENDPOINT_STORE, "the host must be 1 to 255 bytes");
		spec[8 + 255] = '\0';
		assert_int_equal(strlen(ok(spec, CONN_ENDPOINT_STORE)->host), 255);
	}
	bad("redis://h", CONN_ENDPOINT_SOURCE, source_msg);
}

static void test_redis_unix(void **state)
{
	const struct conn_endpoint *e;
	char spec[300], path[200];

	(void)state;
	/* the spelling driftd check-config refused while driftctl and doc/store.md took it */
	e = ok("redis+unix:///run/redis.sock", CONN_ENDPOINT_STORE);
	assert_int_equal(e->kind, CONN_ENDPOINT_REDIS_UNIX);
	assert_string_equal(e->path, "/run/redis.sock");
	assert_int_equal(e->db, 0);
	assert_null(e->password);
	assert_null(e->host);
	assert_string_equal(e->where, "unix:/run/redis.sock");
	e = ok("redis+unix://:" SECRET "@/run/redis/redis.sock", CONN_ENDPOINT_STORE);
	assert_string_equal(e->path, "/run/redis/redis.sock");
	assert_string_equal(e->password, SECRET);
	assert_null(e->user);
	e = ok("redis+unix://bob:" SECRET "@/run/r.sock?db=3", CONN_ENDPOINT_STORE);
	assert_string_equal(e->user, "bob");
	assert_string_equal(e->path, "/run/r.sock");
	assert_int_equal(e->db, 3);
	e = ok("redis+unix://relative.sock", CONN_ENDPOINT_STORE);
	assert_string_equal(e->path, "relative.sock");
	e = ok("unix:/run/redis.sock", CONN_ENDPOINT_STORE);
	assert_int_equal(e->kind, CONN_ENDPOINT_REDIS_UNIX);
	assert_string_equal(e->path, "/run/redis.sock");
	assert_string_equal(e->where, "unix:/run/redis.sock");
	e = ok("unix:/run/redis/redis.sock?db=1", CONN_ENDPOINT_STORE);
	assert_string_equal(e->path, "/run/redis/redis.sock");
	assert_int_equal(e->db, 1);
	e = ok("unix:/tmp/a?b.sock?db=4", CONN_ENDPOINT_STORE); /* the last '?' */
	assert_string_equal(e->path, "/tmp/a?b.sock");
	assert_int_equal(e->db, 4);
	e = ok("unix:/tmp/x@y.sock", CONN_ENDPOINT_STORE); /* no userinfo in unix: */
	assert_string_equal(e->path, "/tmp/x@y.sock");
	assert_null(e->password);

	bad("unix:", CONN_ENDPOINT_STORE, "redis: the socket path must be 1 to 107 bytes");
	bad("unix:?db=1", CONN_ENDPOINT_STORE, "the socket path must be 1 to 107 bytes");
	bad("unix:/tmp/x.sock?db=x", CONN_ENDPOINT_STORE,
	    "redis: a socket path may only be followed by ?db=N");
	bad("unix:/tmp/x.sock?db=", CONN_ENDPOINT_STORE, "followed by ?db=N");
	bad("unix:/tmp/x.sock?other=1", CONN_ENDPOINT_STORE, "followed by ?db=N");
	bad("redis+unix://:" SECRET "@", CONN_ENDPOINT_STORE, "the socket path must be 1 to");
	bad("redis+unix://", CONN_ENDPOINT_STORE, "the socket path must be 1 to");
	bad("redis+unix://" SECRET "@/x.sock", CONN_ENDPOINT_STORE, "must be [USER]:PASSWORD");
	bad("redis+unix://:@/x.sock", CONN_ENDPOINT_STORE, "empty password");
	/* 107 bytes fit sun_path, 108 do not */
	memset(path, 'p', 107);
	path[0] = '/';
	path[107] = '\0';
	snprintf(spec, sizeof spec, "unix:%s", path);
	assert_int_equal(strlen(ok(spec, CONN_ENDPOINT_STORE)->path), 107);
	snprintf(spec, sizeof spec, "unix:%sp", path);
	bad(spec, CONN_ENDPOINT_STORE, "socket path");
	snprintf(spec, sizeof spec, "redis+unix://%sp?db=1", path);
	bad(spec, CONN_ENDPOINT_STORE, "socket path");
	bad("unix:/x.sock", CONN_ENDPOINT_SINK, sink_msg);
}

static void test_release(void **state)
{
	struct conn_endpoint e;
	char *mem;

	(void)state;
	memset(&e, 0, sizeof e);
	conn_endpoint_free(&e); /* a zeroed struct */
	assert_int_equal(
	    conn_endpoint_parse("redis://:" SECRET "@h", CONN_ENDPOINT_STORE, &e, err, sizeof err),
	    0);
	mem = e.mem_;
	assert_non_null(mem);
	conn_endpoint_free(&e);
	assert_int_equal(e.kind, CONN_ENDPOINT_NONE);
	assert_null(e.password);
	assert_null(e.mem_);
	conn_endpoint_free(&e); /* twice is fine */
	/* a refused parse leaves nothing to free, and errlen 0 is allowed */
	assert_int_equal(conn_endpoint_parse("redis://:@h", CONN_ENDPOINT_STORE, &e, NULL, 0), -1);
	assert_null(e.mem_);
	assert_int_equal(
	    conn_endpoint_parse("kafka:t", (enum conn_endpoint_role)99, &e, err, sizeof err), -1);
	conn_endpoint_free(&ep);
}

/* ---- display ---- */

static void shows(const char *spec, const char *want)
{
	char out[256];
	size_t n = conn_endpoint_mask(spec, out, sizeof out);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
	assert_null(strstr(out, SECRET));
}

static void test_mask(void **state)
{
	char out[16];

	(void)state;
	/* the masking the config dump tests expect */
	shows("redis://:" SECRET "@h:6379/0", "redis://:***@h:6379/0");
	shows("redis://user:" SECRET "@h", "redis://user:***@h");
	shows("redis://" SECRET "@h", "redis://***@h");
	shows("redis://:hun@ter2:x" SECRET "@h/1", "redis://:***@h/1");
	shows("redis://h:6379", "redis://h:6379");
	shows("dir:/var/x@y", "dir:/var/x@y");
	shows("unix:/run/redis.sock", "unix:/run/redis.sock");
	/* and the other forms */
	shows("redis+unix://:" SECRET "@/run/redis/redis.sock",
	      "redis+unix://:***@/run/redis/redis.sock");
	shows("redis+unix://bob:" SECRET "@/r.sock?db=1", "redis+unix://bob:***@/r.sock?db=1");
	shows("redis+unix:///run/redis.sock", "redis+unix:///run/redis.sock");
	shows("rediss://:" SECRET "@h:6380", "rediss://:***@h:6380");
	shows("redis://:" SECRET "@", "redis://:***@");
	shows("redis://:@h", "redis://:***@h");
	shows("file:-", "file:-");
	shows("kafka:a,b", "kafka:a,b");
	/* anything else may be a bare password: hidden whole */
	shows(SECRET, "***");
	shows("ftp://" SECRET, "***");
	shows("ftp://u:" SECRET "@h", "***");
	shows("", "***");
	shows(NULL, "***");
	shows("Redis://:" SECRET "@h", "***");
	/* snprintf-like: the full length, a NUL-terminated prefix */
	assert_int_equal(conn_endpoint_mask("redis://:" SECRET "@h", out, 8), 14);
	assert_string_equal(out, "redis:/");
	assert_int_equal(conn_endpoint_mask("redis://:" SECRET "@h", out, 12), 14);
	assert_string_equal(out, "redis://:**");
	assert_int_equal(conn_endpoint_mask("redis://:" SECRET "@h", out, 15), 14);
	assert_string_equal(out, "redis://:***@h");
	assert_int_equal(conn_endpoint_mask("redis://:" SECRET "@h", NULL, 0), 14);
	assert_int_equal(conn_endpoint_mask("dir:/very/long/path", out, 8), 19);
	assert_string_equal(out, "dir:/ve");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),	   cmocka_unit_test(test_kafka),
		cmocka_unit_test(test_dir),	   cmocka_unit_test(test_redis_tcp),
		cmocka_unit_test(test_redis_unix), cmocka_unit_test(test_release),
		cmocka_unit_test(test_mask),	   cmocka_unit_test(test_expected),
	};

	return TU_RUN(tests);
}
