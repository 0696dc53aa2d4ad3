/*
 * about.h -- what `driftd --version` and `driftd --help` print.
 */
#ifndef DRIFTD_AGENT_ABOUT_H
#define DRIFTD_AGENT_ABOUT_H

#include <stdio.h>

/* Version line, library versions and the selected histogram kernel. */
void agent_about_version(FILE *out);
void agent_about_usage(FILE *out);

#endif
