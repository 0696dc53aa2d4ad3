/*
 * test_decide.c -- rule outcomes to decisions: streaks over pass / breach / inconclusive, the
 * breach_windows count, hold, latch (store and dry-run), cooldown, global and per-rule dry run,
 * the rollback target and needs_target, and the decision on a P0 alert. Every expectation is
 * written from SPEC.md "Windows and decisions" and decide.h, window by window.
 */
#include "agent/decide.h"
#include "testutil.h"

#include <string.h>

/* An evaluation with only the given rule enabled, in the given outcome. */
static struct agent_eval eval_with(int rule, enum agent_outcome o, int dry)
{
	struct agent_eval e;

	memset(&e, 0, sizeof e);
	e.end_ms = 60000;
	for (int r = 0; r < AGENT_RULE_COUNT; r++)
		e.rule[r].outcome = AGENT_INCONCLUSIVE;
	e.rule[rule].enabled = 1;
	e.rule[rule].outcome = o;
	e.rule[rule].dry_run = dry;
	return e;
}

static const struct agent_decide_ctx plain = { .good_version = "v1", .version = "v2" };

static void step(struct agent_streaks *st, int rule, enum agent_outcome o,
		 const struct agent_decide_ctx *ctx, struct agent_decision *d)
{
	struct agent_eval e = eval_with(rule, o, 0);

	agent_decide(st, &e, 2, 0, ctx, d);
}

static void test_streak_needs_two(void **state)
{
	struct agent_streaks st = { 0 };
	struct agent_decision d;

	(void)state;
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &plain, &d);
	assert_false(d.fire);
	assert_int_equal(d.streak[AGENT_RULE_KL], 1);
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &plain, &d);
	assert_true(d.fire);
	assert_string_equal(d.type, AGENT_EVENT_ROLLBACK);
	assert_string_equal(d.trigger, "drift");
	assert_string_equal(d.to_version, "v1");
	assert_int_equal(d.breach_windows, 2);
	assert_false(d.dry_run);
	/* streaks restart after an event */
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &plain, &d);
	assert_false(d.fire);
	assert_int_equal(d.streak[AGENT_RULE_KL], 1);
}

static void test_pass_resets_inconclusive_keeps(void **state)
{
	struct agent_streaks st = { 0 };
	struct agent_decision d;

	(void)state;
	step(&st, AGENT_RULE_LATENCY, AGENT_BREACH, &plain, &d);
	step(&st, AGENT_RULE_LATENCY, AGENT_PASS, &plain, &d);
	assert_int_equal(d.streak[AGENT_RULE_LATENCY], 0);
	step(&st, AGENT_RULE_LATENCY, AGENT_BREACH, &plain, &d);
	assert_false(d.fire);
	/* an inconclusive window is no evidence either way */
	step(&st, AGENT_RULE_LATENCY, AGENT_INCONCLUSIVE, &plain, &d);
	assert_false(d.fire);
	assert_int_equal(d.streak[AGENT_RULE_LATENCY], 1);
	step(&st, AGENT_RULE_LATENCY, AGENT_BREACH, &plain, &d);
	assert_true(d.fire);
	assert_string_equal(d.trigger, "latency");
}

static void test_inconclusive_never_fires(void **state)
{
	struct agent_streaks st = { 0 };
	struct agent_decision d;

	(void)state;
	for (int i = 0; i < 10; i++) {
		step(&st, AGENT_RULE_ACCURACY, AGENT_INCONCLUSIVE, &plain, &d);
		assert_false(d.fire);
		assert_int_equal(d.fired_mask, 0);
	}
}

static void test_disabled_rule_ignored(void **state)
{
	struct agent_streaks st = { 0 };
	struct agent_decision d;
	struct agent_eval e = eval_with(AGENT_RULE_KL, AGENT_BREACH, 0);

	(void)state;
	e.rule[AGENT_RULE_KL].enabled = 0;
	for (int i = 0; i < 3; i++) {
		agent_decide(&st, &e, 1, 0, &plain, &d);
		assert_false(d.fire);
	}
}

static void test_hold_latch_cooldown(void **state)
{
	struct agent_decide_ctx ctx = plain;
	struct agent_streaks st = { 0 };
	struct agent_decision d;

	(void)state;
	ctx.hold = 1;
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &ctx, &d);
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &ctx, &d);
	assert_false(d.fire);
	assert_string_equal(d.blocked, "hold");
	assert_true(d.fired_mask & (1u << AGENT_RULE_KL));
	/* released: the streak went on, so the next breach fires */
	ctx.hold = 0;
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &ctx, &d);
	assert_true(d.fire);

	memset(&st, 0, sizeof st);
	ctx.latched = 1;
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &ctx, &d);
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &ctx, &d);
	assert_false(d.fire);
	assert_string_equal(d.blocked, "latched");

	memset(&st, 0, sizeof st);
	ctx.latched = 0;
	ctx.in_cooldown = 1;
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &ctx, &d);
	step(&st, AGENT_RULE_KL, AGENT_BREACH, &ctx, &d);
	assert_false(d.fire);
	assert_string_equal(d.blocked, "cooldown");
}

static void test_dry_run(void **state)
{
	struct agent_streaks st = { 0 };
	struct agent_decision d;
	struct agent_eval e = eval_with(AGENT_RULE_KL, AGENT_BREACH, 0);
	struct agent_decide_ctx ctx = plain;

	(void)state;
	/* global dry run */
	agent_decide(&st, &e, 1, 1, &plain, &d);
	assert_true(d.fire);
	assert_true(d.dry_run);
	assert_string_equal(d.type, AGENT_EVENT_DRYRUN);
	/* dry-run latched in memory: not again */
	agent_decide(&st, &e, 1, 1, &plain, &d);
	assert_false(d.fire);
	assert_string_equal(d.blocked, "latched");
	/* but a real decision is not blocked by the dry latch, and cooldown does not hold dry runs
	 */
	agent_decide(&st, &e, 1, 0, &plain, &d);
	assert_true(d.fire);
	assert_string_equal(d.type, AGENT_EVENT_ROLLBACK);

	/* per-rule dry run: only when every firing rule is dry */
	memset(&st, 0, sizeof st);
	e = eval_with(AGENT_RULE_KL, AGENT_BREACH, 1);
	ctx.in_cooldown = 1;
	agent_decide(&st, &e, 1, 0, &ctx, &d);
	assert_true(d.fire);
	assert_string_equal(d.type, AGENT_EVENT_DRYRUN);
	memset(&st, 0, sizeof st);
	e.rule[AGENT_RULE_LATENCY].enabled = 1;
	e.rule[AGENT_RULE_LATENCY].outcome = AGENT_BREACH;
	ctx.in_cooldown = 0;
	agent_decide(&st, &e, 1, 0, &ctx, &d);
	assert_true(d.fire);
	assert_string_equal(d.type, AGENT_EVENT_ROLLBACK);
	assert_string_equal(d.trigger, "drift"); /* the first firing rule in order */
	assert_int_equal(d.fired_mask, (1u << AGENT_RULE_KL) | (1u << AGENT_RULE_LATENCY));
}

static void test_targets(void **state)
{
	struct agent_streaks st = { 0 };
	struct agent_decision d;
	struct agent_decide_ctx none = { .good_version = NULL, .version = "v2" };
	struct agent_decide_ctx self = { .good_version = "v2", .version = "v2" };
	struct agent_eval e = eval_with(AGENT_RULE_ACCURACY, AGENT_BREACH, 0);

	(void)state;
	agent_decide(&st, &e, 1, 0, &none, &d);
	assert_true(d.fire);
	assert_string_equal(d.type, AGENT_EVENT_NEEDS_TARGET);
	assert_null(d.to_version);
	assert_string_equal(d.trigger, "accuracy");
	/* never a rollback to the very version being rolled back */
	agent_decide(&st, &e, 1, 0, &self, &d);
	assert_string_equal(d.type, AGENT_EVENT_NEEDS_TARGET);
	assert_null(d.to_version);
}

/* A P0 alert: no streak, no cooldown; hold then latch block it; the target as for windows. */
static void test_alert(void **state)
{
	struct agent_decide_ctx ctx = plain;
	struct agent_decision d;

	(void)state;
	ctx.in_cooldown = 1; /* does not apply to alerts */
	agent_decide_alert(0, &ctx, &d);
	assert_true(d.fire);
	assert_null(d.blocked);
	assert_string_equal(d.type, AGENT_EVENT_ROLLBACK);
	assert_string_equal(d.trigger, "alert");
	assert_string_equal(d.to_version, "v1");
	assert_false(d.dry_run);
	assert_int_equal(d.fired_mask, 0);

	agent_decide_alert(1, &ctx, &d); /* global dry run: the target is still named */
	assert_true(d.fire);
	assert_string_equal(d.type, AGENT_EVENT_DRYRUN);
	assert_string_equal(d.to_version, "v1");
	assert_true(d.dry_run);

	ctx.good_version = "v2"; /* the good version itself: nowhere to go */
	agent_decide_alert(0, &ctx, &d);
	assert_string_equal(d.type, AGENT_EVENT_NEEDS_TARGET);
	assert_null(d.to_version);
	ctx.good_version = NULL;
	agent_decide_alert(0, &ctx, &d);
	assert_string_equal(d.type, AGENT_EVENT_NEEDS_TARGET);
	assert_null(d.to_version);

	ctx.latched = 1;
	agent_decide_alert(0, &ctx, &d);
	assert_false(d.fire);
	assert_string_equal(d.blocked, "latched");
	assert_null(d.type);
	ctx.hold = 1; /* hold is named first */
	agent_decide_alert(1, &ctx, &d);
	assert_false(d.fire);
	assert_string_equal(d.blocked, "hold");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streak_needs_two),
		cmocka_unit_test(test_pass_resets_inconclusive_keeps),
		cmocka_unit_test(test_inconclusive_never_fires),
		cmocka_unit_test(test_disabled_rule_ignored),
		cmocka_unit_test(test_hold_latch_cooldown),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_alert),
	};

	return TU_RUN(tests);
}
