/*
 * decide.c -- streaks, hold, latch, cooldown, dry run and the rollback target (see decide.h).
 */
#include "agent/decide.h"

#include <string.h>

static const char *trigger_of(int rule)
{
	switch (rule) {
	case AGENT_RULE_KL:
	case AGENT_RULE_PSI:
	case AGENT_RULE_JS:
		return "drift";
	case AGENT_RULE_LATENCY:
		return "latency";
	case AGENT_RULE_ACCURACY:
		return "accuracy";
	default:
		return "error_rate";
	}
}

void agent_decide(struct agent_streaks *st, const struct agent_eval *e, unsigned breach_windows,
		  int global_dry_run, const struct agent_decide_ctx *ctx, struct agent_decision *d)
{
	int all_dry = 1;

	memset(d, 0, sizeof *d);
	if (breach_windows == 0)
		breach_windows = 1;
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		const struct agent_rule_result *rr = &e->rule[r];

		if (!rr->enabled) {
			st->n[r] = 0;
			continue;
		}
		if (rr->outcome == AGENT_BREACH)
			st->n[r]++;
		else if (rr->outcome == AGENT_PASS)
			st->n[r] = 0;
		if (st->n[r] >= breach_windows) {
			d->fired_mask |= 1u << r;
			if (!d->trigger)
				d->trigger = trigger_of(r);
			if (st->n[r] > d->breach_windows)
				d->breach_windows = st->n[r];
			all_dry &= rr->dry_run != 0;
		}
	}
	memcpy(d->streak, st->n, sizeof d->streak);
	if (!d->fired_mask)
		return;
	d->dry_run = global_dry_run || all_dry;
	if (ctx->hold)
		d->blocked = "hold";
	else if (ctx->latched || (d->dry_run && st->dry_latched))
		d->blocked = "latched";
	else if (ctx->in_cooldown && !d->dry_run)
		d->blocked = "cooldown";
	if (d->blocked)
		return;
	d->fire = 1;
	if (ctx->good_version && strcmp(ctx->good_version, ctx->version) != 0)
		d->to_version = ctx->good_version;
	if (d->dry_run) {
		d->type = AGENT_EVENT_DRYRUN;
		st->dry_latched = 1;
	} else {
		d->type = d->to_version ? AGENT_EVENT_ROLLBACK : AGENT_EVENT_NEEDS_TARGET;
	}
	memset(st->n, 0, sizeof st->n);
}

void agent_decide_alert(int global_dry_run, const struct agent_decide_ctx *ctx,
			struct agent_decision *d)
{
	memset(d, 0, sizeof *d);
	d->trigger = "alert";
	d->dry_run = global_dry_run;
	if (ctx->hold)
		d->blocked = "hold";
	else if (ctx->latched)
		d->blocked = "latched";
	if (d->blocked)
		return;
	d->fire = 1;
	if (ctx->good_version && strcmp(ctx->good_version, ctx->version) != 0)
		d->to_version = ctx->good_version;
	d->type = global_dry_run  ? AGENT_EVENT_DRYRUN
		  : d->to_version ? AGENT_EVENT_ROLLBACK
				  : AGENT_EVENT_NEEDS_TARGET;
}
