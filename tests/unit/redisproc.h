/*
 * redisproc.h -- a throw-away redis-server for a test or a benchmark: its own process on a Unix
 * socket in a directory of the caller's, no persistence, killed with the caller (and by
 * redisproc_stop). Header-only. The store tests need more (TCP, AUTH, freezing) and keep their
 * own (tests/unit/connectors/test_store_redis.c).
 */
#ifndef DRIFTD_TESTS_REDISPROC_H
#define DRIFTD_TESTS_REDISPROC_H

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REDISPROC_SERVER "/usr/bin/redis-server"

/* Starts redis-server on DIR/redis.sock and waits (at most 5 s) for the socket; spec receives
 * "unix:DIR/redis.sock". The pid, or 0 when there is no redis-server here or fork failed. */
static inline pid_t redisproc_start(const char *dir, char *spec, size_t cap)
{
	char sock[128]; /* sockaddr_un holds 108 bytes: dir must be short anyway */
	pid_t pid;

	if (access(REDISPROC_SERVER, X_OK) != 0)
		return 0;
	snprintf(sock, sizeof sock, "%s/redis.sock", dir);
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the caller */
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execl(REDISPROC_SERVER, REDISPROC_SERVER, "--port", "0", "--unixsocket", sock,
		      "--save", "", "--appendonly", "no", "--dir", dir, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250 && access(sock, F_OK) != 0; i++) {
		struct timespec ts = { 0, 20000000L }; /* 20 ms (usleep is gone from POSIX 2008) */

		nanosleep(&ts, NULL);
	}
	snprintf(spec, cap, "unix:%s", sock);
	return pid;
}

/* Kills and reaps it (pid 0: nothing). */
static inline void redisproc_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

#endif
