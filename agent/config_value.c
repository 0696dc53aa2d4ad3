/*
 * config_value.c -- values parsed and stored (see config_impl.h): a value from the file (a JSON
 * string, number, boolean or null) or from the environment or a flag (text) is checked against
 * its option's type, bounds and syntax and stored in struct agent_config, or refused with a
 * message that says what was expected and what was got (never quoting a secret). Also the Kafka
 * pass-through properties and secrets given as "@FILE".
 */
#include "agent/config_impl.h"
#include "agent/jsonpos.h"
#include "agent/util.h"
#include "connectors/text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_KAFKA  1024	 /* Kafka properties */
#define MAX_SECRET 65536 /* bytes of an @FILE */

/* Log level spellings accepted besides config_log_level_names. */
static const struct {
	const char *name;
	int level;
} log_level_aliases[] = { { "emergency", 0 }, { "critical", 2 }, { "error", 3 }, { "warn", 4 } };

/* ---- text ---- */

static int str_ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (to_lower((unsigned char)a[i]) != to_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Whether s[0..len) is UTF-8 without control characters (allow_ctl: except for those). */
int config_text_ok(const char *s, size_t len, int allow_ctl)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t k = conn_text_utf8_len(s + i, len - i);

		if (!k || (!allow_ctl && (p[i] < 0x20 || p[i] == 0x7f)))
			return 0;
		i += k;
	}
	return 1;
}

/* ---- kinds, numbers, messages ---- */

const char *config_kind_name(enum vkind k)
{
	switch (k) {
	case V_TEXT:
	case V_STRING:
		return "a string";
	case V_NUMBER:
		return "a number";
	case V_BOOL:
		return "a boolean";
	case V_NULL:
		return "null";
	case V_OBJECT:
		return "an object";
	case V_ARRAY:
		return "an array";
	}
	return "a value";
}

/* A double formatted so that strtod gives it back: integers plainly, else the shortest %g. */
void config_fmt_double(char *buf, size_t n, double v)
{
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, n, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

int config_in_range(const struct opt *o, double v)
{
	if (!isfinite(v))
		return 0;
	if ((o->flags & OPT_MIN_OPEN) ? v <= o->min : v < o->min)
		return 0;
	if ((o->flags & OPT_MAX_OPEN) ? v >= o->max : v > o->max)
		return 0;
	return 1;
}

/* The range of a number as text: "in [1, 1000]", "> 0", ">= 0", or "" (any finite number). */
void config_range_text(const struct opt *o, char *buf, size_t n)
{
	char lo[32], hi[32];

	config_fmt_double(lo, sizeof lo, o->min);
	config_fmt_double(hi, sizeof hi, o->max);
	if (isinf(o->min) && isinf(o->max))
		snprintf(buf, n, "%s", "");
	else if (isinf(o->max))
		snprintf(buf, n, "%s %s", (o->flags & OPT_MIN_OPEN) ? ">" : ">=", lo);
	else
		snprintf(buf, n, "in %c%s, %s%c", (o->flags & OPT_MIN_OPEN) ? '(' : '[', lo, hi,
			 (o->flags & OPT_MAX_OPEN) ? ')' : ']');
}

int config_range_error(const struct opt *o, const char *got, size_t len, char *msg, size_t n)
{
	char r[96], q[64];

	config_range_text(o, r, sizeof r);
	agent_jsonpos_quote(q, sizeof q, got, len);
	if (r[0])
		snprintf(msg, n, "must be %s, got %.*s", r, (int)strlen(q) - 2, q + 1);
	else
		snprintf(msg, n, "must be a finite number, got %.*s", (int)strlen(q) - 2, q + 1);
	return -1;
}

static const char *expected(const struct opt *o)
{
	switch (o->type) {
	case OPT_STRING:
		return (o->flags & OPT_NULLABLE) ? "a string or null" : "a string";
	case OPT_BOOL:
		return "true or false";
	case OPT_UINT:
	case OPT_U64:
	case OPT_SIZE:
		return "a non-negative integer";
	case OPT_DOUBLE:
		return "a number";
	case OPT_SECONDS:
		return "a number of seconds";
	case OPT_ENUM:
		return "one of the names listed in doc/configuration.md";
	case OPT_LOG_LEVEL:
		return "a syslog level (emerg, alert, crit, err, warning, notice, info, debug) or "
		       "0..7";
	}
	return "a value";
}

/* "expected X, got Y" where Y is the JSON type, or the text itself when it is not secret. */
static int type_error(const struct opt *o, const struct val *v, char *msg, size_t n)
{
	char q[64];

	if (o->type == OPT_ENUM) {
		size_t k = (size_t)snprintf(msg, n, "expected ");

		for (size_t i = 0; o->names[i] && k < n; i++)
			k += (size_t)snprintf(msg + k, n - k, "%s\"%s\"",
					      i == 0		? ""
					      : o->names[i + 1] ? ", "
								: " or ",
					      o->names[i]);
		if (k < n)
			snprintf(msg + k, n - k, ", got ");
		k = strlen(msg);
		if (v->kind == V_TEXT || v->kind == V_STRING) {
			agent_jsonpos_quote(q, sizeof q, v->s, v->len);
			snprintf(msg + k, n - k, "%s", q);
		} else {
			snprintf(msg + k, n - k, "%s", config_kind_name(v->kind));
		}
		return -1;
	}
	if ((v->kind == V_TEXT || v->kind == V_NUMBER) && !(o->flags & OPT_SECRET)) {
		agent_jsonpos_quote(q, sizeof q, v->s, v->len);
		if (v->kind == V_NUMBER)
			snprintf(msg, n, "expected %s, got %.*s", expected(o), (int)strlen(q) - 2,
				 q + 1);
		else
			snprintf(msg, n, "expected %s, got %s", expected(o), q);
	} else {
		snprintf(msg, n, "expected %s, got %s", expected(o), config_kind_name(v->kind));
	}
	return -1;
}

/* ---- secrets ---- */

/* Reads a secret from a regular file (at most MAX_SECRET bytes, no NUL, trailing CR/LF
 * stripped) into a malloc'd string. */
static char *read_secret_file(const char *path, char *msg, size_t n)
{
	char q[64];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd;

	agent_jsonpos_quote(q, sizeof q, path, strlen(path));
	if (!path[0]) {
		snprintf(msg, n, "\"@\" must be followed by a file name");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(msg, n, "cannot open secret file %s: %s", q, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(msg, n, "secret file %s is not a regular file", q);
		goto fail;
	}
	buf = malloc(MAX_SECRET + 1);
	if (!buf) {
		snprintf(msg, n, "out of memory");
		goto fail;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, MAX_SECRET + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(msg, n, "cannot read secret file %s: %s", q, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > MAX_SECRET) {
			snprintf(msg, n, "secret file %s is larger than %d bytes", q, MAX_SECRET);
			goto fail;
		}
	}
	close(fd);
	if (memchr(buf, '\0', len)) {
		snprintf(msg, n, "secret file %s contains a NUL byte", q);
		free(buf);
		return NULL;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* The text of a string that may be "@FILE" (secrets): "@@x" is the literal "@x". */
char *config_secret_text(const char *s, size_t len, char *msg, size_t n)
{
	char *d;

	if (len && s[0] == '@') {
		if (len > 1 && s[1] == '@')
			d = agent_strndup(s + 1, len - 1);
		else
			return read_secret_file(s + 1, msg, n);
	} else {
		d = agent_strndup(s, len);
	}
	if (!d)
		snprintf(msg, n, "out of memory");
	return d;
}

/* ---- parsing and storing ---- */

/* Parses an unsigned integer written as a JSON integer; saturates at UINT64_MAX. */
int config_parse_uint(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (!is_digit((unsigned char)s[i]))
			return -1;
		d = (unsigned)(s[i] - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_bool(const char *s, size_t len, int *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (str_ieq(s, len, yes[i])) {
			*out = 1;
			return 0;
		}
		if (str_ieq(s, len, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int parse_level(const char *s, size_t len, int *out)
{
	for (int i = 0; i < 8; i++)
		if (str_ieq(s, len, config_log_level_names[i])) {
			*out = i;
			return 0;
		}
	for (size_t i = 0; i < sizeof log_level_aliases / sizeof log_level_aliases[0]; i++)
		if (str_ieq(s, len, log_level_aliases[i].name)) {
			*out = log_level_aliases[i].level;
			return 0;
		}
	if (len == 1 && s[0] >= '0' && s[0] <= '7') {
		*out = s[0] - '0';
		return 0;
	}
	return -1;
}

static int set_string(struct agent_config *c, const struct opt *o, const struct val *v, char *msg,
		      size_t n)
{
	char **dst = field(c, o);
	char *s;

	if (v->kind == V_NULL || ((v->kind == V_TEXT || v->kind == V_STRING) && v->len == 0)) {
		if (!(o->flags & OPT_NULLABLE)) {
			if (v->kind == V_NULL)
				return type_error(o, v, msg, n);
			snprintf(msg, n, "must not be empty");
			return -1;
		}
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (v->kind != V_TEXT && v->kind != V_STRING)
		return type_error(o, v, msg, n);
	if (o->flags & OPT_SECRET)
		s = config_secret_text(v->s, v->len, msg, n);
	else if (!(s = agent_strndup(v->s, v->len)))
		snprintf(msg, n, "out of memory");
	if (!s)
		return -1;
	if (!s[0] && !(o->flags & OPT_NULLABLE)) {
		snprintf(msg, n, "must not be empty");
		free(s);
		return -1;
	}
	if (!config_text_ok(s, strlen(s), 0)) {
		snprintf(msg, n, "must be UTF-8 text without control characters");
		free(s);
		return -1;
	}
	if (o->check && o->check(s, msg, n)) {
		free(s);
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

/* Stores v into the field of o, or fills msg (without the option name) and returns -1. */
int config_set_opt(struct agent_config *c, const struct opt *o, const struct val *v, char *msg,
		   size_t n)
{
	int text = v->kind == V_TEXT;
	uint64_t u;
	double d;
	int i;

	switch (o->type) {
	case OPT_STRING:
		return set_string(c, o, v, msg, n);
	case OPT_BOOL:
		if (v->kind == V_BOOL)
			i = v->b;
		else if (!text || parse_bool(v->s, v->len, &i))
			return type_error(o, v, msg, n);
		*(int *)field(c, o) = i;
		return 0;
	case OPT_UINT:
	case OPT_U64:
	case OPT_SIZE:
		if ((!text && v->kind != V_NUMBER) || config_parse_uint(v->s, v->len, &u))
			return type_error(o, v, msg, n);
		if (!config_in_range(o, (double)u))
			return config_range_error(o, v->s, v->len, msg, n);
		if (o->type == OPT_UINT)
			*(unsigned *)field(c, o) = (unsigned)u;
		else if (o->type == OPT_U64)
			*(uint64_t *)field(c, o) = u;
		else
			*(size_t *)field(c, o) = (size_t)u;
		return 0;
	case OPT_DOUBLE:
	case OPT_SECONDS:
		if ((!text && v->kind != V_NUMBER) ||
		    agent_jsonpos_number_len(v->s, v->len) != v->len)
			return type_error(o, v, msg, n);
		d = strtod(v->s, NULL);
		if (!config_in_range(o, d))
			return config_range_error(o, v->s, v->len, msg, n);
		*(double *)field(c, o) = d;
		return 0;
	case OPT_ENUM:
		if (!text && v->kind != V_STRING)
			return type_error(o, v, msg, n);
		for (i = 0; o->names[i]; i++)
			if (str_ieq(v->s, v->len, o->names[i])) {
				*(int *)field(c, o) = i;
				return 0;
			}
		return type_error(o, v, msg, n);
	case OPT_LOG_LEVEL:
		if (v->kind == V_NUMBER && config_parse_uint(v->s, v->len, &u) == 0 && u <= 7)
			i = (int)u;
		else if ((!text && v->kind != V_STRING) || parse_level(v->s, v->len, &i))
			return type_error(o, v, msg, n);
		*(int *)field(c, o) = i;
		return 0;
	}
	snprintf(msg, n, "unsupported option type");
	return -1;
}

/* ---- Kafka properties ---- */

/* librdkafka property names: [A-Za-z0-9._-]+. */
int config_kafka_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > MAX_PROP)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* Properties whose value is secret: masked by dump, accept @FILE. */
int config_kafka_secret(const char *name)
{
	static const char *const words[] = { "password", "secret" };
	size_t len = strlen(name);

	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		size_t wl = strlen(words[w]);

		for (size_t i = 0; i + wl <= len; i++)
			if (str_ieq(name + i, wl, words[w]))
				return 1;
	}
	return !strcmp(name, "ssl.key.pem") || !strcmp(name, "sasl.oauthbearer.config");
}

const char *config_kafka_get(const struct agent_config *c, const char *name)
{
	for (size_t i = 0; i < c->kafka_n; i++)
		if (!strcmp(c->kafka_keys[i], name))
			return c->kafka_values[i];
	return NULL;
}

/* Sets name = value (value is stolen on every path). */
int config_kafka_put(struct agent_config *c, const char *name, size_t len, char *value, char *msg,
		     size_t n)
{
	char **keys, **values, *key;

	for (size_t i = 0; i < c->kafka_n; i++) {
		if (strlen(c->kafka_keys[i]) == len && !memcmp(c->kafka_keys[i], name, len)) {
			free(c->kafka_values[i]);
			c->kafka_values[i] = value;
			return 0;
		}
	}
	if (c->kafka_n >= MAX_KAFKA) {
		snprintf(msg, n, "more than %d properties", MAX_KAFKA);
		free(value);
		return -1;
	}
	key = agent_strndup(name, len);
	keys = realloc(c->kafka_keys, (c->kafka_n + 1) * sizeof *keys);
	if (keys)
		c->kafka_keys = keys;
	values = realloc(c->kafka_values, (c->kafka_n + 1) * sizeof *values);
	if (values)
		c->kafka_values = values;
	if (!key || !keys || !values) {
		snprintf(msg, n, "out of memory");
		free(key);
		free(value);
		return -1;
	}
	c->kafka_keys[c->kafka_n] = key;
	c->kafka_values[c->kafka_n] = value;
	c->kafka_n++;
	return 0;
}

/* A Kafka property value as text: strings as they are (secrets may be @FILE), numbers as
 * written, booleans as true/false. */
char *config_kafka_text(const char *prop, const struct val *v, char *msg, size_t n)
{
	char *s;

	switch (v->kind) {
	case V_TEXT:
	case V_STRING:
		if (config_kafka_secret(prop)) {
			if (!(s = config_secret_text(v->s, v->len, msg, n)))
				return NULL;
		} else {
			s = agent_strndup(v->s, v->len);
		}
		break;
	case V_NUMBER:
		s = agent_strndup(v->s, v->len);
		break;
	case V_BOOL:
		s = agent_strndup(v->b ? "true" : "false", v->b ? 4 : 5);
		break;
	default:
		snprintf(msg, n, "expected a string, number or boolean, got %s",
			 config_kind_name(v->kind));
		return NULL;
	}
	if (!s) {
		snprintf(msg, n, "out of memory");
	} else if (!config_text_ok(s, strlen(s), 1)) {
		snprintf(msg, n, "must be UTF-8 text");
		free(s);
		s = NULL;
	}
	return s;
}
