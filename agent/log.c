/*
 * log.c -- one line per event on a stream, text or JSON (see log.h).
 */
#include "agent/log.h"
#include "agent/timefmt.h"

#include <stdarg.h>
#include <string.h>

static FILE *log_out; /* NULL: stderr */
static int log_json;  /* 0 text, 1 JSON lines */
static int log_level = AGENT_LOG_INFO;

static const char *const level_names[] = { "emerg",   "alert",	"crit", "err",
					   "warning", "notice", "info", "debug" };

void agent_log_setup(FILE *out, int json, int level)
{
	log_out = out;
	log_json = json;
	log_level = level;
}

int agent_log_enabled(int level)
{
	return level <= log_level;
}

const char *agent_log_level_name(int level)
{
	return level >= 0 && level <= 7 ? level_names[level] : "unknown";
}

/* Writes s as the body of a JSON string. */
static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void agent_log(int level, const char *facility, const char *fmt, ...)
{
	FILE *f = log_out ? log_out : stderr;
	char msg[2048], ts[AGENT_TIME_LEN];
	va_list ap;

	if (!agent_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	agent_time_format(agent_time_now_ms(), ts);
	if (log_json) {
		fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\",\"facility\":\"", ts,
			agent_log_level_name(level));
		json_escape(f, facility);
		fputs("\",\"msg\":\"", f);
		json_escape(f, msg);
		fputs("\"}\n", f);
	} else {
		fprintf(f, "%s %s %s: %s\n", ts, agent_log_level_name(level), facility, msg);
	}
	fflush(f);
}
