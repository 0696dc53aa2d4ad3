/*
 * baselines.h -- the engine's baseline cache: baselines loaded from the store once per (model,
 * version) and kept (a version with none in the store is looked up again next time), the
 * model's last known good version, and the choice of a new window's comparison baseline (SPEC.md
 * "Baseline"): the last known good version's (with none, the version's own), or the version's
 * own with baseline = self. Store failures are counted in the counters' store_errors.
 */
#ifndef DRIFTD_AGENT_BASELINES_H
#define DRIFTD_AGENT_BASELINES_H

#include "agent/baseline.h"
#include "agent/config.h"
#include "connectors/store.h"

#include <stdint.h>

struct agent_baselines;

/* store and store_errors are borrowed. NULL on no memory. */
struct agent_baselines *agent_baselines_new(struct conn_store *store, uint64_t *store_errors);
void agent_baselines_free(struct agent_baselines *bl);

/* The baseline of (model, version), from the cache or the store; NULL when there is none (or
 * it is invalid: logged). */
const struct agent_baseline *agent_baselines_get(struct agent_baselines *bl, const char *model,
						 const char *version);
/* The model's last known good version (malloc'd), or NULL (none, or the store failed). A good
 * version read once and missing later (a good version is never unset: the store was emptied
 * or replaced) is logged at err, counted, and the one known is returned. */
char *agent_baselines_good(struct agent_baselines *bl, const char *model);
/* Models whose good version the store lost (and is still missing), and in *events (when not
 * NULL) how many times one was found gone. */
size_t agent_baselines_lost(const struct agent_baselines *bl, uint64_t *events);
/* The comparison baseline of a new window of (model, version) under ref; NULL when none. When
 * the store cannot be read, the baseline of version `previous` (the one the version's last
 * window was compared with; NULL: none) is taken from the cache instead, logged at warning: a
 * store timeout never turns a window into inconclusive(no_baseline) when its baseline is known. */
const struct agent_baseline *agent_baselines_choose(struct agent_baselines *bl,
						    enum agent_baseline_ref ref, const char *model,
						    const char *version, const char *previous);

#endif
