/*
 * The connection-rate benchmark's client and echo server, in C so that
 * their own cost does not hide the proxy's (a python3 pair spends about
 * 0.13 ms a connection itself).
 *
 *   conns echo PORTFILE                 sequential echo server on 127.0.0.1
 *   conns client PORT N SIZE RESULT     N connections, each sends SIZE bytes,
 *                                       half-closes, reads the echo back
 *   conns socks PORT TARGET N SIZE RESULT
 *                                       the same through the SOCKS5 server
 *                                       on PORT: each connection greets it
 *                                       (no authentication) and asks for
 *                                       127.0.0.1:TARGET, one step at a
 *                                       time (not every server takes a
 *                                       request that comes with the
 *                                       greeting), sends SIZE bytes and
 *                                       reads the echo back whole, then
 *                                       closes: microsocks ends a
 *                                       connection at its first EOF, so a
 *                                       half-close would lose the echo.
 *                                       TARGET 0: that exchange with PORT
 *                                       itself, no SOCKS5 (the reference)
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

/*
 * The SOCKS5 greeting and CONNECT request for 127.0.0.1:target, each
 * reply read and checked: 0, or -1 with why.
 */
static int
socks_connect(int s, unsigned target, char *why, size_t len)
{
	unsigned char	 req[10] = { 5, 1, 0, 1, 127, 0, 0, 1 };
	unsigned char	 rep[10];
	ssize_t		 n;
	size_t		 have;

	req[8] = (unsigned char)(target >> 8);
	req[9] = (unsigned char)target;
	if (writeall(s, "\x05\x01\x00", 3) == -1) {
		snprintf(why, len, "greeting: %s", strerror(errno));
		return -1;
	}
	for (have = 0; have < 2; have += (size_t)n)
		if ((n = read_some(s, rep + have, 2 - have)) <= 0)
			break;
	if (have < 2 || rep[0] != 5 || rep[1] != 0) {
		snprintf(why, len, "greeting refused");
		return -1;
	}
	if (writeall(s, req, sizeof req) == -1) {
		snprintf(why, len, "request: %s", strerror(errno));
		return -1;
	}
	/* An IPv4 bound address: the whole reply is 10 bytes. */
	for (have = 0; have < sizeof rep; have += (size_t)n)
		if ((n = read_some(s, rep + have, sizeof rep - have)) <= 0)
			break;
	if (have < sizeof rep || rep[1] != 0 || rep[3] != 1) {
		snprintf(why, len, "request refused (reply %d)",
		    have >= 2 ? rep[1] : -1);
		return -1;
	}
	return 0;
}

/*
 * N connections to PORT, each sends SIZE bytes, half-closes and reads
 * the echo back to EOF; or (whole) reads SIZE bytes back and closes,
 * through a SOCKS5 server when target is not 0.
 */
static int
run_clients(const char *port, int whole, unsigned target, int nconns,
    size_t size, const char *result)
{
	double			*lat, t0, a, secs;
	char			*payload, *got, first[256] = "", why[128];
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
		if (target != 0 && socks_connect(s, target, why, sizeof why) ==
		    -1) {
			close(s);
			if (!err++)
				snprintf(first, sizeof first, "connection %d: "
				    "socks5 %s", i, why);
			continue;
		}
		/* a write that fails leaves an echo that differs */
		(void)writeall(s, payload, size);
		if (!whole)
			shutdown(s, SHUT_WR);
		have = 0;
		while ((!whole || have < size) && (n = read_some(s, got + have,
		    size + 65536 - have)) > 0)
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

/* client PORT N SIZE RESULT */
static int
cmd_client(char **av)
{
	return run_clients(av[0], 0, 0, atoi(av[1]),
	    (size_t)strtoul(av[2], NULL, 10), av[3]);
}

/* socks PORT TARGET N SIZE RESULT */
static int
cmd_socks(char **av)
{
	unsigned long	 target = strtoul(av[1], NULL, 10);

	if (target > 65535) {
		errno = 0;
		die("TARGET is not a port");
	}
	return run_clients(av[0], 1, (unsigned)target, atoi(av[2]),
	    (size_t)strtoul(av[3], NULL, 10), av[4]);
}

int
main(int argc, char **argv)
{
	static const struct command	 cmds[] = {
		{ "echo", 1, cmd_echo, 0 }, { "client", 4, cmd_client, 0 },
		{ "socks", 5, cmd_socks, 0 },
	};

	return run_command("conns", cmds, sizeof cmds / sizeof cmds[0], argc,
	    argv, "usage: conns echo PORTFILE | "
	    "conns client PORT N SIZE RESULT | "
	    "conns socks PORT TARGET N SIZE RESULT\n");
}
