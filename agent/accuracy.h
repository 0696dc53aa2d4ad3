/*
 * accuracy.h -- how one record's prediction is scored against its label, the same way for a
 * baseline being built and for a live window.
 *
 *   label a string or boolean        classification: correct iff the prediction is the same
 *                                    string (a boolean compares as "true"/"false");
 *   label the number 0 or 1 and a    binary classification: correct iff
 *   numeric prediction               (prediction >= threshold) == label;
 *   label any other number and a     regression: absolute error |prediction - label|;
 *   numeric prediction
 *   anything else (no label, no prediction, kinds that do not match): not scored.
 */
#ifndef DRIFTD_AGENT_ACCURACY_H
#define DRIFTD_AGENT_ACCURACY_H

#include "connectors/record.h"

enum agent_score_kind {
	AGENT_SCORE_NONE = 0,		/* not scored */
	AGENT_SCORE_CLASSIFICATION = 1, /* *correct is 0 or 1 */
	AGENT_SCORE_REGRESSION = 2,	/* *abs_err is set */
};

enum agent_score_kind agent_accuracy_score(const struct conn_value *prediction,
					   const struct conn_value *label, double threshold,
					   int *correct, double *abs_err);

#endif
