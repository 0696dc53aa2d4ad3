/*
 * fuzz_baseline.c -- fuzz target of agent_baseline_from_json, the parser of baseline files that
 * `driftctl baseline import` reads and the agent loads from the store.
 *
 * Any input is refused with a message or accepted; an accepted baseline must hold the invariants
 * the parser promises (features sorted and unique, findable by name, each feature's values +
 * missing + mismatched == samples, correct <= scored) and survive a round trip: to_json, parsed
 * again, gives the same text again (the serialization is a fixed point after one pass).
 */
#include "fuzz.h"
#include "agent/baseline.h"

#include <string.h>

/* ---- checks ---- */

static uint64_t values_of(const struct agent_bfeature *f)
{
	return f->categorical ? stats_cat_total(f->cat) : stats_hist_total(f->hist);
}

static void check_feature(const struct agent_baseline *b, const struct agent_bfeature *f)
{
	FUZZ_CHECK(f->name != NULL && f->name[0] != '\0');
	FUZZ_CHECK((f->categorical && f->cat && !f->hist) ||
		   (!f->categorical && f->hist && !f->cat));
	FUZZ_CHECK(values_of(f) + f->missing + f->mismatched == b->samples);
}

static void check(const struct agent_baseline *b)
{
	FUZZ_CHECK(b->model && b->version && b->latency);
	FUZZ_CHECK(b->samples > 0);
	FUZZ_CHECK(b->correct <= b->scored && b->scored + b->reg_n <= b->samples);
	FUZZ_CHECK(b->errors <= b->error_known && b->error_known <= b->samples);
	for (size_t i = 0; i < b->nfeatures; i++) {
		const struct agent_bfeature *f = &b->features[i];

		check_feature(b, f);
		FUZZ_CHECK(i == 0 || strcmp(b->features[i - 1].name, f->name) < 0);
		FUZZ_CHECK(agent_baseline_feature(b, f->name, strlen(f->name)) == f);
	}
	if (b->has_prediction) {
		check_feature(b, &b->prediction);
		FUZZ_CHECK(strcmp(b->prediction.name, AGENT_PREDICTION_FEATURE) == 0);
	}
}

/* ---- target ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "", *j1, *j2;
	struct agent_baseline *b = agent_baseline_from_json((const char *)data, size, err,
							    sizeof err),
			      *c;

	if (!b) {
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	check(b);
	j1 = agent_baseline_to_json(b);
	FUZZ_CHECK(j1 != NULL);
	c = agent_baseline_from_json(j1, strlen(j1), err, sizeof err);
	if (!c)
		fprintf(stderr, "round trip refused: %s\n", err);
	FUZZ_CHECK(c != NULL);
	check(c);
	j2 = agent_baseline_to_json(c);
	FUZZ_CHECK(j2 != NULL && strcmp(j1, j2) == 0);
	free(j1);
	free(j2);
	agent_baseline_free(c);
	agent_baseline_free(b);
	return 0;
}

/* ---- seeds ---- */

static void feat(struct conn_record *r, struct conn_feature *f, const char *name,
		 struct conn_value v)
{
	f[r->nfeatures].name = name;
	f[r->nfeatures].name_len = strlen(name);
	f[r->nfeatures].value = v;
	r->nfeatures++;
}

/* Seeds: baselines built from small synthetic samples of different shapes. */
size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	static const char *const cats[] = { "DE", "FR", "US", "\xc3\xa9\\\"", "true" };
	struct agent_baseline_builder *bb;
	struct agent_baseline *b;
	uint64_t x = 0x5eed + i;
	size_t len, n;
	char *j;

	if (i > 4)
		return 0;
	bb = agent_baseline_builder_new("fraud", i == 3 ? "v/\xe2\x82\xac" : "v2.3.1",
					i == 2 ? 1 : 4 + i, i == 1 ? 2 : 0, 0.5);
	if (!bb)
		return 0;
	n = i == 4 ? 1 : 30;
	for (size_t k = 0; k < n; k++) {
		struct conn_feature f[4];
		struct conn_record r = { .model = "fraud", .model_len = 5, .features = f };

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		if (i != 4 || k % 2) {
			feat(&r, f, "amount",
			     (struct conn_value){ .kind = CONN_VALUE_NUMBER,
						  .num = (double)(x >> 40) / 1024.0 - 100.0 });
			feat(&r, f, "country",
			     (struct conn_value){ .kind = CONN_VALUE_STRING,
						  .str = cats[(x >> 20) % 5],
						  .len = strlen(cats[(x >> 20) % 5]) });
		}
		if (k % 3 == 0)
			feat(&r, f, "is_new",
			     (struct conn_value){ .kind = CONN_VALUE_BOOL, .b = (int)(x & 1) });
		if (k == 7)
			feat(
			    &r, f, "mixed",
			    (struct conn_value){ .kind = CONN_VALUE_STRING, .str = "a", .len = 1 });
		else if (k > 7 && k % 5 == 0)
			feat(&r, f, "mixed",
			     (struct conn_value){ .kind = CONN_VALUE_NUMBER, .num = 1 });
		if (i != 2) {
			r.prediction = (struct conn_value){ .kind = CONN_VALUE_NUMBER,
							    .num = (double)(x % 1000) / 1000.0 };
			r.label = (struct conn_value){ .kind = CONN_VALUE_NUMBER,
						       .num = i == 3 ? (double)(x % 7)
								     : (double)(x % 2) };
		}
		r.has_latency = k % 4 != 0;
		r.latency_ms = (double)(x % 100000) / 100.0;
		r.has_error = k % 2;
		r.error = k % 10 == 1;
		agent_baseline_builder_add(bb, &r);
	}
	b = agent_baseline_builder_finish(bb, 1795730040123LL + i, NULL, 0);
	if (!b)
		return 0;
	if (i == 0)
		b->metadata = strdup("{\"training_data_hash\":\"sha256:ab\",\"feature_params\":{},"
				     "\"hyperparams\":{\"lr\":0.001}}");
	j = agent_baseline_to_json(b);
	agent_baseline_free(b);
	if (!j)
		return 0;
	len = strlen(j);
	if (len > cap)
		len = 0;
	else
		memcpy(buf, j, len);
	free(j);
	return len;
}
