/*
 * The connection-rate benchmark's client and echo server, in C so that
 * their own cost does not hide the proxy's (a python3 pair spends about
 * 0.13 ms a connection itself).
 *
 *   conns echo PORTFILE                 sequential echo server on 127.0.0.1
 *   conns client PORT N SIZE RESULT     N connections, each sends SIZE bytes,
 *                                       half-closes, reads the echo back
 *
 * RESULT gets "secs p50_ms p99_ms ok errors first-error".
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

static int
echo(const char *portfile)
{
	char			 buf[65536];
	ssize_t			 n;
	int			 s, c, on = 1;

	if ((s = listen_loopback(portfile)) == -1) {
		perror("conns echo");
		return 1;
	}
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		while ((n = read(c, buf, sizeof buf)) > 0)
			if (write(c, buf, (size_t)n) != n)
				break;
		close(c);
	}
}

static int
client(int port, int nconns, size_t size, const char *result)
{
	struct sockaddr_in	 sin;
	double			*lat, t0, a, secs;
	char			*payload, *got, first[256] = "";
	size_t			 have;
	ssize_t			 n;
	int			 i, s, ok = 0, err = 0, on = 1;

	payload = malloc(size + 1);
	got = malloc(size + 65536);
	lat = calloc((size_t)nconns, sizeof *lat);
	for (have = 0; have < size; have++)
		payload[have] = (char)('a' + have % 26);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t0 = now();
	for (i = 0; i < nconns && err < 3; i++) {
		a = now();
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&sin, sizeof sin) == -1) {
			if (!err++)
				snprintf(first, sizeof first, "connection %d: "
				    "connect: %s", i, strerror(errno));
			close(s);
			continue;
		}
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		if (write(s, payload, size) != (ssize_t)size)
			n = -1;
		shutdown(s, SHUT_WR);
		have = 0;
		while ((n = read(s, got + have, size + 65536 - have)) > 0)
			have += (size_t)n;
		close(s);
		if (have != size || memcmp(got, payload, size) != 0) {
			if (!err++)
				snprintf(first, sizeof first, "connection %d: "
				    "echo of %zu B differs (got %zu B)", i, size,
				    have);
			continue;
		}
		lat[ok++] = now() - a;
	}
	secs = now() - t0;
	if (write_conns_result(result, secs, lat, ok, err, first) == -1)
		return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "echo") == 0)
		return echo(argv[2]);
	if (argc == 6 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]), atoi(argv[3]),
		    (size_t)strtoul(argv[4], NULL, 10), argv[5]);
	fprintf(stderr, "usage: conns echo PORTFILE | "
	    "conns client PORT N SIZE RESULT\n");
	return 2;
}
