/*
 * coverage.c -- which input partitions a window's counts account for (coverage.h).
 */
#include "agent/coverage.h"
#include "agent/watermark.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct agent_stored_part *)a)->name,
		      ((const struct agent_stored_part *)b)->name);
}

static const struct agent_stored_part *find_stored(const struct agent_stored_part *v, size_t n,
						   const char *name)
{
	struct agent_stored_part key = { .name = name };

	return n ? bsearch(&key, v, n, sizeof *v, by_name) : NULL;
}

/* Whether another agent reads s now with a mark short of need: it may still count records of
 * the window. */
static int behind(const struct agent_coverage_in *in, const struct agent_stored_part *s)
{
	return s->updated_ms >= in->now - AGENT_STREAM_IDLE_MS && s->hwm_ms < in->need;
}

static void miss(struct agent_coverage *out, const char *name)
{
	if (out->nlisted < AGENT_COVERAGE_LISTED)
		snprintf(out->missing[out->nlisted++], AGENT_COVERAGE_NAME, "%s", name);
}

/* A census partition not this agent's: accounted for? */
static int accounted(const struct agent_coverage_in *in, const struct agent_census_part *p,
		     const struct agent_stored_part *s)
{
	int unread_none; /* nothing of it is left unread, as the census saw it */

	if (s && s->hwm_ms >= in->need)
		return 1;
	if (s && behind(in, s))
		return 0;
	unread_none = p->high >= 0 && (p->low == p->high || (s && s->next_offset >= p->high));
	return unread_none;
}

void agent_coverage_judge(const struct agent_coverage_in *in, struct agent_coverage *out)
{
	struct agent_stored_part *sorted = NULL;
	const struct agent_stored_part *stored = in->stored;

	memset(out, 0, sizeof *out);
	if (in->nstored &&
	    (sorted = malloc(in->nstored * sizeof *sorted))) { /* no memory: linear search */
		memcpy(sorted, in->stored, in->nstored * sizeof *sorted);
		qsort(sorted, in->nstored, sizeof *sorted, by_name);
		stored = sorted;
	}
	if (in->census) {
		for (size_t i = 0; i < in->ncensus; i++) {
			const struct agent_census_part *p = &in->census[i];
			const struct agent_stored_part *s = NULL;

			out->partitions++;
			if (in->ours(in->arg, p->name)) {
				out->covered++;
				continue;
			}
			if (sorted)
				s = find_stored(sorted, in->nstored, p->name);
			else
				for (size_t j = 0; j < in->nstored && !s; j++)
					if (!strcmp(in->stored[j].name, p->name))
						s = &in->stored[j];
			if (accounted(in, p, s))
				out->covered++;
			else
				miss(out, p->name);
		}
	} else {
		/* no census: this agent's partitions and the others' in the store */
		out->partitions = out->covered = (uint32_t)in->nours;
		for (size_t j = 0; j < in->nstored; j++) {
			const struct agent_stored_part *s = &stored[j];

			if (s->hwm_ms == INT64_MAX || in->ours(in->arg, s->name))
				continue; /* a labels partition, or ours */
			out->partitions++;
			if (behind(in, s))
				miss(out, s->name);
			else
				out->covered++;
		}
	}
	free(sorted);
}

double agent_coverage_fraction(const struct agent_coverage *c)
{
	return c->partitions ? (double)c->covered / (double)c->partitions : 1.0;
}

int agent_coverage_complete(const struct agent_coverage *c)
{
	return c->covered == c->partitions;
}
