/*
 * config_check.c -- what a configuration must satisfy (see config_impl.h): the syntax of string
 * options (opt.check: endpoints and topics by connectors/endpoint.h's one parser, HOST:PORT by
 * text.h's, the alert selector, log facilities, agent id, store prefix), and
 * agent_config_validate: every stored value is one the loaders could have produced, and the
 * options agree with each other (a Kafka endpoint needs brokers, grace is shorter than the
 * window, the output topics differ from the source topics, ...).
 */
#include "agent/config_impl.h"
#include "agent/log.h"
#include "agent/util.h"
#include "connectors/alertmanager.h"
#include "connectors/endpoint.h"
#include "connectors/text.h"

#include <stdio.h>
#include <string.h>

/* ---- string checks (also used by validate) ---- */

/* s parses as an endpoint for role; the message is the endpoint parser's (never quoting s: a
 * store spec may hold a password). */
static int check_endpoint(const char *s, enum conn_endpoint_role role, char *msg, size_t n)
{
	struct conn_endpoint ep;

	if (conn_endpoint_parse(s, role, &ep, msg, n) < 0)
		return -1;
	conn_endpoint_free(&ep);
	return 0;
}

int config_check_source(const char *s, char *msg, size_t n)
{
	return check_endpoint(s, CONN_ENDPOINT_SOURCE, msg, n);
}

int config_check_events(const char *s, char *msg, size_t n)
{
	return check_endpoint(s, CONN_ENDPOINT_SINK, msg, n);
}

int config_check_topic_endpoint(const char *s, char *msg, size_t n)
{
	return check_endpoint(s, CONN_ENDPOINT_TOPIC, msg, n);
}

int config_check_store(const char *s, char *msg, size_t n)
{
	return check_endpoint(s, CONN_ENDPOINT_STORE, msg, n);
}

/* "" (no HTTP endpoint), or text.h's HOST:PORT with the port required, ":PORT" for every
 * interface and port 0 for one the system picks. */
int config_check_listen(const char *s, char *msg, size_t n)
{
	struct conn_hostport hp;

	if (!s[0] || conn_text_hostport(s, strlen(s),
					CONN_TEXT_HP_PORT | CONN_TEXT_HP_EMPTY | CONN_TEXT_HP_PORT0,
					&hp) == 0)
		return 0;
	snprintf(msg, n, "expected HOST:PORT or [IPV6]:PORT, PORT in 0..65535");
	return -1;
}

int config_check_log_facilities(const char *s, char *msg, size_t n)
{
	const char *p = s;

	if (strlen(s) > 500) {
		snprintf(msg, n, "too long");
		return -1;
	}
	while (*p) {
		size_t len = strcspn(p, ","), k;

		for (k = 0; agent_log_facility_names[k]; k++)
			if (strlen(agent_log_facility_names[k]) == len &&
			    !strncmp(agent_log_facility_names[k], p, len))
				break;
		if (!agent_log_facility_names[k]) {
			snprintf(msg, n, "unknown facility \"%.*s\" (see the list below)",
				 (int)(len > 40 ? 40 : len), p);
			return -1;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

int config_check_alert_selector(const char *s, char *msg, size_t n)
{
	struct conn_am_selector *sel = conn_am_selector_new(s, msg, n);

	if (!sel)
		return -1;
	conn_am_selector_free(sel);
	return 0;
}

int config_check_models(const char *s, char *msg, size_t n)
{
	const char *p = s;

	do {
		size_t len = strcspn(p, ",");

		if (len == 0 || len > 128) {
			snprintf(msg, n,
				 "expected model names or patterns of 1 to 128 bytes, "
				 "comma-separated");
			return -1;
		}
		p += len;
	} while (*p++ == ',');
	return 0;
}

int config_check_store_prefix(const char *s, char *msg, size_t n)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && !strchr("_.:-", s[i]))
			len = 0;
	if (len > 0 && len <= 64)
		return 0;
	snprintf(msg, n, "expected 1 to 64 letters, digits, '_', '.', ':' or '-'");
	return -1;
}

int config_check_agent_id(const char *s, char *msg, size_t n)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && !strchr("._~-", s[i]))
			len = 0;
	if (len > 0 && len <= 253)
		return 0;
	snprintf(msg, n, "expected 1 to 253 letters, digits, '.', '_', '~' or '-'");
	return -1;
}

/* ---- validation ---- */

/* The stored value of o is one the loaders could have produced. */
static int check_stored(const struct agent_config *c, const struct opt *o, char *msg, size_t n)
{
	const void *f = cfield(c, o);
	char num[48];
	double d = 0;

	switch (o->type) {
	case OPT_STRING: {
		const char *s = *(char *const *)f;

		if (!s) {
			if (o->flags & OPT_NULLABLE)
				return 0;
			snprintf(msg, n, "must be set");
			return -1;
		}
		if (!s[0]) {
			snprintf(msg, n, "must not be empty");
			return -1;
		}
		if (!config_text_ok(s, strlen(s), 0)) {
			snprintf(msg, n, "must be UTF-8 text without control characters");
			return -1;
		}
		return o->check ? o->check(s, msg, n) : 0;
	}
	case OPT_BOOL:
		return 0;
	case OPT_UINT:
		d = *(const unsigned *)f;
		break;
	case OPT_U64:
		d = (double)*(const uint64_t *)f;
		break;
	case OPT_SIZE:
		d = (double)*(const size_t *)f;
		break;
	case OPT_DOUBLE:
	case OPT_SECONDS:
		d = *(const double *)f;
		break;
	case OPT_ENUM: {
		int v = *(const int *)f, k = 0;

		while (o->names[k])
			k++;
		if (v >= 0 && v < k)
			return 0;
		snprintf(msg, n, "invalid value %d", v);
		return -1;
	}
	case OPT_LOG_LEVEL: {
		int v = *(const int *)f;

		if (v >= 0 && v <= 7)
			return 0;
		snprintf(msg, n, "must be in [0, 7], got %d", v);
		return -1;
	}
	}
	if (config_in_range(o, d))
		return 0;
	config_fmt_double(num, sizeof num, d);
	return config_range_error(o, num, strlen(num), msg, n);
}

/* Whether the topic of "kafka:TOPIC" is one of the topics of "kafka:T1,T2" (both read by the
 * endpoint parser; anything else is no topic). */
static int topic_in(const char *endpoint, const char *list)
{
	struct conn_endpoint one, many;
	int in = 0;

	if (!endpoint || !list ||
	    conn_endpoint_parse(endpoint, CONN_ENDPOINT_TOPIC, &one, NULL, 0) < 0)
		return 0;
	if (conn_endpoint_parse(list, CONN_ENDPOINT_SOURCE, &many, NULL, 0) == 0) {
		for (size_t i = 0; i < many.ntopics && !in; i++)
			in = strcmp(one.topics[0], many.topics[i]) == 0;
		conn_endpoint_free(&many);
	}
	conn_endpoint_free(&one);
	return in;
}

int agent_config_validate(const struct agent_config *c, char *err, size_t errlen)
{
	static const struct {
		size_t off;
		const char *name;
	} endpoints[] = { { OFF(source), "source" },
			  { OFF(labels), "labels" },
			  { OFF(events), "events" },
			  { OFF(dead_letters), "dead_letters" } };
	const char *bootstrap = config_kafka_get(c, "bootstrap.servers");
	char msg[400], a[32], b[32];

	if (!bootstrap)
		bootstrap = config_kafka_get(c, "metadata.broker.list");
	for (size_t i = 0; i < config_nopts; i++) {
		if (check_stored(c, &config_opts[i], msg, sizeof msg)) {
			agent_errf(err, errlen, "%s: %s", config_opts[i].name, msg);
			return -1;
		}
	}
	for (size_t i = 0; i < c->kafka_n; i++) {
		if (!config_kafka_name_ok(c->kafka_keys[i], strlen(c->kafka_keys[i]))) {
			agent_errf(err, errlen, "kafka: invalid property name");
			return -1;
		}
	}
	if (c->brokers && bootstrap) {
		agent_errf(err, errlen,
			   "brokers: set either brokers or kafka.bootstrap.servers, not both");
		return -1;
	}
	if (config_kafka_get(c, "group.id")) {
		agent_errf(err, errlen,
			   "kafka.group.id: set the consumer group with group (--group)");
		return -1;
	}
	for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
		const char *s = *(char *const *)((const char *)c + endpoints[i].off);

		if (s && starts_with(s, "kafka:") && !c->brokers && !bootstrap) {
			agent_errf(
			    err, errlen,
			    "%s: %s needs Kafka brokers (brokers, --brokers or DRIFTD_BROKERS)",
			    endpoints[i].name, s);
			return -1;
		}
	}
	if (c->grace_s >= c->window_s) {
		config_fmt_double(a, sizeof a, c->grace_s);
		config_fmt_double(b, sizeof b, c->window_s);
		agent_errf(err, errlen, "grace: must be shorter than window (%s >= %s)", a, b);
		return -1;
	}
	if (topic_in(c->events, c->source)) {
		agent_errf(err, errlen, "events: the rollback topic must not be a source topic");
		return -1;
	}
	if (topic_in(c->labels, c->source)) {
		agent_errf(err, errlen, "labels: the labels topic must not be a source topic");
		return -1;
	}
	if (topic_in(c->dead_letters, c->source) || topic_in(c->dead_letters, c->events)) {
		agent_errf(
		    err, errlen,
		    "dead_letters: the dead-letter topic must differ from the source and events "
		    "topics");
		return -1;
	}
	return 0;
}
