/*
 * test_admin.c -- the version registry and its admin operations (agent/admin.h) called directly
 * on a dir: store in a temporary directory: registration with and without the required
 * metadata, versions, baseline build and load, good / hold / release / rearm, history and the
 * status documents, names and their printable form; and driftctl's status on a Redis store with
 * a password (a redis-server of the test's own on a Unix socket): the password never shows.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "agent/admin.h"
#include "agent/ctl.h"
#include "redisproc.h"
#include "testutil.h"

#include <ftw.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fx {
	char dir[64];
	char spec[96];
	struct agent_admin *a;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_admin-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->spec, sizeof f->spec, "dir:%s/store", f->dir);
	f->a = agent_admin_new(f->spec, NULL);
	assert_non_null(f->a);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	agent_admin_free(f->a);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A registration with every required field. */
static struct agent_admin_version version(const char *v)
{
	struct agent_admin_version r = {
		.model = "fraud",
		.version = v,
		.training_data_hash = "sha256:0a1b",
		.feature_params = "{\"scaler\":\"robust\"}",
		.hyperparams = "{\"depth\":6}",
	};

	return r;
}

static void must(struct agent_admin *a, enum agent_admin_result r)
{
	if (r != AGENT_ADMIN_OK)
		fail_msg("%d: %s", r, agent_admin_error(a));
}

static void refused(struct agent_admin *a, const struct agent_admin_version *v, const char *msg)
{
	json_t *doc = NULL;

	assert_int_equal(agent_admin_register(a, v, &doc), AGENT_ADMIN_REFUSED);
	assert_null(doc);
	if (!strstr(agent_admin_error(a), msg))
		fail_msg("'%s' not in '%s'", msg, agent_admin_error(a));
}

static void test_register_rule(void **state)
{
	struct fx *f = *state;
	struct agent_admin_version v = version("v1");
	const char *tags[] = { "team=risk", "owner=ana" }, *twice[] = { "k=1", "k=2" };
	const char *bad_tag[] = { "novalue" };
	char path[128];
	json_t *doc = NULL, *hp;
	FILE *h;

	v.training_data_hash = NULL;
	refused(f->a, &v, "missing --training-data-hash");
	assert_non_null(strstr(agent_admin_error(f->a), "refused: every version must carry"));
	v = version("v1");
	v.feature_params = NULL;
	refused(f->a, &v, "missing --feature-params");
	v = version("v1");
	v.hyperparams = NULL;
	refused(f->a, &v, "missing --hyperparams");
	v = version("v1");
	v.training_data_hash = "";
	refused(f->a, &v, "--training-data-hash must be 1 to 1024 bytes");
	v = version("v1");
	v.feature_params = "[1]";
	refused(f->a, &v, "--feature-params must be a JSON object");
	v = version("v1");
	v.hyperparams = "{nope";
	refused(f->a, &v, "--hyperparams: not valid JSON");
	v = version("v1");
	v.tags = bad_tag;
	v.ntags = 1;
	refused(f->a, &v, "--tag wants KEY=VALUE");
	v.tags = twice;
	v.ntags = 2;
	refused(f->a, &v, "--tag k given twice");
	v = version("v\001");
	v.version = "";
	refused(f->a, &v, "names are 1 to 128 bytes");
	v = version("v1");
	v.hyperparams = "@/nonexistent/hyper.json";
	assert_int_equal(agent_admin_register(f->a, &v, NULL), AGENT_ADMIN_FAILED);
	/* nothing was registered by the refusals */
	assert_int_equal(agent_admin_versions(f->a, "fraud", &doc), AGENT_ADMIN_FAILED);
	assert_non_null(strstr(agent_admin_error(f->a), "has no registered version"));

	snprintf(path, sizeof path, "%s/hyper.json", f->dir);
	h = fopen(path, "w");
	assert_non_null(h);
	fputs("{\"depth\": 6, \"eta\": 0.1}\n", h);
	fclose(h);
	snprintf(path, sizeof path, "@%s/hyper.json", f->dir);
	v = version("v1");
	v.hyperparams = path;
	v.tags = tags;
	v.ntags = 2;
	must(f->a, agent_admin_register(f->a, &v, &doc));
	assert_string_equal(json_string_value(json_object_get(doc, "model")), "fraud");
	assert_string_equal(json_string_value(json_object_get(doc, "version")), "v1");
	assert_string_equal(json_string_value(json_object_get(doc, "training_data_hash")),
			    "sha256:0a1b");
	hp = json_object_get(doc, "hyperparams");
	assert_int_equal(json_integer_value(json_object_get(hp, "depth")), 6);
	assert_true(json_real_value(json_object_get(hp, "eta")) == 0.1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "tags"), "owner")), "ana");
	assert_true(json_is_integer(json_object_get(doc, "registered_ms")));
	json_decref(doc);
	/* a second registration of the version fails */
	assert_int_equal(agent_admin_register(f->a, &v, NULL), AGENT_ADMIN_FAILED);
	assert_non_null(strstr(agent_admin_error(f->a), "fraud v1 is already registered"));
}

static void test_versions(void **state)
{
	struct fx *f = *state;
	struct agent_admin_version v1 = version("v1"), v2 = version("v2");
	json_t *doc = NULL, *arr;

	must(f->a, agent_admin_register(f->a, &v1, NULL));
	v2.training_data_hash = "sha256:ffff";
	must(f->a, agent_admin_register(f->a, &v2, NULL));
	must(f->a, agent_admin_versions(f->a, "fraud", &doc));
	arr = json_object_get(doc, "versions");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "version")),
			    "v1");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(arr, 1), "training_data_hash")),
	    "sha256:ffff");
	assert_true(json_is_false(json_object_get(json_array_get(arr, 0), "good")));
	assert_true(json_is_false(json_object_get(json_array_get(arr, 0), "baseline")));
	json_decref(doc);
}

static void test_good_hold_release_rearm(void **state)
{
	struct fx *f = *state;
	struct agent_admin_version v1 = version("v1"), v2 = version("v2");
	struct conn_store *st;
	char errbuf[256];
	json_t *doc = NULL;

	assert_int_equal(agent_admin_good(f->a, "fraud", "v1", &doc), AGENT_ADMIN_FAILED);
	assert_non_null(strstr(agent_admin_error(f->a), "is not registered"));
	assert_int_equal(agent_admin_hold(f->a, "fraud", 1, &doc), AGENT_ADMIN_FAILED);
	must(f->a, agent_admin_register(f->a, &v1, NULL));
	must(f->a, agent_admin_register(f->a, &v2, NULL));

	must(f->a, agent_admin_good(f->a, "fraud", "v1", &doc));
	assert_string_equal(json_string_value(json_object_get(doc, "good")), "v1");
	assert_true(json_is_null(json_object_get(doc, "previous")));
	assert_true(json_is_false(json_object_get(doc, "baseline")));
	json_decref(doc);
	must(f->a, agent_admin_good(f->a, "fraud", "v2", &doc));
	assert_string_equal(json_string_value(json_object_get(doc, "previous")), "v1");
	json_decref(doc);

	must(f->a, agent_admin_hold(f->a, "fraud", 1, &doc));
	assert_true(json_is_true(json_object_get(doc, "hold")));
	assert_true(json_is_true(json_object_get(doc, "changed")));
	json_decref(doc);
	must(f->a, agent_admin_hold(f->a, "fraud", 1, &doc));
	assert_true(json_is_false(json_object_get(doc, "changed")));
	json_decref(doc);
	must(f->a, agent_admin_hold(f->a, "fraud", 0, &doc));
	assert_true(json_is_false(json_object_get(doc, "hold")));
	assert_true(json_is_true(json_object_get(doc, "changed")));
	json_decref(doc);

	/* a latch as driftd leaves it after a rollback */
	st = conn_store_open(f->spec, errbuf, sizeof errbuf);
	assert_non_null(st);
	assert_int_equal(conn_store_latch_set(st, "fraud", "v2", 1), 0);
	conn_store_close(st);
	must(f->a, agent_admin_status(f->a, "fraud", &doc));
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "latched"), 0)),
			    "v2");
	json_decref(doc);
	must(f->a, agent_admin_rearm(f->a, "fraud", "v2", &doc));
	assert_true(json_is_true(json_object_get(doc, "was_latched")));
	json_decref(doc);
	must(f->a, agent_admin_rearm(f->a, "fraud", "v2", &doc));
	assert_true(json_is_false(json_object_get(doc, "was_latched")));
	json_decref(doc);
	assert_int_equal(agent_admin_rearm(f->a, "fraud", "v9", NULL), AGENT_ADMIN_FAILED);
}

/* The audit types of the history, comma-separated, in buf. */
struct types {
	char buf[1024];
};

static int add_type(void *arg, const char *doc, size_t len)
{
	struct types *t = arg;
	json_t *e = json_loadb(doc, len, 0, NULL);
	const char *type = json_string_value(json_object_get(e, "type"));
	size_t n = strlen(t->buf);

	snprintf(t->buf + n, sizeof t->buf - n, "%s%s", n ? "," : "", type ? type : "?");
	assert_non_null(json_object_get(e, "user"));
	assert_string_equal(json_string_value(json_object_get(e, "model")), "fraud");
	json_decref(e);
	return 0;
}

static int stop_at_first(void *arg, const char *doc, size_t len)
{
	(void)arg;
	(void)doc;
	(void)len;
	return 1;
}

/* Writes n records of fraud v1 (and one of another version, one bad line) to path. */
static void write_sample(const char *path, int n)
{
	FILE *s = fopen(path, "w");

	assert_non_null(s);
	for (int i = 0; i < n; i++)
		fprintf(s,
			"{\"model\":\"fraud\",\"version\":\"v1\",\"latency_ms\":%d,"
			"\"prediction\":%d,\"label\":%d,\"features\":{\"amount\":%d,"
			"\"country\":\"%s\"}}\n",
			5 + i % 7, i % 2, i % 3 == 0, 10 + i % 50, i % 3 ? "DE" : "FR");
	fputs("{\"model\":\"fraud\",\"version\":\"v0\"}\nnot json\n", s);
	fclose(s);
}

static void test_baseline_history_status(void **state)
{
	struct fx *f = *state;
	struct agent_admin_version v1 = version("v1");
	struct agent_admin_build st;
	struct agent_baseline *b = NULL;
	struct conn_blob raw = { 0 };
	struct types t = { "" };
	char path[128];
	json_t *doc = NULL, *m;

	snprintf(path, sizeof path, "%s/sample.jsonl", f->dir);
	write_sample(path, 200);
	assert_int_equal(agent_admin_baseline_build(f->a, "fraud", "v1", path, 0, &st),
			 AGENT_ADMIN_FAILED); /* not registered */
	must(f->a, agent_admin_register(f->a, &v1, NULL));
	assert_int_equal(agent_admin_baseline_get(f->a, "fraud", "v1", &b, NULL),
			 AGENT_ADMIN_FAILED);
	assert_non_null(strstr(agent_admin_error(f->a), "has no baseline"));
	assert_int_equal(
	    agent_admin_baseline_build(f->a, "fraud", "v1", path, STATS_HIST_MAX_BINS + 1, &st),
	    AGENT_ADMIN_REFUSED);
	must(f->a, agent_admin_baseline_build(f->a, "fraud", "v1", path, 8, &st));
	assert_int_equal(st.lines, 202);
	assert_int_equal(st.samples, 200);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.rejected_total, 1);
	assert_int_equal(st.rejected[CONN_REJECT_BAD_JSON], 1);
	assert_int_equal(st.first_rejected[CONN_REJECT_BAD_JSON], 202);
	assert_int_equal(st.features, 2);
	assert_int_equal(st.bins, 8);
	assert_true(st.has_prediction);

	must(f->a, agent_admin_baseline_get(f->a, "fraud", "v1", &b, &raw));
	assert_int_equal(b->samples, 200);
	assert_non_null(b->metadata); /* the registration */
	assert_non_null(strstr(b->metadata, "sha256:0a1b"));
	assert_non_null(strstr(raw.data, "\"schema\":1"));
	agent_baseline_free(b);
	free(raw.data);

	must(f->a, agent_admin_good(f->a, "fraud", "v1", &doc));
	assert_true(json_is_true(json_object_get(doc, "baseline")));
	json_decref(doc);

	must(f->a, agent_admin_history(f->a, "fraud", add_type, &t));
	assert_string_equal(t.buf, "driftctl.register,driftctl.baseline.build,driftctl.good");
	assert_int_equal(agent_admin_history(f->a, "fraud", stop_at_first, NULL),
			 AGENT_ADMIN_FAILED);
	assert_int_equal(agent_admin_history(f->a, "nomodel", add_type, &t), AGENT_ADMIN_FAILED);

	must(f->a, agent_admin_status(f->a, "fraud", &doc));
	assert_int_equal(json_integer_value(json_object_get(doc, "versions")), 1);
	assert_string_equal(json_string_value(json_object_get(doc, "latest")), "v1");
	assert_string_equal(json_string_value(json_object_get(doc, "good")), "v1");
	assert_true(json_is_true(json_object_get(doc, "good_has_baseline")));
	assert_true(json_is_false(json_object_get(doc, "hold")));
	assert_int_equal(json_array_size(json_object_get(doc, "latched")), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "baselines"), 0)),
			    "v1");
	json_decref(doc);
	assert_int_equal(agent_admin_status(f->a, "nomodel", &doc), AGENT_ADMIN_FAILED);
	must(f->a, agent_admin_status(f->a, "fraud", NULL)); /* no document wanted */
	must(f->a, agent_admin_versions(f->a, "fraud", NULL));

	v1.model = "alpha";
	must(f->a, agent_admin_register(f->a, &v1, NULL));
	must(f->a, agent_admin_status_all(f->a, &doc));
	assert_string_equal(json_string_value(json_object_get(doc, "store")), f->spec);
	m = json_object_get(doc, "models");
	assert_int_equal(json_array_size(m), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "model")),
			    "alpha");
	assert_true(json_is_null(json_object_get(json_array_get(m, 0), "good")));
	json_decref(doc);
}

static void test_import(void **state)
{
	struct fx *f = *state;
	struct agent_admin_version v1 = version("v1");
	struct agent_admin_build st;
	struct agent_admin *other;
	struct conn_blob raw = { 0 };
	struct agent_baseline *b = NULL;
	char path[128], file[128], spec[128];
	json_t *doc = NULL;
	FILE *out;

	snprintf(path, sizeof path, "%s/sample.jsonl", f->dir);
	write_sample(path, 100);
	must(f->a, agent_admin_register(f->a, &v1, NULL));
	must(f->a, agent_admin_baseline_build(f->a, "fraud", "v1", path, 0, &st));
	assert_int_equal(st.bins, AGENT_ADMIN_DEFAULT_BINS);
	must(f->a, agent_admin_baseline_get(f->a, "fraud", "v1", &b, &raw));
	snprintf(file, sizeof file, "%s/baseline.json", f->dir);
	out = fopen(file, "w");
	assert_non_null(out);
	fwrite(raw.data, 1, raw.len, out);
	fclose(out);
	free(raw.data);
	agent_baseline_free(b);

	snprintf(spec, sizeof spec, "dir:%s/store2", f->dir);
	other = agent_admin_new(spec, NULL);
	assert_non_null(other);
	assert_int_equal(agent_admin_baseline_import(other, file, &doc), AGENT_ADMIN_FAILED);
	assert_non_null(strstr(agent_admin_error(other), "not registered"));
	v1.training_data_hash = "sha256:other";
	must(other, agent_admin_register(other, &v1, NULL));
	assert_int_equal(agent_admin_baseline_import(other, file, &doc), AGENT_ADMIN_FAILED);
	assert_non_null(strstr(agent_admin_error(other), "training_data_hash"));
	agent_admin_free(other);

	snprintf(spec, sizeof spec, "dir:%s/store3", f->dir);
	other = agent_admin_new(spec, NULL);
	assert_non_null(other);
	v1.training_data_hash = "sha256:0a1b";
	must(other, agent_admin_register(other, &v1, NULL));
	must(other, agent_admin_baseline_import(other, file, &doc));
	assert_int_equal(json_integer_value(json_object_get(doc, "samples")), 100);
	assert_string_equal(json_string_value(json_object_get(doc, "source")), file);
	json_decref(doc);
	agent_admin_free(other);
}

static void test_names(void **state)
{
	char buf[AGENT_ADMIN_PRINTABLE_LEN], big[AGENT_ADMIN_MAX_NAME + 2];

	(void)state;
	assert_true(agent_admin_valid_name("fraud"));
	assert_true(agent_admin_valid_name("../evil"));
	assert_false(agent_admin_valid_name(""));
	assert_false(agent_admin_valid_name("a\377"));
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_false(agent_admin_valid_name(big));
	big[AGENT_ADMIN_MAX_NAME] = '\0';
	assert_true(agent_admin_valid_name(big));
	assert_string_equal(agent_admin_printable("a\nb\\c", buf), "a\\x0ab\\\\c");
	assert_string_equal(agent_admin_printable("a\377", buf), "a\\xff");
	assert_string_equal(agent_admin_printable("caf\xc3\xa9", buf), "caf\xc3\xa9");
}

static void test_unreachable_store(void **state)
{
	struct agent_admin *a = agent_admin_new("dir:/dev/null/store", NULL);
	json_t *doc = NULL;

	(void)state;
	assert_non_null(a);
	assert_int_equal(agent_admin_status_all(a, &doc), AGENT_ADMIN_FAILED);
	assert_null(doc);
	assert_true(agent_admin_error(a)[0] != '\0');
	agent_admin_free(a);
}

/* A store error names the operation that failed, then the store's own message: here the hold
 * of a registered model cannot be read (its file is a directory). */
static void test_store_error_names_operation(void **state)
{
	struct fx *f = *state;
	struct agent_admin_version v = version("v1");
	char path[160];
	json_t *doc = NULL;

	must(f->a, agent_admin_register(f->a, &v, NULL));
	snprintf(path, sizeof path, "%s/store/models/fraud/hold", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(agent_admin_hold(f->a, "fraud", 1, &doc), AGENT_ADMIN_FAILED);
	assert_null(doc);
	assert_non_null(strstr(agent_admin_error(f->a), "store: setting the hold: "));
	assert_non_null(strstr(agent_admin_error(f->a), "models/fraud/hold"));
	rmdir(path);
}

/* Runs driftctl in process; its stdout in out (and stderr in err when not NULL). */
static int ctl(char **argv, char *out, size_t len, char *err)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int argc = 0, rc;
	size_t n;

	assert_non_null(o);
	assert_non_null(e);
	while (argv[argc])
		argc++;
	rc = agent_ctl_main(argc, argv, o, e);
	rewind(o);
	n = fread(out, 1, len - 1, o);
	out[n] = '\0';
	if (err) {
		rewind(e);
		n = fread(err, 1, len - 1, e);
		err[n] = '\0';
	}
	fclose(o);
	fclose(e);
	return rc;
}

/* agent_ctl_main parses with getopt_long: it must start afresh on every call, global options
 * before or after the command, "--opt=value" and "--opt value", "--" ending the options. */
static void test_ctl_reentrant(void **state)
{
	struct fx *f = *state;
	char out[8192], err[8192];
	char *reg[] = { "driftctl",
			"--store",
			f->spec,
			"register",
			"fraud",
			"v1",
			"--training-data-hash=h",
			"--feature-params",
			"{}",
			"--hyperparams={}",
			"--tag",
			"a=1",
			NULL };
	char *bad[] = { "driftctl", "--store", f->spec, "versions", "fraud", "--frob", NULL };
	char *abbrev[] = { "driftctl", "--store", f->spec, "versions", "fraud", "--js", NULL };
	char *after[] = { "driftctl", "versions", "--store", f->spec, "fraud", "--json", NULL };
	char *dashes[] = {
		"driftctl", "--store=", "status", "--store", f->spec, "--", "fraud", NULL
	};
	char *cluster[] = { "driftctl", "-hh", NULL };
	char *missing[] = { "driftctl", "--store", f->spec,  "baseline", "build",
			    "fraud",	"v1",	   "--from", NULL };

	for (int round = 0; round < 3; round++) {
		assert_int_equal(ctl(bad, out, sizeof out, err), AGENT_CTL_USAGE);
		assert_string_equal(err, "driftctl: versions: unknown option '--frob' (usage: "
					 "driftctl versions MODEL)\n");
		assert_int_equal(ctl(abbrev, out, sizeof out, err), AGENT_CTL_USAGE);
		assert_non_null(strstr(err, "unknown option '--js'"));
		assert_int_equal(ctl(cluster, out, sizeof out, err), AGENT_CTL_USAGE);
		assert_non_null(strstr(err, "unknown option '-hh'"));
		assert_int_equal(ctl(missing, out, sizeof out, err), AGENT_CTL_USAGE);
		assert_string_equal(err, "driftctl: baseline build: --from needs a value\n");
		assert_int_equal(ctl(reg, out, sizeof out, err),
				 round == 0 ? AGENT_CTL_OK : AGENT_CTL_ERROR);
		assert_int_equal(ctl(after, out, sizeof out, NULL), AGENT_CTL_OK);
		assert_non_null(strstr(out, "\"version\": \"v1\""));
		assert_int_equal(ctl(dashes, out, sizeof out, err), AGENT_CTL_OK);
		assert_non_null(strstr(out, "  good       none"));
	}
}

#define SECRET "s3cr3t-admin-PW"

/* The password is nowhere in s, and want is. */
static void masked(const char *what, const char *s, const char *want)
{
	if (strstr(s, SECRET) || strstr(s, "s3cr3t"))
		fail_msg("%s shows the password: %s", what, s);
	if (!strstr(s, want))
		fail_msg("%s: '%s' not in '%s'", what, want, s);
}

/* Sets the password of the redis-server on sock (started without one). */
static void require_password(const char *sock)
{
	redisContext *r = NULL;
	redisReply *rep = NULL;

	for (int i = 0; i < 100; i++) {
		r = redisConnectUnix(sock);
		if (r && !r->err)
			break;
		struct timespec ts = { 0, 50000000L }; /* 50 ms */

		redisFree(r);
		r = NULL;
		nanosleep(&ts, NULL);
	}
	assert_non_null(r);
	rep = redisCommand(r, "CONFIG SET requirepass %s", SECRET);
	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_STATUS);
	freeReplyObject(rep);
	redisFree(r);
}

/* driftctl status (text and --json) and every message naming the store show a Redis store
 * spec with its password masked as "***", never the password. */
static void test_status_masks_password(void **state)
{
	struct fx *f = *state;
	char out[8192], err[8192], unix_spec[160], spec[256], shown[256];
	char tcp[] = "redis://:" SECRET "@127.0.0.1:1/2";
	char *down_text[] = { "driftctl", "--store", tcp, "status", NULL };
	char *down_json[] = { "driftctl", "--store", tcp, "--json", "status", NULL };
	char *text[] = { "driftctl", "--store", spec, "status", NULL };
	char *json[] = { "driftctl", "--store", spec, "--json", "status", NULL };
	char *reg[] = { "driftctl",
			"--store",
			spec,
			"register",
			"fraud",
			"v1",
			"--training-data-hash",
			"h",
			"--feature-params",
			"{}",
			"--hyperparams",
			"{}",
			NULL };
	struct agent_admin *a;
	json_t *doc = NULL;
	pid_t redis;

	/* unreachable: the messages name the host, never the password */
	assert_int_equal(ctl(down_text, out, sizeof out, err), AGENT_CTL_ERROR);
	masked("the error", err, "127.0.0.1:1");
	masked("the output", out, "");
	assert_int_equal(ctl(down_json, out, sizeof out, err), AGENT_CTL_ERROR);
	masked("the --json error", err, "127.0.0.1:1");
	a = agent_admin_new(tcp, NULL);
	assert_non_null(a);
	assert_string_equal(agent_admin_store(a), "redis://:***@127.0.0.1:1/2");
	assert_int_equal(agent_admin_status_all(a, &doc), AGENT_ADMIN_FAILED);
	masked("the admin error", agent_admin_error(a), "127.0.0.1:1");
	agent_admin_free(a);

	redis = redisproc_start(f->dir, unix_spec, sizeof unix_spec);
	if (!redis)
		skip(); /* no redis-server here */
	require_password(unix_spec + 5);
	snprintf(spec, sizeof spec, "redis+unix://:%s@%s", SECRET, unix_spec + 5);
	snprintf(shown, sizeof shown, "redis+unix://:***@%s", unix_spec + 5);

	assert_int_equal(ctl(text, out, sizeof out, err), AGENT_CTL_OK);
	masked("status", out, "no model registered in redis+unix://:***@");
	masked("status", out, shown);
	assert_int_equal(ctl(json, out, sizeof out, err), AGENT_CTL_OK);
	masked("status --json", out, "\"store\": \"redis+unix://:***@");
	doc = json_loads(out, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "store")), shown);
	json_decref(doc);

	assert_int_equal(ctl(reg, out, sizeof out, err), AGENT_CTL_OK);
	masked("register", out, "");
	masked("register's messages", err, "");
	assert_int_equal(ctl(text, out, sizeof out, err), AGENT_CTL_OK);
	masked("status with a model", out, "fraud");
	assert_int_equal(ctl(json, out, sizeof out, err), AGENT_CTL_OK);
	masked("status --json with a model", out, shown);
	redisproc_stop(redis);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_hold_release_rearm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baseline_history_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_reentrant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_masks_password, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unreachable_store),
		cmocka_unit_test_setup_teardown(test_store_error_names_operation, setup, teardown),
	};

	return TU_RUN(tests);
}
