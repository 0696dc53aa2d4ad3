/*
 * log.h -- driftd's log: one line per event, text or JSON lines, syslog levels.
 *
 *   text:  2026-11-26T21:14:00.123Z info window: fraud v2.4.0 closed n=12840
 *   json:  {"time":"2026-11-26T21:14:00.123Z","level":"info","facility":"window","msg":"..."}
 *
 * Lines at a level numerically above the configured one (more verbose) are dropped. A facility
 * filter narrows it further: with one set, the facilities outside it log only warnings and
 * worse. Never pass a secret to it: nothing here can tell one from other text.
 */
#ifndef DRIFTD_AGENT_LOG_H
#define DRIFTD_AGENT_LOG_H

#include <stdio.h>

enum agent_log_level {
	AGENT_LOG_EMERG = 0,
	AGENT_LOG_ALERT = 1,
	AGENT_LOG_CRIT = 2,
	AGENT_LOG_ERR = 3,
	AGENT_LOG_WARNING = 4,
	AGENT_LOG_NOTICE = 5,
	AGENT_LOG_INFO = 6,
	AGENT_LOG_DEBUG = 7,
};

/* Where and how to log (default: stderr, text, info). json: 0 text, 1 JSON lines. */
void agent_log_setup(FILE *out, int json, int level);
int agent_log_enabled(int level);
void agent_log(int level, const char *facility, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *agent_log_level_name(int level);
/* The facilities logged at the configured level ("window,events"; NULL or "": all of them);
 * the others log warnings and worse only. The list is copied (at most 512 bytes). */
void agent_log_facilities(const char *list);
/* The facilities driftd logs under, NULL-terminated (for the option's check and its doc). */
extern const char *const agent_log_facility_names[];

#endif
