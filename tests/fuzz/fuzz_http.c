/*
 * fuzz_http.c -- fuzz target of the HTTP request handling (connectors/http.h): every input is
 * sent as the raw bytes of a request to a real server of conn_http on loopback (libmicrohttpd
 * and driftd's routing, content negotiation, bearer check, body limits and POST callback, as
 * `driftd` serves /metrics, /healthz and /alertmanager), then the write side is closed.
 *
 * Invariants: whatever comes back (within 20 ms: an incomplete request gets its answer only at
 * the server's timeout, which is not waited for) is an HTTP response -- "HTTP/1.x NNN" with NNN in
 * 100..599 -- or nothing (a connection closed on a request it cannot parse); the POST callback only
 * ever sees a body within its route's limit, NUL-terminated; the server keeps answering a
 * well-formed GET /healthz with 200 (checked every 64 inputs and on the seeds); the Accept
 * negotiation (conn_http_prefers_openmetrics) on the input as a header value returns 0 or 1.
 */
#define _GNU_SOURCE /* memmem */
#include "fuzz.h"
#include "connectors/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_BODY 4096
#define TOKEN	 "fuzz-token"

static struct conn_http *server;
static unsigned port;

static int on_post(void *arg, const char *body, size_t len, char *reply, size_t replycap)
{
	(void)arg;
	FUZZ_CHECK(len <= MAX_BODY);
	FUZZ_CHECK(body[len] == '\0');
	snprintf(reply, replycap, "%zu bytes", len);
	return len ? 202 : 400;
}

static void start(void)
{
	struct conn_http_conf c;
	char err[256];
	static const char metrics[] = "# TYPE x gauge\nx 1\n";
	static const char om[] = "# TYPE x gauge\nx 1\n# EOF\n";

	conn_http_conf_default(&c);
	c.listen = "127.0.0.1:0";
	c.timeout_s = 1;
	c.conn_memory = 8192;
	server = conn_http_new(&c, err, sizeof err);
	FUZZ_CHECK(server != NULL);
	FUZZ_CHECK(conn_http_route_get(server, "/metrics", CONN_HTTP_NEGOTIATE) == 0);
	FUZZ_CHECK(conn_http_route_get(server, "/healthz", 0) == 0);
	FUZZ_CHECK(conn_http_route_post(server, "/alertmanager", TOKEN, MAX_BODY, on_post, NULL) ==
		   0);
	FUZZ_CHECK(conn_http_start(server) == 0);
	FUZZ_CHECK(conn_http_publish(server, "/metrics", CONN_HTTP_TEXT, 200,
				     CONN_HTTP_CT_PROMETHEUS, metrics, sizeof metrics - 1) == 0);
	FUZZ_CHECK(conn_http_publish(server, "/metrics", CONN_HTTP_OPENMETRICS, 200,
				     CONN_HTTP_CT_OPENMETRICS, om, sizeof om - 1) == 0);
	FUZZ_CHECK(conn_http_publish(server, "/healthz", CONN_HTTP_TEXT, 200, "text/plain", "ok\n",
				     3) == 0);
	port = conn_http_port(server);
}

/* Sends data as one request, closes the write side, reads the answer into buf (cap) up to the
 * end of its head (or until the server closes) when it starts within wait_ms, then resets the
 * connection. Returns the bytes read. */
static size_t exchange(const uint8_t *data, size_t size, char *buf, size_t cap, int wait_ms)
{
	struct pollfd pfd = { .events = POLLIN };
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 3 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t got = 0, sent = 0;

	FUZZ_CHECK(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	FUZZ_CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	while (sent < size) { /* the server may answer and close before it read everything */
		ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	/* an answer starts within wait_ms or not at all (an incomplete request waits for more,
	 * until the server's timeout: not worth waiting for here); then up to the end of its
	 * head (a keep-alive connection stays open after it) */
	pfd.fd = fd;
	if (poll(&pfd, 1, wait_ms) == 1)
		while (got < cap) {
			ssize_t n = recv(fd, buf + got, cap - got, 0);

			if (n <= 0)
				break;
			got += (size_t)n;
			if (memmem(buf, got, "\r\n\r\n", 4))
				break;
		}
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof rst); /* a reset: the server lets go */
	close(fd);
	return got;
}

/* The status of an HTTP response's first line, or -1 when it is none. */
static int status_of(const char *b, size_t n)
{
	if (n < 12 || memcmp(b, "HTTP/1.", 7) != 0 || (b[7] != '0' && b[7] != '1') || b[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (b[i] < '0' || b[i] > '9')
			return -1;
	return (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
}

static void check_alive(void)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char buf[4096];
	size_t n = exchange((const uint8_t *)req, sizeof req - 1, buf, sizeof buf, 3000);

	FUZZ_CHECK(status_of(buf, n) == 200);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned calls;
	char buf[4096], *accept;
	size_t n;
	int st;

	if (!server)
		start();
	if (size > 64 * 1024)
		return 0; /* larger is the same as 64 KiB to the server: its limits are far below */
	n = exchange(data, size, buf, sizeof buf, 20);
	st = status_of(buf, n);
	FUZZ_CHECK(n == 0 || (st >= 100 && st <= 599));
	accept = malloc(size + 1);
	FUZZ_CHECK(accept != NULL);
	memcpy(accept, data, size);
	accept[size] = '\0';
	st = conn_http_prefers_openmetrics(accept);
	FUZZ_CHECK(st == 0 || st == 1);
	free(accept);
	if (++calls % 64 == 0)
		check_alive();
	return 0;
}

static const char *const seeds[] = {
	"GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;version=1.0.0;"
	"q=0.9,text/plain;q=0.5\r\n\r\n",
	"GET /metrics?x=1 HTTP/1.0\r\n\r\n",
	"HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST /alertmanager HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " TOKEN
	"\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"alerts\":[]}",
	"POST /alertmanager HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " TOKEN
	"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"POST /alertmanager HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer wrong\r\n"
	"Content-Length: 2\r\n\r\n{}",
	"POST /alertmanager HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\n\r\n",
	"GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
	"DELETE /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /metrics HTTP/1.1\r\nHost: a\r\nX-Long: "
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
	"GET / HTTP/9.9\r\n\r\n",
	"\r\n\r\n",
};

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	if (i == sizeof seeds / sizeof *seeds && server)
		check_alive(); /* after the seeds: still serving */
	return fuzz_seed_string(seeds, sizeof seeds / sizeof *seeds, buf, cap, i);
}
