/*
 * test_log.c -- the log: text and JSON lines, levels, the facility filter; every JSON line is
 * valid JSON (parsed back) whatever bytes a message holds.
 */
#include "agent/log.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static char *capture(int json, int level, const char *facilities)
{
	static char buf[4096];
	FILE *f = tmpfile();
	size_t n;

	assert_non_null(f);
	agent_log_setup(f, json, level);
	agent_log_facilities(facilities);
	agent_log(AGENT_LOG_INFO, "window", "w %d", 1);
	agent_log(AGENT_LOG_INFO, "store", "s %d", 2);
	agent_log(AGENT_LOG_WARNING, "store", "s %d", 3);
	agent_log(AGENT_LOG_DEBUG, "window", "w %d", 4);
	agent_log(AGENT_LOG_INFO, "events", "quote \" and\nnewline");
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	agent_log_setup(stderr, 0, AGENT_LOG_ERR);
	agent_log_facilities(NULL);
	return buf;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_levels(void **state)
{
	char *out = capture(0, AGENT_LOG_INFO, NULL);

	(void)state;
	assert_int_equal(lines(out), 4); /* the debug line is dropped */
	assert_non_null(strstr(out, " info window: w 1\n"));
	assert_non_null(strstr(out, " warning store: s 3\n"));
	assert_null(strstr(out, "w 4"));
	assert_non_null(strstr(out, "quote \" and\\nnewline\n")); /* one event, one line */
}

static void test_facilities(void **state)
{
	char *out = capture(0, AGENT_LOG_DEBUG, "window,events");

	(void)state;
	assert_non_null(strstr(out, "w 1"));
	assert_non_null(strstr(out, "w 4"));   /* debug of a listed facility */
	assert_null(strstr(out, "s 2"));       /* info of another one: dropped */
	assert_non_null(strstr(out, "s 3"));   /* its warnings still pass */
	assert_non_null(strstr(out, "quote")); /* events is listed */
	out = capture(0, AGENT_LOG_DEBUG, "store");
	assert_null(strstr(out, "w 1"));
	assert_non_null(strstr(out, "s 2"));
}

static void test_json(void **state)
{
	char *out = capture(1, AGENT_LOG_INFO, NULL);

	(void)state;
	assert_non_null(strstr(out, "\"level\":\"info\",\"facility\":\"window\",\"msg\":\"w 1\"}"));
	assert_non_null(strstr(out, "\"msg\":\"quote \\\" and\\nnewline\"}"));
	assert_int_equal(lines(out), 4);
}

/* Messages with bytes that are not UTF-8, control characters and quotes: each JSON line
 * parses, and its msg is the message with every invalid byte as U+FFFD. */
static void test_json_always_valid(void **state)
{
	static const struct {
		const char *msg, *want;
	} cases[] = {
		{ "bad \xff byte", "bad \xef\xbf\xbd byte" },
		{ "cut \xc3", "cut \xef\xbf\xbd" },
		{ "surrogate \xed\xa0\x80", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd" },
		{ "ctl \x01\x1f\t\r\x7f q\"b\\", "ctl \x01\x1f\t\r\x7f q\"b\\" },
		{ "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80" },
	};
	char buf[4096], *line, *save = NULL;
	FILE *f = tmpfile();
	size_t n, k = 0;

	(void)state;
	assert_non_null(f);
	agent_log_setup(f, 1, AGENT_LOG_INFO);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		agent_log(AGENT_LOG_INFO, "records", "%s", cases[i].msg);
	agent_log(AGENT_LOG_INFO, "rec\xffords", "facility");
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	agent_log_setup(stderr, 0, AGENT_LOG_ERR);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), k++) {
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);

		if (!j)
			fail_msg("line %zu is not JSON (%s): %s", k, err.text, line);
		if (k < sizeof cases / sizeof *cases) {
			assert_string_equal(json_string_value(json_object_get(j, "msg")),
					    cases[k].want);
			assert_string_equal(json_string_value(json_object_get(j, "facility")),
					    "records");
		} else {
			assert_string_equal(json_string_value(json_object_get(j, "facility")),
					    "rec\xef\xbf\xbdords");
		}
		assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
		json_decref(j);
	}
	assert_int_equal(k, sizeof cases / sizeof *cases + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_facilities),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_always_valid),
	};

	return TU_RUN(tests);
}
