/*
 * test_log.c -- the log: text and JSON lines, levels, the facility filter.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_facilities),
		cmocka_unit_test(test_json),
	};

	return TU_RUN(tests);
}
