/*
 * json_out.h -- the small jansson helpers the admin operations (admin.c) and driftctl's output
 * (ctl.c) build and read their documents with. Header-only: each is a line or two.
 */
#ifndef DRIFTD_AGENT_JSON_OUT_H
#define DRIFTD_AGENT_JSON_OUT_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>

/* obj[key] = v (stolen); non-zero when v is NULL or on no memory. */
static inline int agent_json_set(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) != 0 : 1;
}

/* A count as a JSON integer (clamped at INT64_MAX). */
static inline json_t *agent_json_count(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* A JSON number, or null when x is not finite. */
static inline json_t *agent_json_num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* A JSON string, or null when s is NULL. */
static inline json_t *agent_json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* o[key] when it is a string, else NULL. */
static inline const char *agent_json_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Whether o[key] is true. */
static inline int agent_json_true(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

#endif
