/*
 * fuzz_window.c -- fuzz target of agent_window_decode_merge, the parser of the partial windows
 * agents checkpoint to the store and merge back when a window is decided (window_codec.h).
 *
 * Any input is refused with a reason (the window it was merged into left empty) or accepted;
 * an accepted partial must hold the window's invariants (each feature's present + mismatched
 * <= n, correct <= scored) and survive a round trip: encoded again, merged into an empty window,
 * encoded once more, the bytes are the same.
 */
#include "fuzz.h"
#include "agent/baseline.h"
#include "agent/window_codec.h"

#include <string.h>

#define START 1795730040000LL
#define END   (START + 60000)

static const char *const cats[] = { "DE", "FR", "US", "IT" };

static void record(struct conn_record *r, struct conn_feature f[2], uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	memset(r, 0, sizeof *r);
	r->model = "m";
	r->model_len = 1;
	r->version = "v";
	r->version_len = 1;
	f[0] = (struct conn_feature){ .name = "amount",
				      .name_len = 6,
				      .value = { .kind = CONN_VALUE_NUMBER,
						 .num = (double)(*x >> 44) / 64.0 } };
	f[1] = (struct conn_feature){
		.name = "country",
		.name_len = 7,
		.value = { .kind = CONN_VALUE_STRING, .str = cats[(*x >> 20) % 4], .len = 2 }
	};
	r->features = f;
	r->nfeatures = 2;
	r->prediction = (struct conn_value){ .kind = CONN_VALUE_NUMBER,
					     .num = (double)((*x >> 30) % 100) / 100.0 };
	r->label = (struct conn_value){ .kind = CONN_VALUE_NUMBER, .num = (double)((*x >> 8) & 1) };
	r->has_latency = 1;
	r->latency_ms = (double)((*x >> 12) % 5000) / 10.0;
}

/* The baseline every window is bound to (built once). */
static const struct agent_baseline *baseline(void)
{
	static struct agent_baseline *b;
	struct agent_baseline_builder *bb;
	uint64_t x = 42;
	char err[128];

	if (b)
		return b;
	bb = agent_baseline_builder_new("m", "v", 8, 16, 0.5);
	FUZZ_CHECK(bb != NULL);
	for (int i = 0; i < 500; i++) {
		struct conn_record r;
		struct conn_feature f[2];

		record(&r, f, &x);
		FUZZ_CHECK(agent_baseline_builder_add(bb, &r) == 0);
	}
	b = agent_baseline_builder_finish(bb, 1, err, sizeof err);
	FUZZ_CHECK(b != NULL);
	return b;
}

static void check_feature(const struct agent_lfeature *f, uint64_t n)
{
	FUZZ_CHECK(f->present + f->nulls + f->mismatched <= n);
	FUZZ_CHECK(f->present == (f->hist ? stats_hist_total(f->hist) : stats_cat_total(f->cat)));
}

/* What the decoder promises of an accepted partial. */
static void check(const struct agent_window *w)
{
	for (size_t i = 0; i < w->nf; i++)
		check_feature(&w->f[i], w->n);
	check_feature(&w->pred, w->n);
	FUZZ_CHECK(w->correct <= w->scored && w->scored + w->reg_n <= w->labels);
	FUZZ_CHECK(w->errors <= w->error_known && w->error_known <= w->n);
	FUZZ_CHECK(stats_sketch_count(w->latency) <= w->n);
	FUZZ_CHECK(w->start_ms == START && w->end_ms == END);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_window *w = agent_window_new(START, END, baseline(), 16), *w2;
	uint8_t *e1, *e2;
	size_t l1, l2;
	char err[160] = "";

	FUZZ_CHECK(w != NULL);
	if (agent_window_decode_merge(w, data, size, 16, err, sizeof err) < 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(w->n == 0 && w->scored == 0 && stats_sketch_count(w->latency) == 0);
		agent_window_free(w);
		return 0;
	}
	check(w);
	FUZZ_CHECK(agent_window_encode(w, &e1, &l1) == 0);
	w2 = agent_window_new(START, END, baseline(), 16);
	FUZZ_CHECK(w2 != NULL);
	FUZZ_CHECK(agent_window_decode_merge(w2, e1, l1, 16, err, sizeof err) == 0);
	FUZZ_CHECK(agent_window_encode(w2, &e2, &l2) == 0);
	FUZZ_CHECK(l1 == l2 && memcmp(e1, e2, l1) == 0);
	free(e1);
	free(e2);
	agent_window_free(w);
	agent_window_free(w2);
	return 0;
}

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	struct agent_window *w;
	uint64_t x = 7 + i;
	uint8_t *e;
	size_t len;

	if (i > 3)
		return 0;
	w = agent_window_new(START, END, baseline(), 16);
	FUZZ_CHECK(w != NULL);
	for (unsigned k = 0; k < i * 40; k++) {
		struct conn_record r;
		struct conn_feature f[2];

		record(&r, f, &x);
		FUZZ_CHECK(agent_window_add(w, &r, 0.5) == 0);
	}
	FUZZ_CHECK(agent_window_encode(w, &e, &len) == 0);
	agent_window_free(w);
	if (len > cap) {
		free(e);
		return 0;
	}
	memcpy(buf, e, len);
	free(e);
	return len;
}
