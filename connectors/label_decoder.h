/*
 * label_decoder.h -- the delayed ground-truth message (SPEC.md "Inference log record": labels
 * arrive on a separate topic) decoded into a neutral form: one JSON object per message,
 *
 *     {"model":"fraud","request_id":"7f3a9c","label":1}
 *
 * joined later to its prediction by (model, request_id) (agent/join_table.h). Labels are low
 * volume, so there is one decoder, on jansson.
 *
 * Validation, in this order; the first failing check names the rejection (steps 1-5 are those
 * of the record decoder, record.h, and give the same reason for the same text -- the fuzz target
 * tests/fuzz/fuzz_label.c checks it):
 *   1. size > limits.max_message                                 -> CONN_REJECT_TOO_LARGE
 *   2. not a syntactically valid JSON text (anywhere, including values of unknown keys; an
 *      empty text; invalid UTF-8; a NUL byte; a string containing \u0000; a number
 *      overflowing a double)                                     -> CONN_REJECT_BAD_JSON
 *   3. nesting deeper than limits.max_depth (the top object is depth 1)
 *                                                                -> CONN_REJECT_TOO_DEEP
 *   4. the top-level value is not an object                      -> CONN_REJECT_NOT_OBJECT
 *   5. a key repeated in the top object (compared after unescaping; repeats inside nested
 *      values of unknown keys are allowed)                       -> CONN_REJECT_DUPLICATE_KEY
 *   6. then field by field, in this order:
 *      model        absent -> MISSING_MODEL; null, not a string, empty or longer than
 *                   limits.max_name bytes -> BAD_MODEL
 *      request_id   absent, null, not a string, empty or longer than limits.max_name bytes
 *                   -> BAD_REQUEST_ID (required here: it is the join key)
 *      label        absent or null -> BAD_LABEL (a label message without a label is useless);
 *                   a number (IEEE double correctly rounded from the text), a string of at
 *                   most limits.max_value bytes (empty allowed) or a boolean, as a record's
 *                   label (record.h); anything else (array, object, longer string) -> BAD_LABEL
 *   Every other top-level key is allowed and ignored (producers add fields: "version", "ts",
 *   ...), but its value must still be valid JSON within the depth limit.
 * Lengths are bytes after unescaping. Running out of memory during a decode gives TOO_LARGE.
 * Only limits.max_message, max_name, max_value and max_depth are used; conn_label_decoder_new
 * refuses the same out-of-range limits as conn_decoder_new (record.h).
 *
 * No reason is new: the label decoder reuses enum conn_reject and conn_reject_name (record.h),
 * so a dead-letter header or a rejection counter reads the same for records and labels.
 */
#ifndef DRIFTD_CONN_LABEL_H
#define DRIFTD_CONN_LABEL_H

#include "connectors/record.h"

#include <stddef.h>

/* A decoded label message. Every pointer points into memory owned by the decoder, valid until
 * the next conn_label_decode on the same decoder or its free: copy what must outlive it. */
struct conn_label {
	const char *model; /* not NUL-terminated, no NUL inside; 1..max_name bytes */
	size_t model_len;
	const char *request_id; /* idem */
	size_t request_id_len;
	struct conn_value label; /* never CONN_VALUE_MISSING; str as request_id */
};

struct conn_label_decoder;

/* NULL with a message in errbuf when a limit is out of range or memory is short. Borrows l,
 * copies it. */
struct conn_label_decoder *conn_label_decoder_new(const struct conn_limits *l, char *errbuf,
						  size_t errlen);
/* Frees d and the tree of its last message. NULL is a no-op. */
void conn_label_decoder_free(struct conn_label_decoder *d);

/* Decodes one message (buf need not be NUL-terminated; it is not modified; NULL is allowed when
 * len is 0). Returns CONN_REJECT_NONE and fills *out, or the rejection reason (then *out is
 * zeroed). Never aborts; O(len); memory bounded by the limits. */
enum conn_reject conn_label_decode(struct conn_label_decoder *d, const char *buf, size_t len,
				   struct conn_label *out);

#endif
