#!/usr/bin/python3
"""gen_record_corpus.py -- writes tests/data/records/corpus.jsonl, the shared corpus of the
inference log record decoders (connectors/record.h), read by tests/unit/connectors/test_record.c.

Every expectation here is written from the contract in record.h (and the decisions at the top of
connectors/record.c), never from running a decoder: numbers are Python's float() of the token
(correctly rounded, like the contract asks), RFC 3339 timestamps are computed with
datetime/timezone from their parts, not parsed.

One JSON object per line:
  {"name": ..., "input": "<the raw message>"                 (or "input_hex": "<hex bytes>" for
                                                              bytes a JSON string cannot carry,
                                                              or "input_parts": [[text, count]..]
                                                              concatenated, for long inputs)
   "limits": {...}                                           (optional; overrides the defaults)
   then "reject": "<conn_reject_name>"
   or "expect": {"model", "version", "request_id"?, "ts_ms"?, "latency_ms"?, "error"?,
                 "prediction"?: [kind, value], "label"?: [kind, value],
                 "features": [[name, kind, value], ...]}}
kind is "number", "string", "bool", "missing" or "nonfinite" (a number NaN, +inf or -inf: value
"nan", "inf" or "-inf"); an absent optional key means absent in the record (request_id NULL,
has_ts/has_latency/has_error 0, prediction/label kind missing); "prediction_nonfinite": true
when the prediction was a non-finite literal.

Usage: /usr/bin/python3 tests/gen/gen_record_corpus.py [OUTPUT]   (default: the path above)
"""
import datetime
import json
import os
import sys

MIB = 1 << 20
cases = []


def add(name, inp, reject=None, expect=None, limits=None):
    c = {"name": name}
    if isinstance(inp, bytes):
        c["input_hex"] = inp.hex()
    elif isinstance(inp, list):
        c["input_parts"] = inp
    else:
        c["input"] = inp
    if limits:
        c["limits"] = limits
    assert (reject is None) != (expect is None), name
    if reject is not None:
        c["reject"] = reject
    else:
        c["expect"] = expect
    assert name not in {x["name"] for x in cases}, name
    cases.append(c)


def rec(**kw):
    """An expected record: model "m", version "v" and no features unless given."""
    e = {"model": "m", "version": "v", "features": []}
    e.update(kw)
    return e


def num(tok):
    return ["number", float(tok)]


def s(x):
    return ["string", x]


def ms(y, mo, d, h=0, mi=0, sec=0, milli=0, off_min=0):
    """Epoch ms of a local date-time at UTC offset off_min minutes."""
    tz = datetime.timezone(datetime.timedelta(minutes=off_min))
    t = datetime.datetime(y, mo, d, h, mi, sec, tzinfo=tz)
    delta = t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1000 + milli


MV = '"model":"m","version":"v"'


def obj(body):
    """{"model":"m","version":"v",<body>}"""
    return "{" + MV + ("," + body if body else "") + "}"


# ---- accepted shapes ----

add("spec_example",
    '{"model":"fraud","version":"v2.4.0","request_id":"7f3a9c","ts":1795730000123,\n'
    ' "latency_ms":12.7,"prediction":0.83,"label":1,"error":false,\n'
    ' "features":{"amount":132.5,"age":41,"country":"DE","device":"ios","is_new":true}}',
    expect={"model": "fraud", "version": "v2.4.0", "request_id": "7f3a9c",
            "ts_ms": 1795730000123, "latency_ms": 12.7, "prediction": num("0.83"),
            "label": num("1"), "error": False,
            "features": [["amount", "number", 132.5], ["age", "number", 41.0],
                         ["country", "string", "DE"], ["device", "string", "ios"],
                         ["is_new", "bool", True]]})
add("minimal", obj(""), expect=rec())
add("minimal_reordered_whitespace",
    ' \t\r\n{ "features" : { "b" : 2 , "a" : 1 } ,\n\t"version" : "v" , "model" : "m" } \n',
    expect=rec(features=[["b", "number", 2.0], ["a", "number", 1.0]]))
add("empty_features", obj('"features":{}'), expect=rec())
add("feature_kinds", obj('"features":{"n":1.5,"s":"x","t":true,"f":false,"z":null}'),
    expect=rec(features=[["n", "number", 1.5], ["s", "string", "x"], ["t", "bool", True],
                         ["f", "bool", False], ["z", "missing", None]]))
add("feature_empty_string_value", obj('"features":{"a":""}'),
    expect=rec(features=[["a", "string", ""]]))
add("feature_unicode_escapes", obj('"features":{"\\u00e9t\\u00e9":"\\ud83d\\ude00"}'),
    expect=rec(features=[["\u00e9t\u00e9", "string", "\U0001F600"]]))
add("feature_raw_utf8", obj('"features":{"gr\u00f6\u00dfe":"\u65e5\u672c"}'),
    expect=rec(features=[["gr\u00f6\u00dfe", "string", "\u65e5\u672c"]]))
add("string_escapes", obj('"features":{"e":"\\"\\\\\\/\\b\\f\\n\\r\\t"}'),
    expect=rec(features=[["e", "string", "\"\\/\b\f\n\r\t"]]))
add("raw_del_in_string", obj('"features":{"d":"a\u007fb"}'),
    expect=rec(features=[["d", "string", "a\u007fb"]]))
add("escaped_known_keys", '{"mod\\u0065l":"m","\\u0076ersion":"v"}', expect=rec())
add("unknown_fields_nested",
    obj('"meta":{"a":[1,{"b":null}],"c":"x"},"tags":["a","b"],"n":null,"t":true,"f":-1.5e3'),
    expect=rec())
add("dup_in_nested_unknown_allowed", obj('"meta":{"a":1,"a":2}'), expect=rec())
add("dup_in_unknown_array_allowed", obj('"x":[{"a":1,"a":1}]'), expect=rec())
add("features_key_nested_is_unknown", obj('"meta":{"features":[1],"model":7}'), expect=rec())
add("case_sensitive_keys", obj('"Model":1,"features":{"a":1,"A":2}'),
    expect=rec(features=[["a", "number", 1.0], ["A", "number", 2.0]]))
add("prediction_label_null", obj('"prediction":null,"label":null'), expect=rec())
# null is absent for every optional field (a producer serializing a missing value as null)
add("optional_fields_null", obj('"request_id":null,"ts":null,"latency_ms":null,"error":null,'
                                '"features":null'), expect=rec())
add("prediction_label_string", obj('"prediction":"fraud","label":"legit"'),
    expect=rec(prediction=s("fraud"), label=s("legit")))
add("prediction_label_bool", obj('"prediction":true,"label":false'),
    expect=rec(prediction=["bool", True], label=["bool", False]))
add("prediction_empty_string", obj('"prediction":""'), expect=rec(prediction=s("")))
add("prediction_negative_zero", obj('"prediction":-0,"label":0'),
    expect=rec(prediction=num("-0"), label=num("0")))
add("request_id_empty", obj('"request_id":""'), expect=rec(request_id=""))
add("request_id_unicode", obj('"request_id":"r\\u00e9q"'), expect=rec(request_id="r\u00e9q"))

# ts as a number
add("ts_zero", obj('"ts":0'), expect=rec(ts_ms=0))
add("ts_max", obj('"ts":9007199254740991'), expect=rec(ts_ms=9007199254740991))
add("ts_fraction_truncated", obj('"ts":1795730000123.9'), expect=rec(ts_ms=1795730000123))
add("ts_negative_zero", obj('"ts":-0'), expect=rec(ts_ms=0))
add("ts_exponent", obj('"ts":1.5e12'), expect=rec(ts_ms=1500000000000))
add("ts_tiny", obj('"ts":1e-300'), expect=rec(ts_ms=0))

# ts as RFC 3339
add("rfc3339_z_ms", obj('"ts":"2026-11-26T21:14:00.123Z"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 21, 14, 0, 123)))
add("rfc3339_no_fraction", obj('"ts":"2026-11-26T21:14:00Z"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 21, 14, 0)))
add("rfc3339_offset_plus", obj('"ts":"2026-11-26T23:14:00.5+02:00"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 23, 14, 0, 500, off_min=120)))
add("rfc3339_offset_minus", obj('"ts":"2026-11-26T15:44:00-05:30"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 15, 44, 0, off_min=-330)))
add("rfc3339_fraction_2", obj('"ts":"2026-11-26T21:14:00.12Z"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 21, 14, 0, 120)))
add("rfc3339_fraction_9_truncated", obj('"ts":"2026-11-26T21:14:00.123456789Z"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 21, 14, 0, 123)))
add("rfc3339_fraction_9999_truncated", obj('"ts":"2026-11-26T21:14:59.9999Z"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 21, 14, 59, 999)))
add("rfc3339_lowercase_t_z", obj('"ts":"2026-11-26t21:14:00z"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 21, 14, 0)))
add("rfc3339_leap_day", obj('"ts":"2024-02-29T12:00:00Z"'),
    expect=rec(ts_ms=ms(2024, 2, 29, 12)))
add("rfc3339_leap_400", obj('"ts":"2000-02-29T00:00:00Z"'), expect=rec(ts_ms=ms(2000, 2, 29)))
add("rfc3339_epoch", obj('"ts":"1970-01-01T00:00:00Z"'), expect=rec(ts_ms=0))
add("rfc3339_year_9999", obj('"ts":"9999-12-31T23:59:59.999Z"'),
    expect=rec(ts_ms=ms(9999, 12, 31, 23, 59, 59, 999)))
add("rfc3339_unknown_offset", obj('"ts":"2026-11-26T21:14:00-00:00"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 21, 14)))
add("rfc3339_offset_previous_day", obj('"ts":"2026-01-01T00:30:00+01:00"'),
    expect=rec(ts_ms=ms(2026, 1, 1, 0, 30, off_min=60)))
add("rfc3339_offset_next_year", obj('"ts":"2025-12-31T23:30:00-01:00"'),
    expect=rec(ts_ms=ms(2025, 12, 31, 23, 30, off_min=-60)))
add("rfc3339_offset_to_epoch", obj('"ts":"1970-01-01T01:00:00+01:00"'), expect=rec(ts_ms=0))
add("rfc3339_max_offset", obj('"ts":"2026-11-26T21:14:00+23:59"'),
    expect=rec(ts_ms=ms(2026, 11, 26, 21, 14, off_min=23 * 60 + 59)))

# latency, error
add("latency_zero", obj('"latency_ms":0'), expect=rec(latency_ms=0.0))
add("latency_negative_zero_is_zero", obj('"latency_ms":-0.0'), expect=rec(latency_ms=0.0))
add("latency_tiny", obj('"latency_ms":1e-300'), expect=rec(latency_ms=1e-300))
add("error_true", obj('"error":true'), expect=rec(error=True))
add("error_false", obj('"error":false'), expect=rec(error=False))

# numbers: correctly rounded doubles, integers too
NUMS = ["12345678901234567890", "-0", "1e-400", "0e99999999999999999999",
        "1e0000000000000000000000000001", "1E+2", "1.7976931348623157e308", "4.9e-324",
        "2.4703282292062328e-324", "9007199254740993", "0.1", "-1.5e-10",
        "1" + "0" * 300, "0." + "0" * 400 + "1e300",
        # more than 19 significant digits after a few zeros (simdjson 3.0.1 mis-rounds these)
        "0.0000000000000002" + "0" * 300 + "1e300", "0.00012345678901234567890123",
        "-123456789012345678901234567890.5e-10"]
add("numbers_rounding",
    obj('"features":{' + ",".join('"n%d":%s' % (i, t) for i, t in enumerate(NUMS)) + "}"),
    expect=rec(features=[["n%d" % i, "number", float(t)] for i, t in enumerate(NUMS)]))
add("exotic_exponent_in_unknown", obj('"x":[1e-99999999999999999999, 0E+00000000000000000000001]'),
    expect=rec())
add("surrogate_pair_in_unknown_key", obj('"\\ud834\\udd1e":{"\\ud834\\udd1e":1}'), expect=rec())

# limits, exactly at the bound
M128 = "m" * 128
add("model_128_bytes", '{"model":"%s","version":"v"}' % M128, expect=rec(model=M128))
E64 = "\u00e9" * 64  # 128 bytes of UTF-8
add("model_128_bytes_utf8", '{"model":"%s","version":"v"}' % E64, expect=rec(model=E64))
add("version_request_id_128_bytes",
    '{"model":"m","version":"%s","request_id":"%s"}' % ("v" * 128, "r" * 128),
    expect=rec(version="v" * 128, request_id="r" * 128))
add("model_escape_counts_decoded_bytes",
    '{"model":"%s\\u00e9","version":"v"}' % ("m" * 126),
    expect=rec(model="m" * 126 + "\u00e9"))
add("feature_name_128_bytes", obj('"features":{"%s":1}' % ("f" * 128)),
    expect=rec(features=[["f" * 128, "number", 1.0]]))
add("feature_value_1024_bytes", obj('"features":{"a":"%s"}' % ("x" * 1024)),
    expect=rec(features=[["a", "string", "x" * 1024]]))
add("prediction_label_1024_bytes",
    obj('"prediction":"%s","label":"%s"' % ("p" * 1024, "l" * 1024)),
    expect=rec(prediction=s("p" * 1024), label=s("l" * 1024)))
F1024 = [("f%04d" % i, i) for i in range(1024)]
add("features_1024",
    obj('"features":{' + ",".join('"%s":%d' % f for f in F1024) + "}"),
    expect=rec(features=[[n, "number", float(v)] for n, v in F1024]))
add("depth_32_arrays", obj('"x":' + "[" * 31 + "]" * 31), expect=rec())
add("depth_32_objects", obj('"x":' + '{"a":' * 30 + "{}" + "}" * 30), expect=rec())
add("depth_32_in_feature_value_is_bad_value",
    obj('"features":{"a":' + "[" * 30 + "]" * 30 + "}"), reject="bad_feature_value")
HEAD = '{"model":"m","version":"v"}'
add("message_1mib_whitespace", [[HEAD, 1], [" ", MIB - len(HEAD)]], expect=rec())
BIG = '{"model":"m","version":"v","blob":"'
add("message_1mib_unknown_string", [[BIG, 1], ["y", MIB - len(BIG) - 2], ['"}', 1]],
    expect=rec())
ARR = '{"model":"m","version":"v","a":['
NARR = (MIB - len(ARR) - 3) // 4
add("message_1mib_unknown_array", [[ARR, 1], ["1.5,", NARR], ["0]}", 1],
                                   [" ", MIB - len(ARR) - 3 - 4 * NARR]], expect=rec())

# ---- rejections ----

# too_large (checked before anything else)
add("too_large_1mib_plus_1", [[HEAD, 1], [" ", MIB - len(HEAD) + 1]], reject="too_large")
add("too_large_garbage", [["x", MIB + 1]], reject="too_large")

# bad_json
for name, text in [
        ("empty", ""), ("whitespace_only", " \n\t\r "), ("trailing_garbage", HEAD + "x"),
        ("trailing_second_object", HEAD + " {}"), ("trailing_comma_after", HEAD + ","),
        ("trailing_bracket", HEAD + "]"), ("trailing_brace", HEAD + "}"),
        ("unclosed_object", '{"model":"m","version":"v"'), ("unclosed_string", '{"model":"m'),
        ("lone_open_brace", "{"), ("lone_close_brace", "}"),
        ("missing_colon", '{"model" "m","version":"v"}'),
        ("missing_comma", '{"model":"m" "version":"v"}'),
        ("double_colon", '{"model"::"m","version":"v"}'),
        ("trailing_comma_object", obj('"x":1,')),
        ("trailing_comma_features", obj('"features":{"a":1,}')),
        ("trailing_comma_array", obj('"x":[1,]')), ("leading_comma_array", obj('"x":[,1]')),
        ("array_missing_comma", obj('"x":[1 2]')), ("colon_in_array", obj('"x":[1:2]')),
        ("mismatched_brackets", obj('"x":[1}')), ("key_not_string", '{1:2,' + MV + "}"),
        ("single_quotes", "{'model':'m','version':'v'}"),
        ("nan_lowercase", obj('"x":nan')), ("inf_short", obj('"x":inf')),
        ("nan_glued", obj('"x":NaNx')), ("nan_negative", obj('"x":-NaN')),
        ("infinity_plus", obj('"x":+Infinity')), ("infinity_glued", obj('"x":Infinityy')),
        ("infinity_after_digit", obj('"x":1Infinity')), ("nan_as_key", '{NaN:1,' + MV + '}'),
        ("nan_with_escaped_mark", obj('"s":"\\uFDD0","x":NaN')),
        ("nan_with_escaped_mark_lower", obj('"features":{"a":"\\ufdd0NaN","b":NaN}')),
        ("comment", obj('"x":1/*c*/')), ("leading_zero", obj('"x":01')),
        ("negative_leading_zero", obj('"x":-01')), ("plus_sign", obj('"x":+1')),
        ("bare_fraction", obj('"x":.5')), ("trailing_dot", obj('"x":1.')),
        ("empty_exponent", obj('"x":1e')), ("exponent_sign_only", obj('"x":1e+')),
        ("hex_number", obj('"x":0x10')), ("lone_minus", obj('"x":-')),
        ("number_then_letter", obj('"x":1x')), ("double_dot", obj('"x":1.2.3')),
        ("overflow_unknown", obj('"x":1e400')), ("overflow_feature", obj('"features":{"a":-1e400}')),
        ("overflow_ts", obj('"ts":1e309')), ("overflow_long_integer", obj('"x":1' + "0" * 400)),
        ("overflow_just_above_max", obj('"x":1.7976931348623159e308')),
        ("literal_truncated", obj('"x":tru')), ("literal_nul", obj('"x":nul')),
        ("literal_capital", obj('"x":True')), ("literal_null_capital", obj('"x":NULL')),
        ("literal_trailing_letters", obj('"x":nullx')),
        ("bad_escape", obj('"x":"\\x41"')), ("short_unicode_escape", obj('"x":"\\u12"')),
        ("bad_hex_unicode_escape", obj('"x":"\\u12G4"')),
        ("lone_high_surrogate", obj('"x":"\\ud800"')), ("lone_low_surrogate", obj('"x":"\\udc00"')),
        ("high_surrogate_then_ascii", obj('"x":"\\ud800\\u0041"')),
        ("reversed_surrogates", obj('"x":"\\udc00\\ud800"')),
        ("escaped_nul_value", obj('"x":"a\\u0000b"')),
        ("escaped_nul_feature_key", obj('"features":{"a\\u0000":1}')),
        ("escaped_nul_nested_key", obj('"meta":{"k\\u0000":1}')),
        ("escaped_nul_model", '{"model":"m\\u0000","version":"v"}'),
        ("raw_control_char", obj('"x":"a\u0001b"')), ("raw_tab_in_string", obj('"x":"a\tb"')),
        ("raw_newline_in_key", obj('"a\nb":1')),
        ("syntax_error_after_duplicate", '{"model":"m","model":"m","version":"v",}'),
        ("syntax_error_after_too_deep", obj('"x":' + "[" * 40 + "]" * 40 + ',"y":[1,]')),
        ("syntax_error_after_bad_model", '{"model":7,"version":"v","x":[}'),
        ("syntax_error_in_deep_unknown", obj('"x":' + "[" * 20 + "01" + "]" * 20)),
        ]:
    add("bad_json_" + name, text, reject="bad_json")
for name, data in [
        ("bom", b'\xef\xbb\xbf' + HEAD.encode()),
        ("invalid_utf8_value", obj('"x":"a\xffb"').encode("latin-1")),
        ("invalid_utf8_unknown_key", b'{"model":"m","version":"v","k\xc3":1}'),
        ("invalid_utf8_feature_name", b'{"model":"m","version":"v","features":{"\x80":1}}'),
        ("overlong_utf8", b'{"model":"m","version":"v","x":"\xc0\xaf"}'),
        ("utf8_encoded_surrogate", b'{"model":"m","version":"v","x":"\xed\xa0\x80"}'),
        ("utf8_above_10ffff", b'{"model":"m","version":"v","x":"\xf4\x90\x80\x80"}'),
        ("utf8_truncated_sequence", b'{"model":"m","version":"v","x":"\xe6\x97"}'),
        ("utf8_outside_string", b'{"model":"m","version":"v"}\xc3\xa9'),
        ("raw_nul_outside_string", b'{"model":"m","version":"v"}\x00'),
        ("raw_nul_inside_string", b'{"model":"m","version":"v","x":"a\x00b"}'),
        ("invalid_utf8_after_duplicate", b'{"model":"m","model":"m","version":"v","x":"\xff"}'),
        ]:
    add("bad_json_" + name, data, reject="bad_json")

# non-finite literals: NaN, Infinity, -Infinity (what Python's json.dumps writes by default) are
# a non-finite value of that one field, the rest of the record kept (connectors/record.h); a
# feature keeps it ("nonfinite": the window counts it), a prediction is missing and flagged, a
# label is missing, ts and latency_ms absent; where a string is required it is a number
add("nonfinite_unknown_key", obj('"x":NaN'), expect=rec())
add("nonfinite_features", obj('"features":{"a":NaN,"b":Infinity,"c":-Infinity,"d":1.5}'),
    expect=rec(features=[["a", "nonfinite", "nan"], ["b", "nonfinite", "inf"],
                         ["c", "nonfinite", "-inf"], ["d", "number", 1.5]]))
add("nonfinite_latency", obj('"latency_ms":-Infinity,"features":{"a":1}'),
    expect=rec(features=[["a", "number", 1.0]]))
add("nonfinite_ts", obj('"ts":NaN'), expect=rec())
add("nonfinite_label", obj('"label":Infinity,"prediction":0.5'),
    expect=rec(prediction=["number", 0.5]))
add("nonfinite_prediction", obj('"prediction":NaN,"label":1'),
    expect=rec(label=["number", 1.0], prediction_nonfinite=True))
add("nonfinite_nested_unknown", obj('"x":[NaN,Infinity,-Infinity,{"y":NaN}],"z":{"w":[-Infinity]}'),
    expect=rec())
add("nonfinite_in_strings_stay_strings", obj('"features":{"a":"NaN","NaN":1,"b":"-Infinity"}'),
    expect=rec(features=[["a", "string", "NaN"], ["NaN", "number", 1.0],
                         ["b", "string", "-Infinity"]]))
add("nonfinite_spaces", '{ "model" : "m" , "version" : "v" , "features" : { "a" : NaN , "b" : '
    '-Infinity } }', expect=rec(features=[["a", "nonfinite", "nan"], ["b", "nonfinite", "-inf"]]))
# the mark written for them is U+FDD0: a text of its own with one keeps its strings as they are
add("nonfinite_mark_text_without_literal", obj('"features":{"a":"\uFDD0NaN"}'),
    expect=rec(features=[["a", "string", "\uFDD0NaN"]]))
add("nonfinite_mark_escaped_without_literal", obj('"features":{"a":"\\uFDD0NaN"}'),
    expect=rec(features=[["a", "string", "\uFDD0NaN"]]))
add("nonfinite_raw_mark_with_literal",
    ('{"model":"m","version":"v","s":"\uFDD0","x":NaN}').encode("utf-8"), reject="bad_json")
add("nonfinite_model", '{"model":NaN,"version":"v"}', reject="bad_model")
add("nonfinite_version", '{"model":"m","version":Infinity}', reject="bad_version")
add("nonfinite_error", obj('"error":NaN'), reject="bad_error")
add("nonfinite_request_id", obj('"request_id":-Infinity'), reject="bad_request_id")
add("nonfinite_features_not_object", obj('"features":NaN'), reject="bad_features")
add("nonfinite_too_deep", obj('"x":' + "[" * 40 + "NaN" + "]" * 40), reject="too_deep")
add("nonfinite_duplicate_key", obj('"features":{"a":NaN,"a":1}'), reject="duplicate_key")

# too_deep
add("too_deep_33_arrays", obj('"x":' + "[" * 32 + "]" * 32), reject="too_deep")
add("too_deep_33_objects", obj('"x":' + '{"a":' * 31 + "{}" + "}" * 31), reject="too_deep")
add("too_deep_inside_features", obj('"features":{"a":' + "[" * 31 + "]" * 31 + "}"),
    reject="too_deep")
add("too_deep_root_array", "[" * 33 + "]" * 33, reject="too_deep")
add("too_deep_beats_duplicate", '{"model":"m","model":"m","version":"v","x":' +
    "[" * 40 + "]" * 40 + "}", reject="too_deep")
add("too_deep_beats_missing_model", '{"x":' + "[" * 40 + "]" * 40 + "}", reject="too_deep")
add("too_deep_3000_valid", obj('"x":' + "[" * 3000 + "]" * 3000), reject="too_deep")
add("too_deep_3000_then_bad_json", obj('"x":' + "[" * 3000 + "]" * 3000 + ',"y":01'),
    reject="bad_json")
add("too_deep_3000_unclosed", obj('"x":' + "[" * 3000 + "]" * 2999), reject="bad_json")
add("too_deep_100000_root", [["[", 100000], ["]", 100000]], reject="too_deep")
add("too_deep_100000_then_bad_string", [["[", 100000], ["]", 99999], [',"\\ud800"]', 1]],
    reject="bad_json")

# not_object
for name, text in [("array", "[1,2]"), ("empty_array", "[]"), ("string", '"model"'),
                   ("number", "42"), ("true", "true"), ("null", "null"),
                   ("padded_number", " \n1.5e3 "), ("array_of_records", "[" + HEAD + "]"),
                   ("long_number", "1." + "0" * 2000), ("exotic_number", "0e99999999999999999999")]:
    add("not_object_" + name, text, reject="not_object")
add("not_object_bad_scalar_is_bad_json", "01", reject="bad_json")
add("not_object_two_scalars_is_bad_json", "1 2", reject="bad_json")

# duplicate_key
add("duplicate_model", '{"model":"m","version":"v","model":"m"}', reject="duplicate_key")
add("duplicate_unknown_top", obj('"x":1,"x":[2]'), reject="duplicate_key")
add("duplicate_by_escape", obj('"a":1,"\\u0061":2'), reject="duplicate_key")
add("duplicate_feature", obj('"features":{"a":1,"b":2,"a":3}'), reject="duplicate_key")
add("duplicate_feature_by_escape", obj('"features":{"\\u00e9":1,"\u00e9":2}'),
    reject="duplicate_key")
add("duplicate_features_key", obj('"features":{"a":1},"features":{"b":2}'),
    reject="duplicate_key")
add("duplicate_beats_missing_model", '{"version":"v","x":1,"x":1}', reject="duplicate_key")
add("duplicate_beats_bad_feature", obj('"features":{"a":[1],"a":[2]}'), reject="duplicate_key")
add("duplicate_in_feature_value_is_bad_value", obj('"features":{"a":{"k":1,"k":2}}'),
    reject="bad_feature_value")

# model / version
add("missing_model", '{"version":"v"}', reject="missing_model")
add("missing_model_empty_object", "{}", reject="missing_model")
add("missing_model_nested_only", '{"meta":{"model":"m"},"version":"v"}', reject="missing_model")
add("missing_model_beats_missing_version", '{"x":1}', reject="missing_model")
for name, val in [("number", "7"), ("null", "null"), ("empty", '""'), ("bool", "true"),
                  ("array", '["m"]'), ("object", '{"m":1}'), ("129_bytes", '"%s"' % ("m" * 129)),
                  ("130_bytes_utf8", '"%s"' % ("\u00e9" * 65))]:
    add("bad_model_" + name, '{"model":%s,"version":"v"}' % val, reject="bad_model")
add("bad_model_beats_missing_version", '{"model":""}', reject="bad_model")
add("missing_version", '{"model":"m"}', reject="missing_version")
add("missing_version_beats_bad_ts", '{"model":"m","ts":"x"}', reject="missing_version")
for name, val in [("number", "2"), ("null", "null"), ("empty", '""'),
                  ("129_bytes", '"%s"' % ("v" * 129))]:
    add("bad_version_" + name, '{"model":"m","version":%s}' % val, reject="bad_version")
add("bad_version_beats_bad_request_id", '{"model":"m","version":1,"request_id":1}',
    reject="bad_version")

# request_id
for name, val in [("number", "12"), ("bool", "false"), ("array", '["r"]'),
                  ("129_bytes", '"%s"' % ("r" * 129))]:
    add("bad_request_id_" + name, obj('"request_id":%s' % val), reject="bad_request_id")
add("bad_request_id_beats_bad_ts", obj('"request_id":{},"ts":-1'), reject="bad_request_id")

# ts
for name, val in [("negative", "-1"), ("negative_fraction", "-0.5"),
                  ("two_pow_53", "9007199254740992"), ("huge", "1e300"), ("bool", "true"),
                  ("array", "[1]"), ("object", "{}"), ("empty", '""'),
                  ("garbage", '"yesterday"'), ("numeric_string", '"1795730000123"'),
                  ("month_13", '"2026-13-01T00:00:00Z"'), ("month_00", '"2026-00-10T00:00:00Z"'),
                  ("day_00", '"2026-01-00T00:00:00Z"'),
                  ("april_31", '"2026-04-31T00:00:00Z"'),
                  ("feb_29_non_leap", '"2025-02-29T00:00:00Z"'),
                  ("feb_29_1900", '"1900-02-29T00:00:00Z"'),
                  ("hour_24", '"2026-11-26T24:00:00Z"'), ("minute_60", '"2026-11-26T21:60:00Z"'),
                  ("leap_second", '"2026-12-31T23:59:60Z"'),
                  ("no_offset", '"2026-11-26T21:14:00"'),
                  ("space_separator", '"2026-11-26 21:14:00Z"'),
                  ("before_epoch", '"1969-12-31T23:59:59.999Z"'),
                  ("before_epoch_by_offset", '"1970-01-01T00:30:00+01:00"'),
                  ("offset_24", '"2026-11-26T21:14:00+24:00"'),
                  ("offset_minute_60", '"2026-11-26T21:14:00+05:60"'),
                  ("offset_no_colon", '"2026-11-26T21:14:00+0100"'),
                  ("offset_short", '"2026-11-26T21:14:00+01"'),
                  ("empty_fraction", '"2026-11-26T21:14:00.Z"'),
                  ("comma_fraction", '"2026-11-26T21:14:00,123Z"'),
                  ("no_seconds", '"2026-11-26T21:14Z"'), ("date_only", '"2026-11-26"'),
                  ("two_digit_year", '"26-11-26T21:14:00Z"'),
                  ("leading_space", '" 2026-11-26T21:14:00Z"'),
                  ("trailing_space", '"2026-11-26T21:14:00Z "'),
                  ("trailing_garbage", '"2026-11-26T21:14:00Zx"'),
                  ("signed_year", '"+2026-11-26T21:14:00Z"'),
                  ("one_digit_month", '"2026-1-26T21:14:00Z"')]:
    add("bad_ts_" + name, obj('"ts":%s' % val), reject="bad_ts")
add("bad_ts_beats_bad_latency", obj('"ts":"x","latency_ms":-1'), reject="bad_ts")

# latency_ms, error
for name, val in [("negative", "-1"), ("negative_tiny", "-1e-300"), ("string", '"12"'),
                  ("bool", "true"), ("array", "[1]")]:
    add("bad_latency_" + name, obj('"latency_ms":%s' % val), reject="bad_latency")
add("bad_latency_beats_bad_error", obj('"latency_ms":"1","error":1'), reject="bad_latency")
for name, val in [("zero", "0"), ("one", "1"), ("string", '"false"'), ("object", "{}")]:
    add("bad_error_" + name, obj('"error":%s' % val), reject="bad_error")
add("bad_error_beats_bad_prediction", obj('"error":"x","prediction":[]'), reject="bad_error")

# prediction, label
for name, val in [("array", "[1]"), ("object", '{"p":1}'), ("1025_bytes", '"%s"' % ("p" * 1025))]:
    add("bad_prediction_" + name, obj('"prediction":%s' % val), reject="bad_prediction")
    add("bad_label_" + name, obj('"label":%s' % val), reject="bad_label")
add("bad_prediction_beats_bad_label", obj('"prediction":{},"label":{}'), reject="bad_prediction")
add("bad_label_beats_bad_features", obj('"label":[],"features":[]'), reject="bad_label")

# features
for name, val in [("array", '[["a",1]]'), ("empty_array", "[]"), ("string", '"a=1"'),
                  ("number", "1"), ("bool", "true")]:
    add("bad_features_" + name, obj('"features":%s' % val), reject="bad_features")
add("too_many_features_1025",
    obj('"features":{' + ",".join('"f%04d":%d' % (i, i) for i in range(1025)) + "}"),
    reject="too_many_features")
add("too_many_features_beats_bad_name",
    obj('"features":{"":1,' + ",".join('"f%04d":%d' % (i, i) for i in range(1024)) + "}"),
    reject="too_many_features")
add("bad_feature_name_empty", obj('"features":{"":1}'), reject="bad_feature_name")
add("bad_feature_name_129_bytes", obj('"features":{"%s":1}' % ("f" * 129)),
    reject="bad_feature_name")
for name, val in [("array", "[1]"), ("empty_array", "[]"), ("object", '{"x":1}'),
                  ("empty_object", "{}"), ("1025_bytes", '"%s"' % ("x" * 1025))]:
    add("bad_feature_value_" + name, obj('"features":{"ok":1,"a":%s}' % val),
        reject="bad_feature_value")
add("feature_value_before_name_in_document_order", obj('"features":{"a":[1],"":2}'),
    reject="bad_feature_value")
add("feature_name_before_value_in_document_order", obj('"features":{"":1,"a":[2]}'),
    reject="bad_feature_name")

# ---- limits other than the defaults ----
add("limits_depth_2_accepts_features", obj('"features":{"a":1}'), limits={"max_depth": 2},
    expect=rec(features=[["a", "number", 1.0]]))
add("limits_depth_1_rejects_features", obj('"features":{"a":1}'), limits={"max_depth": 1},
    reject="too_deep")
add("limits_depth_1_bad_json_wins", obj('"features":{"a":1},"x":[1,]'), limits={"max_depth": 1},
    reject="bad_json")
add("limits_depth_max_1024_at_bound", obj('"x":' + "[" * 1023 + "]" * 1023),
    limits={"max_depth": 1024}, expect=rec())
add("limits_depth_max_1024_past_bound", obj('"x":' + "[" * 1024 + "]" * 1024),
    limits={"max_depth": 1024}, reject="too_deep")
add("limits_message_at_bound", HEAD, limits={"max_message": len(HEAD)}, expect=rec())
add("limits_message_past_bound", HEAD, limits={"max_message": len(HEAD) - 1}, reject="too_large")
add("limits_name_at_bound", '{"model":"abc","version":"v"}', limits={"max_name": 3},
    expect=rec(model="abc"))
add("limits_name_past_bound", '{"model":"abcd","version":"v"}', limits={"max_name": 3},
    reject="bad_model")
add("limits_features_past_bound", obj('"features":{"a":1,"b":2,"c":3}'),
    limits={"max_features": 2}, reject="too_many_features")
add("limits_feature_name_past_bound", obj('"features":{"abc":1}'),
    limits={"max_feature_name": 2}, reject="bad_feature_name")
add("limits_value_past_bound_label", obj('"label":"abc"'), limits={"max_value": 2},
    reject="bad_label")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "records", "corpus.jsonl"))
    reasons = {c["reject"] for c in cases if "reject" in c}
    every = {"too_large", "bad_json", "too_deep", "not_object", "duplicate_key", "missing_model",
             "bad_model", "missing_version", "bad_version", "bad_request_id", "bad_ts",
             "bad_latency", "bad_error", "bad_prediction", "bad_label", "bad_features",
             "too_many_features", "bad_feature_name", "bad_feature_value"}
    assert reasons == every, every - reasons
    with open(out, "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False, separators=(",", ":")) + "\n")
    print("%s: %d cases" % (out, len(cases)))


if __name__ == "__main__":
    main()
