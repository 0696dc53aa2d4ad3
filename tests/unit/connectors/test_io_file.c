/*
 * test_io_file.c -- the file source and sink: lines split exactly (CRLF, empty lines, no final
 * newline), lines longer than max_message handed out flagged oversized with memory bounded,
 * many batches, a large file; the sink writes one line per event.
 */
#include "connectors/io.h"
#include "testutil.h"

#include <string.h>
#include <unistd.h>

static char *write_tmp(const char *content, size_t len)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/driftd-io-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Reads every message of path with batches of cap; appends "len:oversized:data|" to out. */
static void read_all(const char *path, size_t max, int cap, char *out, size_t outcap)
{
	char spec[128], err[256];
	struct conn_msg m[64];
	struct conn_source *s;
	int n;

	snprintf(spec, sizeof spec, "file:%s", path);
	s = conn_source_open(spec, max, err, sizeof err);
	assert_non_null(s);
	out[0] = '\0';
	while ((n = conn_source_next(s, m, cap)) > 0) {
		for (int i = 0; i < n; i++) {
			size_t o = strlen(out);
			snprintf(out + o, outcap - o, "%zu:%d:%.*s|", m[i].len, m[i].oversized,
				 (int)m[i].len, m[i].data);
		}
	}
	assert_int_equal(n, 0);
	conn_source_close(s);
}

static void test_lines(void **state)
{
	const char in[] = "{\"a\":1}\n\n{\"b\":2}\r\n\r\n  x  \nlast";
	char out[512], *p = write_tmp(in, sizeof in - 1);

	(void)state;
	for (int cap = 1; cap <= 5; cap++) {
		read_all(p, 100, cap, out, sizeof out);
		assert_string_equal(out, "7:0:{\"a\":1}|7:0:{\"b\":2}|5:0:  x  |4:0:last|");
	}
	unlink(p);
}

static void test_oversized(void **state)
{
	char in[4096], out[8192], *p;
	size_t o = 0;

	(void)state;
	o += (size_t)sprintf(in + o, "short\n");
	memset(in + o, 'x', 50);
	o += 50;
	in[o++] = '\n';
	o += (size_t)sprintf(in + o, "exactly10!\n");
	memset(in + o, 'y', 30); /* oversized and last, without newline */
	o += 30;
	p = write_tmp(in, o);
	read_all(p, 10, 64, out, sizeof out);
	assert_string_equal(out, "5:0:short|10:1:xxxxxxxxxx|10:0:exactly10!|10:1:yyyyyyyyyy|");
	unlink(p);
}

static void test_big_file(void **state)
{
	/* 200,000 lines over several 1 MiB chunks, every line back in order */
	const size_t lines = 200000;
	char *in = malloc(lines * 16), spec[128], err[128];
	size_t o = 0, seen = 0;
	struct conn_msg m[256];
	struct conn_source *s;
	char *p;
	int n;

	(void)state;
	for (size_t i = 0; i < lines; i++)
		o += (size_t)sprintf(in + o, "{\"i\":%zu}\n", i);
	p = write_tmp(in, o);
	snprintf(spec, sizeof spec, "file:%s", p);
	s = conn_source_open(spec, 1 << 20, err, sizeof err);
	assert_non_null(s);
	while ((n = conn_source_next(s, m, 256)) > 0) {
		for (int i = 0; i < n; i++) {
			char want[32];
			int wl = sprintf(want, "{\"i\":%zu}", seen);

			assert_int_equal(m[i].len, (size_t)wl);
			assert_memory_equal(m[i].data, want, (size_t)wl);
			assert_int_equal(m[i].offset, (int64_t)seen + 1);
			seen++;
		}
	}
	assert_int_equal(seen, lines);
	conn_source_close(s);
	unlink(p);
	free(in);
}

static void test_errors_and_sink(void **state)
{
	char err[256], path[] = "/tmp/driftd-sink-XXXXXX", spec[64], buf[256];
	struct conn_sink *k;
	FILE *f;
	int fd = mkstemp(path);

	(void)state;
	assert_null(conn_source_open("file:/nonexistent/x.jsonl", 100, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/x.jsonl"));
	assert_null(conn_source_open("kafka:t", 100, err, sizeof err));
	assert_null(conn_sink_open("nowhere:x", err, sizeof err));
	close(fd);
	snprintf(spec, sizeof spec, "file:%s", path);
	k = conn_sink_open(spec, err, sizeof err);
	assert_non_null(k);
	assert_int_equal(conn_sink_emit(k, "m", "{\"a\":1}", 7, NULL, 0), 0);
	assert_int_equal(conn_sink_emit(k, "m", "{\"b\":2}", 7, NULL, 0), 0);
	conn_sink_close(k);
	f = fopen(path, "r");
	assert_non_null(f);
	buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
	fclose(f);
	assert_string_equal(buf, "{\"a\":1}\n{\"b\":2}\n");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_big_file),
		cmocka_unit_test(test_errors_and_sink),
	};

	return TU_RUN(tests);
}
