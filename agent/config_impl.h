/*
 * config_impl.h -- internal to the configuration module: the option table's types and the verbs
 * its files share. Included only by config.c (the table, lookups, whole configurations),
 * config_value.c (values parsed and stored, Kafka properties, secrets), config_load.c (file,
 * environment, flags), config_check.c (string checks, validation) and config_doc.c (dump,
 * documentation). config.h is the public side.
 *
 * Messages written by these verbs into msg (n bytes) never name the option: the caller prefixes
 * it ("rules.kl.threshold: must be ..."). They never quote a secret.
 */
#ifndef DRIFTD_AGENT_CONFIG_IMPL_H
#define DRIFTD_AGENT_CONFIG_IMPL_H

#include "agent/ascii.h"
#include "agent/config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_PROP 255 /* bytes of a Kafka property name */
#define MAX_NAME 128 /* bytes of an option name, flag or variable */

/* ---- the option table ---- */

enum opt_type {
	OPT_STRING,   /* char *, owned */
	OPT_BOOL,     /* int, 0 or 1 */
	OPT_UINT,     /* unsigned */
	OPT_U64,      /* uint64_t */
	OPT_SIZE,     /* size_t */
	OPT_DOUBLE,   /* double */
	OPT_SECONDS,  /* double, a duration in seconds */
	OPT_ENUM,     /* an int-sized enum: the index of its name in opt.names */
	OPT_LOG_LEVEL /* int, syslog level 0..7 */
};

#define OPT_NULLABLE 0x01u /* a string that may be unset: null, or "" */
#define OPT_SECRET   0x02u /* may hold a password: masked by dump, accepts @FILE */
#define OPT_MIN_OPEN 0x04u /* the lower bound is exclusive */
#define OPT_MAX_OPEN 0x08u /* the upper bound is exclusive */
#define OPT_HOSTNAME 0x10u /* the default is the host name */

enum section { SEC_IO, SEC_WINDOWS, SEC_DECISIONS, SEC_RULES, SEC_LIMITS, SEC_LOG, SEC_COUNT };

struct opt {
	const char *name;	  /* dotted path: JSON keys, --NAME, DRIFTD_NAME */
	const char *flag;	  /* a second flag spelling (SPEC.md), without "--"; or NULL */
	enum opt_type type;	  /* how the value is parsed and stored */
	unsigned flags;		  /* OPT_* */
	size_t off;		  /* offsetof(struct agent_config, field) */
	const char *def;	  /* default, written as a flag value; NULL: unset */
	double min, max;	  /* bounds of a number (see OPT_MIN_OPEN, OPT_MAX_OPEN) */
	const char *const *names; /* OPT_ENUM: the allowed values, NULL-terminated */
	int (*check)(const char *s, char *msg, size_t n); /* OPT_STRING syntax; NULL: text */
	enum section sec;				  /* where the documentation lists it */
	const char *desc;				  /* one line of Markdown */
};

#define OFF(field) offsetof(struct agent_config, field)

/* config.c: every option, in documentation order, and their number. */
extern const struct opt config_opts[];
extern const size_t config_nopts;
/* config.c: syslog level names, indexed by level (0 emerg .. 7 debug). */
extern const char *const config_log_level_names[8];

static inline void *field(struct agent_config *c, const struct opt *o)
{
	return (char *)c + o->off;
}

static inline const void *cfield(const struct agent_config *c, const struct opt *o)
{
	return (const char *)c + o->off;
}

static inline int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- config.c: lookups, names, whole configurations ---- */

/* The option named name[0..len) (its dotted path), or NULL. */
const struct opt *config_find_opt(const char *name, size_t len);
/* Whether path is a proper prefix of option names, up to a '.' ("rules", "rules.kl"). */
int config_is_section(const char *path, size_t len);
/* DRIFTD_ + the name upper-cased, '.' -> '_', into buf. */
void config_env_name(const struct opt *o, char *buf, size_t n);
/* The option whose variable is name[0..len), or NULL. */
const struct opt *config_find_env(const char *name, size_t len);
/* The option whose flag (its name or its short spelling, without "--") is name[0..len). */
const struct opt *config_find_flag(const char *name, size_t len);
/* Deep copy of src into dst (uninitialised); -1 when memory runs out (dst is then empty). */
int config_copy(struct agent_config *dst, const struct agent_config *src);
/* Replaces *c by tmp (consumed). */
void config_commit(struct agent_config *c, struct agent_config *tmp);

/* ---- config_value.c: values parsed and stored ---- */

/* What a value looks like before it is stored. V_TEXT comes from the environment or a flag and is
 * parsed according to the option's type; the others are JSON values. */
enum vkind { V_TEXT, V_STRING, V_NUMBER, V_BOOL, V_NULL, V_OBJECT, V_ARRAY };

struct val {
	enum vkind kind;
	const char *s; /* V_TEXT, V_STRING: the text; V_NUMBER: the lexeme; NUL-terminated */
	size_t len;    /* of s */
	int b;	       /* V_BOOL */
};

/* "a string", "a number", ... for "got X" in messages. */
const char *config_kind_name(enum vkind k);
/* A double formatted so that strtod gives it back: integers plainly, else the shortest %g. */
void config_fmt_double(char *buf, size_t n, double v);
/* Whether v is finite and within the bounds of o. */
int config_in_range(const struct opt *o, double v);
/* The range of a number as text: "in [1, 1000]", "> 0", ">= 0", or "" (any finite number). */
void config_range_text(const struct opt *o, char *buf, size_t n);
/* "must be RANGE, got GOT" into msg; returns -1. */
int config_range_error(const struct opt *o, const char *got, size_t len, char *msg, size_t n);
/* Whether s[0..len) is UTF-8 without control characters (allow_ctl: except for those). */
int config_text_ok(const char *s, size_t len, int allow_ctl);
/* Parses an unsigned integer written as a JSON integer; saturates at UINT64_MAX. 0 or -1. */
int config_parse_uint(const char *s, size_t len, uint64_t *out);
/* The text of a string that may be "@FILE" (secrets): "@@x" is the literal "@x". A malloc'd
 * string, or NULL with msg. */
char *config_secret_text(const char *s, size_t len, char *msg, size_t n);
/* Stores v into the field of o, or fills msg (without the option name) and returns -1. */
int config_set_opt(struct agent_config *c, const struct opt *o, const struct val *v, char *msg,
		   size_t n);

/* ---- config_value.c: Kafka properties ---- */

/* librdkafka property names: [A-Za-z0-9._-]+, at most MAX_PROP bytes. */
int config_kafka_name_ok(const char *s, size_t len);
/* Properties whose value is secret: masked by dump, accept @FILE. */
int config_kafka_secret(const char *name);
/* The value of property name, or NULL. */
const char *config_kafka_get(const struct agent_config *c, const char *name);
/* Sets name[0..len) = value (value is stolen on every path). 0, or -1 with msg. */
int config_kafka_put(struct agent_config *c, const char *name, size_t len, char *value, char *msg,
		     size_t n);
/* A Kafka property value as text: strings as they are (secrets may be @FILE), numbers as
 * written, booleans as true/false. A malloc'd string, or NULL with msg. */
char *config_kafka_text(const char *prop, const struct val *v, char *msg, size_t n);

/* ---- config_check.c: the syntax of string options (opt.check) ---- */

int config_check_source(const char *s, char *msg, size_t n);
int config_check_events(const char *s, char *msg, size_t n);
int config_check_topic_endpoint(const char *s, char *msg, size_t n);
int config_check_store(const char *s, char *msg, size_t n);
int config_check_listen(const char *s, char *msg, size_t n);
int config_check_agent_id(const char *s, char *msg, size_t n);
int config_check_store_prefix(const char *s, char *msg, size_t n);
int config_check_models(const char *s, char *msg, size_t n);
int config_check_alert_selector(const char *s, char *msg, size_t n);
int config_check_log_facilities(const char *s, char *msg, size_t n);

#endif
