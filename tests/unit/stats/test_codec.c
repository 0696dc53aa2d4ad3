/*
 * test_codec.c -- the byte codec every serialized stats object uses: varint boundaries and
 * canonical form, little-endian fixed widths, doubles bit for bit, bounds on every read.
 */
#include "stats/codec.h"
#include "testutil.h"

#include <float.h>
#include <string.h>

static void test_varint_roundtrip(void **state)
{
	static const uint64_t v[] = { 0,	  1,
				      127,	  128,
				      255,	  16383,
				      16384,	  (1ull << 32) - 1,
				      1ull << 32, (1ull << 63) - 1,
				      1ull << 63, UINT64_MAX };
	static const size_t want_len[] = { 1, 1, 1, 2, 2, 2, 3, 5, 5, 9, 10, 10 };
	uint8_t buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		struct codec_w w = { .p = buf, .cap = sizeof buf };
		struct codec_r r;

		codec_put_varint(&w, v[i]);
		assert_int_equal(codec_w_status(&w), STATS_OK);
		assert_int_equal(w.len, want_len[i]);
		r = (struct codec_r){ .p = buf, .len = w.len };
		assert_true(codec_get_varint(&r) == v[i]);
		assert_int_equal(codec_r_finish(&r), STATS_OK);
	}
}

static void test_varint_rejects(void **state)
{
	/* non-canonical zero group, 11 bytes, 10th byte too big, truncated */
	static const uint8_t noncanon[] = { 0x81, 0x00 };
	static const uint8_t eleven[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t big10[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02
	};
	static const uint8_t trunc[] = { 0x80 };
	const struct {
		const uint8_t *p;
		size_t n;
	} bad[] = { { noncanon, 2 }, { eleven, 11 }, { big10, 10 }, { trunc, 1 }, { trunc, 0 } };

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct codec_r r = { .p = bad[i].p, .len = bad[i].n };

		assert_true(codec_get_varint(&r) == 0);
		assert_int_equal(r.err, STATS_EFORMAT);
		/* the first error stays and later reads return 0 */
		assert_true(codec_get_u32(&r) == 0);
		assert_int_equal(codec_r_finish(&r), STATS_EFORMAT);
	}
}

static void test_fixed_widths(void **state)
{
	uint8_t buf[32];
	struct codec_w w = { .p = buf, .cap = sizeof buf };
	struct codec_r r;
	static const uint8_t want[] = { 'M', 'A', 'G', 'C', 7, 0x78, 0x56, 0x34, 0x12,
					0,   0,	  0,   0,   0, 0,    0xf8, 0xbf, 0xab };
	double d;

	(void)state;
	codec_put_header(&w, "MAGC", 7);
	codec_put_u32(&w, 0x12345678u);
	codec_put_f64(&w, -1.5);
	codec_put_u8(&w, 0xab);
	assert_int_equal(w.len, sizeof want);
	assert_memory_equal(buf, want, sizeof want);

	r = (struct codec_r){ .p = buf, .len = w.len };
	codec_get_header(&r, "MAGC", 7);
	assert_true(codec_get_u32(&r) == 0x12345678u);
	assert_true(codec_get_f64(&r) == -1.5);
	assert_true(codec_get_u8(&r) == 0xab);
	assert_int_equal(codec_r_finish(&r), STATS_OK);

	r = (struct codec_r){ .p = buf, .len = w.len };
	codec_get_header(&r, "MAGC", 8);
	assert_int_equal(r.err, STATS_EVERSION);
	r = (struct codec_r){ .p = buf, .len = w.len };
	codec_get_header(&r, "MAGD", 7);
	assert_int_equal(r.err, STATS_EFORMAT);
	/* unread bytes are an error */
	r = (struct codec_r){ .p = buf, .len = w.len };
	codec_get_header(&r, "MAGC", 7);
	assert_int_equal(codec_r_finish(&r), STATS_EFORMAT);

	/* doubles keep every bit: NaN payload, -0, subnormal */
	{
		const double v[] = { -0.0, 4.9e-324, DBL_MAX, -INFINITY };
		for (size_t i = 0; i < 4; i++) {
			w = (struct codec_w){ .p = buf, .cap = sizeof buf };
			codec_put_f64(&w, v[i]);
			r = (struct codec_r){ .p = buf, .len = 8 };
			d = codec_get_f64(&r);
			assert_memory_equal(&d, &v[i], sizeof d);
		}
	}
}

static void test_writer_overflow(void **state)
{
	uint8_t buf[4] = { 0 };
	struct codec_w w = { .p = buf, .cap = 3 };

	(void)state;
	codec_put_u32(&w, 0xffffffffu);
	assert_int_equal(codec_w_status(&w), STATS_ERANGE);
	assert_true(buf[0] == 0 && buf[3] == 0); /* nothing partial written */
	assert_int_equal(w.len, 4);		 /* but the needed size is known */
	w = (struct codec_w){ .p = NULL, .cap = 0 };
	codec_put_varint(&w, 300);
	assert_int_equal(w.len, 2);
	assert_int_equal(codec_w_status(&w), STATS_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_roundtrip),
		cmocka_unit_test(test_varint_rejects),
		cmocka_unit_test(test_fixed_widths),
		cmocka_unit_test(test_writer_overflow),
	};

	return TU_RUN(tests);
}
