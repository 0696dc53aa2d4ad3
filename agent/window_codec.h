/*
 * window_codec.h -- a window's counts as bytes: the partial state an agent checkpoints to the
 * store (engine.h, doc/delivery.md) and merges back when the window is decided.
 *
 * Format (version 1; the byte rules of stats/codec.h): magic "DWIN", version 1; start_ms and
 * end_ms (zig-zag varints); the baseline's identity -- version name (varint length + bytes,
 * empty without a baseline), sample count, feature count, whether it has a prediction --; the
 * record-level counts (n, errors, error_known, scored, correct, reg_n, labels, unknown_values as
 * varints, abs_err_sum as f64); the latency sketch (varint length + stats_sketch bytes); then per
 * baseline feature (prediction last): present, nulls, mismatched (varints) and its histogram or
 * category counts (varint length + stats_hist / stats_cat bytes). A window decodes only onto a
 * window bound to the same baseline (same identity and edges): a partial made against another
 * baseline is refused, never mixed in.
 */
#ifndef DRIFTD_AGENT_WINDOW_CODEC_H
#define DRIFTD_AGENT_WINDOW_CODEC_H

#include "agent/window.h"

#include <stdint.h>

/* Flushes w's pending columns and encodes it into a malloc'd buffer (*out, *len). 0, or -1 when
 * memory ran out. */
int agent_window_encode(struct agent_window *w, uint8_t **out, size_t *len);

/* Decodes buf and adds its counts to dst (flushed first). 0; -1 with a reason in err when buf is
 * malformed, bound to another baseline or covers another span (dst is then unchanged), or when
 * memory ran out or a counter would overflow (dst may then hold part of the counts). */
int agent_window_decode_merge(struct agent_window *dst, const uint8_t *buf, size_t len,
			      size_t max_categories, char *err, size_t errlen);

#endif
