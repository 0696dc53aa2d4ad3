/*
 * test_coverage.c -- which input partitions a window's counts account for (agent/coverage.h),
 * written from coverage.h: this agent's partitions; another's with a stored mark at or past the
 * window's end plus grace; nothing left unread (stored offset at the log end, or an empty
 * partition); never one another agent reads now with a mark short of it; without a census the
 * partitions are this agent's and the stored ones.
 */
#include "agent/coverage.h"
#include "agent/watermark.h"
#include "testutil.h"

#include <string.h>

#define NOW  1000000
#define NEED 500000

static int ours_01(void *arg, const char *name)
{
	(void)arg;
	return !strcmp(name, "t/0") || !strcmp(name, "t/1");
}

static const struct agent_census_part census6[] = {
	{ "t/0", 0, 100 }, { "t/1", 0, 100 }, { "t/2", 0, 100 },
	{ "t/3", 0, 100 }, { "t/4", 5, 5 },   { "t/5", 0, 100 },
};

static void judge(const struct agent_stored_part *st, size_t n, struct agent_coverage *cov)
{
	struct agent_coverage_in in = { .census = census6,
					.ncensus = 6,
					.stored = st,
					.nstored = n,
					.ours = ours_01,
					.nours = 2,
					.need = NEED,
					.now = NOW };

	agent_coverage_judge(&in, cov);
}

/* Nothing stored: this agent's two and the empty t/4 only; the others are named missing. */
static void test_unassigned(void **state)
{
	struct agent_coverage cov;

	(void)state;
	judge(NULL, 0, &cov);
	assert_int_equal(cov.partitions, 6);
	assert_int_equal(cov.covered, 3);
	assert_false(agent_coverage_complete(&cov));
	assert_int_equal(cov.nlisted, 3);
	assert_string_equal(cov.missing[0], "t/2");
	assert_string_equal(cov.missing[1], "t/3");
	assert_string_equal(cov.missing[2], "t/5");
	tu_assert_rel(agent_coverage_fraction(&cov), 0.5, 0, "fraction");
}

/* Each way a partition of another agent counts, and the one that never does. */
static void test_stored(void **state)
{
	const struct agent_stored_part st[] = {
		/* a mark past need, however old */
		{ "t/5", 10, NEED + 1, 0 },
		/* read now, everything read, but its mark short of need: its owner may still
		 * count records of the window */
		{ "t/2", 100, NEED - 1, NOW - 1000 },
		/* silent for longer than AGENT_STREAM_IDLE_MS, at its log end */
		{ "t/3", 100, NEED - 1, NOW - AGENT_STREAM_IDLE_MS - 1 },
	};
	struct agent_coverage cov;

	(void)state;
	judge(st, 3, &cov);
	assert_int_equal(cov.partitions, 6);
	assert_int_equal(cov.covered, 5);
	assert_int_equal(cov.nlisted, 1);
	assert_string_equal(cov.missing[0], "t/2");

	/* its owner dead with records left unread: missing */
	{
		const struct agent_stored_part dead[] = {
			{ "t/5", 10, NEED + 1, 0 },
			{ "t/2", 100, NEED + 5, NOW },
			{ "t/3", 99, NEED - 1, NOW - AGENT_STREAM_IDLE_MS - 1 },
		};

		judge(dead, 3, &cov);
		assert_int_equal(cov.covered, 5);
		assert_string_equal(cov.missing[0], "t/3");
	}
	/* every partition accounted for */
	{
		const struct agent_stored_part all[] = {
			{ "t/5", 10, NEED, 0 },
			{ "t/2", 100, NEED + 5, NOW },
			{ "t/3", 100, -1, NOW - AGENT_STREAM_IDLE_MS - 1 },
		};

		judge(all, 3, &cov);
		assert_true(agent_coverage_complete(&cov));
		assert_int_equal(cov.nlisted, 0);
		tu_assert_rel(agent_coverage_fraction(&cov), 1.0, 0, "fraction");
	}
}

/* Offsets the census could not read: only a stored mark past need accounts for it. */
static void test_unknown_offsets(void **state)
{
	const struct agent_census_part c[] = { { "t/0", 0, 100 },
					       { "t/7", -1, -1 },
					       { "t/8", -1, -1 } };
	const struct agent_stored_part st[] = { { "t/7", 100, NEED - 1, 0 },
						{ "t/8", 3, NEED, 0 } };
	struct agent_coverage_in in = { .census = c,
					.ncensus = 3,
					.stored = st,
					.nstored = 2,
					.ours = ours_01,
					.nours = 1,
					.need = NEED,
					.now = NOW };
	struct agent_coverage cov;

	(void)state;
	agent_coverage_judge(&in, &cov);
	assert_int_equal(cov.partitions, 3);
	assert_int_equal(cov.covered, 2);
	assert_string_equal(cov.missing[0], "t/7");
}

/* More missing than listed: the count stays exact. */
static void test_many_missing(void **state)
{
	struct agent_census_part c[40];
	char names[40][16];
	struct agent_coverage_in in = {
		.census = c, .ncensus = 40, .ours = ours_01, .need = NEED, .now = NOW
	};
	struct agent_coverage cov;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof names[i], "t/%d", i);
		c[i] = (struct agent_census_part){ names[i], 0, 10 };
	}
	agent_coverage_judge(&in, &cov);
	assert_int_equal(cov.partitions, 40);
	assert_int_equal(cov.covered, 2);
	assert_int_equal(cov.nlisted, AGENT_COVERAGE_LISTED);
	assert_string_equal(cov.missing[0], "t/2");
	assert_string_equal(cov.missing[AGENT_COVERAGE_LISTED - 1], "t/9");
}

/* No census: this agent's partitions and the others' in the store, labels partitions aside; a
 * stored partition read now and behind is missing, an idle one is not. */
static void test_no_census(void **state)
{
	const struct agent_stored_part st[] = {
		{ "t/0", 5, NEED - 1, NOW },				/* ours */
		{ "labels/0", 5, INT64_MAX, NOW },			/* labels: not counted */
		{ "t/2", 5, NEED - 1, NOW - 1 },			/* behind */
		{ "t/3", 5, NEED - 1, NOW - AGENT_STREAM_IDLE_MS - 1 }, /* idle */
	};
	struct agent_coverage_in in = {
		.stored = st, .nstored = 4, .ours = ours_01, .nours = 2, .need = NEED, .now = NOW
	};
	struct agent_coverage cov;

	(void)state;
	agent_coverage_judge(&in, &cov);
	assert_int_equal(cov.partitions, 4);
	assert_int_equal(cov.covered, 3);
	assert_string_equal(cov.missing[0], "t/2");
	/* a file: nothing known, complete */
	in.nstored = 0;
	in.nours = 0;
	agent_coverage_judge(&in, &cov);
	assert_int_equal(cov.partitions, 0);
	assert_true(agent_coverage_complete(&cov));
	tu_assert_rel(agent_coverage_fraction(&cov), 1.0, 0, "fraction");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unassigned),	cmocka_unit_test(test_stored),
		cmocka_unit_test(test_unknown_offsets), cmocka_unit_test(test_many_missing),
		cmocka_unit_test(test_no_census),
	};

	return TU_RUN(tests);
}
