/*
 * log.c -- one line per event on a stream, text or JSON (see log.h). A JSON line's strings are
 * escaped by text.h's one policy (conn_text_json_fput): bytes that are not UTF-8 become
 * U+FFFD, so every line is valid JSON whatever a message holds.
 */
#include "agent/log.h"
#include "agent/timefmt.h"
#include "connectors/kafka.h"
#include "connectors/text.h"

#include <stdarg.h>
#include <string.h>

static FILE *log_out; /* NULL: stderr */
static int log_json;  /* 0 text, 1 JSON lines */
static int log_level = AGENT_LOG_INFO;
static char log_only[516]; /* ",a,b,": the facility filter; "" when off */

const char *const agent_log_facility_names[] = { "alert",  "baseline", "checkpoint", "dead-letters",
						 "engine", "events",   "http",	     "kafka",
						 "labels", "records",  "run",	     "source",
						 "store",  "window",   NULL };

void agent_log_facilities(const char *list)
{
	size_t n = list ? strlen(list) : 0;

	if (n == 0 || n > sizeof log_only - 3) {
		log_only[0] = '\0';
		return;
	}
	snprintf(log_only, sizeof log_only, ",%s,", list);
}

/* The facility filter lets (level, facility) through. */
static int facility_on(int level, const char *facility)
{
	char key[40];

	if (!log_only[0] || level <= AGENT_LOG_WARNING)
		return 1;
	snprintf(key, sizeof key, ",%s,", facility);
	return strstr(log_only, key) != NULL;
}

static const char *const level_names[] = { "emerg",   "alert",	"crit", "err",
					   "warning", "notice", "info", "debug" };

/* librdkafka's lines (kafka.h), from its threads: facility kafka, its level, its own facility
 * in front of the line ("COMMITFAIL: ..."). */
static void kafka_line(int level, const char *fac, const char *line)
{
	agent_log(level < 0 ? 0 : level > 7 ? 7 : level, "kafka", "%s: %s", fac, line);
}

void agent_log_setup(FILE *out, int json, int level)
{
	log_out = out;
	log_json = json;
	log_level = level;
	conn_kafka_set_log(kafka_line);
}

int agent_log_enabled(int level)
{
	return level <= log_level;
}

const char *agent_log_level_name(int level)
{
	return level >= 0 && level <= 7 ? level_names[level] : "unknown";
}

/* Writes s with its control characters escaped: one event stays one line. */
static void text_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

void agent_log(int level, const char *facility, const char *fmt, ...)
{
	FILE *f = log_out ? log_out : stderr;
	char msg[2048], ts[AGENT_TIME_LEN];
	va_list ap;

	if (!agent_log_enabled(level) || !facility_on(level, facility))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	agent_time_format(agent_time_now_ms(), ts);
	flockfile(
	    f); /* one line at a time, whichever thread logs (librdkafka's, the HTTP server's) */
	if (log_json) {
		fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\",\"facility\":\"", ts,
			agent_log_level_name(level));
		conn_text_json_fput(f, facility, strlen(facility));
		fputs("\",\"msg\":\"", f);
		conn_text_json_fput(f, msg, strlen(msg));
		fputs("\"}\n", f);
	} else {
		fprintf(f, "%s %s %s: ", ts, agent_log_level_name(level), facility);
		text_escape(f, msg);
		fputc('\n', f);
	}
	fflush(f);
	funlockfile(f);
}
