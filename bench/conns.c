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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

/* echo PORTFILE */
static int
cmd_echo(char **av)
{
	char			 buf[65536];
	ssize_t			 n;
	int			 s, c, on = 1;

	if ((s = listen_loopback(av[0])) == -1)
		die("listen");
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		while ((n = read_some(c, buf, sizeof buf)) > 0)
			if (writeall(c, buf, (size_t)n) == -1)
				break;
		close(c);
	}
}

/* client PORT N SIZE RESULT */
static int
cmd_client(char **av)
{
	const char		*port = av[0], *result = av[3];
	int			 nconns = atoi(av[1]);
	size_t			 size = (size_t)strtoul(av[2], NULL, 10);
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
	t0 = now();
	for (i = 0; i < nconns && err < 3; i++) {
		a = now();
		if ((s = dial(SOCK_STREAM, LOOPBACK, port)) == -1) {
			if (!err++)
				snprintf(first, sizeof first, "connection %d: "
				    "connect: %s", i, strerror(errno));
			continue;
		}
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		/* a write that fails leaves an echo that differs */
		(void)writeall(s, payload, size);
		shutdown(s, SHUT_WR);
		have = 0;
		while ((n = read_some(s, got + have, size + 65536 - have)) > 0)
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
	static const struct command	 cmds[] = {
		{ "echo", 1, cmd_echo, 0 }, { "client", 4, cmd_client, 0 },
	};

	return run_command("conns", cmds, sizeof cmds / sizeof cmds[0], argc,
	    argv, "usage: conns echo PORTFILE | "
	    "conns client PORT N SIZE RESULT\n");
}
