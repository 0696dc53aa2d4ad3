/*
 * accuracy.c -- scoring one prediction against its label (see accuracy.h).
 */
#include "agent/accuracy.h"

#include <math.h>
#include <string.h>

/* The categorical text of a string or boolean value. */
static int as_text(const struct conn_value *v, const char **s, size_t *len)
{
	if (v->kind == CONN_VALUE_STRING) {
		*s = v->str;
		*len = v->len;
		return 1;
	}
	if (v->kind == CONN_VALUE_BOOL) {
		*s = v->b ? "true" : "false";
		*len = v->b ? 4 : 5;
		return 1;
	}
	return 0;
}

enum agent_score_kind agent_accuracy_score(const struct conn_value *prediction,
					   const struct conn_value *label, double threshold,
					   int *correct, double *abs_err)
{
	const char *ls, *ps;
	size_t ll, pl;

	if (as_text(label, &ls, &ll)) {
		if (!as_text(prediction, &ps, &pl))
			return AGENT_SCORE_NONE;
		*correct = ll == pl && memcmp(ls, ps, ll) == 0;
		return AGENT_SCORE_CLASSIFICATION;
	}
	if (label->kind != CONN_VALUE_NUMBER || prediction->kind != CONN_VALUE_NUMBER)
		return AGENT_SCORE_NONE;
	if (label->num == 0.0 || label->num == 1.0) {
		*correct = (prediction->num >= threshold) == (label->num == 1.0);
		return AGENT_SCORE_CLASSIFICATION;
	}
	*abs_err = fabs(prediction->num - label->num);
	return AGENT_SCORE_REGRESSION;
}
