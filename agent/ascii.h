/*
 * ascii.h -- locale-free ASCII character classes, header-only: what the JSON reader (jsonpos.c)
 * and the configuration (config*.c) call a digit or a letter does not depend on setlocale().
 */
#ifndef DRIFTD_AGENT_ASCII_H
#define DRIFTD_AGENT_ASCII_H

static inline int is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static inline int is_alnum(int ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static inline int to_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static inline int to_upper(int ch)
{
	return ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch;
}

#endif
