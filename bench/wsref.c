/*
 * bench/wsref.c: the WebSocket and TCP ends of bench/ws.sh, in C so the
 * client is not what is measured.
 *
 *   wsref ws PORT COUNT SIZE
 *	a WebSocket client of 127.0.0.1:PORT (path /): COUNT binary
 *	messages of SIZE bytes, masked, then a close frame; waits for the
 *	server's close.  Prints "sent N secs S".
 *   wsref lines PORT COUNT SIZE
 *	a TCP client: COUNT lines of SIZE bytes (newline included).
 *   wsref sink READY BYTES
 *	a TCP server on 127.0.0.1:0 (its port to READY): one connection,
 *	read until BYTES came or the end.  Prints "got N secs S", S from
 *	the first byte to the last.
 *   wsref fanout PORT CLIENTS COUNT
 *	CLIENTS WebSocket clients (a process each) of 127.0.0.1:PORT,
 *	each reading until COUNT messages came (or 60 s passed).  Prints
 *	"clients N messages M secs S", S from the first client's first
 *	message to the last client's last.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"

#define BUF	(256 * 1024)

/* The opening handshake; the response head read and dropped. */
static void
upgrade(int fd, const char *port)
{
	char	req[512], buf[4096];
	size_t	got = 0;
	ssize_t	n;

	snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: " LOOPBACK ":%s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", port);
	put(fd, req, strlen(req));
	while (got < sizeof buf - 1) {
		/* One byte at a time: nothing after the head is taken. */
		if ((n = read_some(fd, buf + got, 1)) <= 0)
			die("handshake");
		got++;
		buf[got] = '\0';
		if (got >= 4 && strcmp(buf + got - 4, "\r\n\r\n") == 0)
			break;
	}
	if (strncmp(buf, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "%s: no upgrade: %.40s\n", bench_who, buf);
		exit(1);
	}
}

/* A client frame: FIN, opcode, masked with key 0 (the payload as is). */
static size_t
frame(char *dst, int op, const char *p, size_t n)
{
	size_t	h = 0;

	dst[h++] = (char)(0x80 | op);
	if (n < 126)
		dst[h++] = (char)(0x80 | n);
	else if (n < 65536) {
		dst[h++] = (char)(0x80 | 126);
		dst[h++] = (char)(n >> 8);
		dst[h++] = (char)n;
	} else {
		dst[h++] = (char)(0x80 | 127);
		for (int i = 7; i >= 0; i--)
			dst[h++] = (char)((uint64_t)n >> (8 * i));
	}
	memset(dst + h, 0, 4);
	h += 4;
	memcpy(dst + h, p, n);
	return h + n;
}

static int
cmd_ws(char **av)
{
	int	 fd;
	long	 count = atol(av[1]), i, per, k;
	size_t	 size = strtoul(av[2], NULL, 10), flen, blen;
	char	*payload, *batch, closef[16], buf[4096];
	double	 t0;

	if ((fd = dial(SOCK_STREAM, LOOPBACK, av[0])) == -1)
		die("connect");
	upgrade(fd, av[0]);
	payload = malloc(size);
	memset(payload, 'x', size);
	/* Frames batched into writes of about BUF bytes. */
	per = size >= BUF ? 1 : BUF / (long)(size + 14);
	if ((batch = malloc((size_t)per * (size + 14))) == NULL)
		die("malloc");
	flen = frame(batch, 2, payload, size);
	for (k = 1; k < per; k++)
		memcpy(batch + (size_t)k * flen, batch, flen);
	blen = (size_t)per * flen;
	t0 = now();
	for (i = 0; i < count; i += per)
		put(fd, batch, count - i >= per ? blen :
		    (size_t)(count - i) * flen);
	put(fd, closef, frame(closef, 8, "\x03\xe8", 2));
	while (read_some(fd, buf, sizeof buf) > 0)
		;
	printf("sent %ld secs %.6f\n", count, now() - t0);
	return 0;
}

static int
cmd_lines(char **av)
{
	int	 fd;
	long	 count = atol(av[1]), i, per;
	size_t	 size = strtoul(av[2], NULL, 10);
	char	*batch;
	double	 t0;

	if ((fd = dial(SOCK_STREAM, LOOPBACK, av[0])) == -1)
		die("connect");
	per = size >= BUF ? 1 : BUF / (long)size;
	if ((batch = malloc((size_t)per * size)) == NULL)
		die("malloc");
	memset(batch, 'x', (size_t)per * size);
	for (i = 0; i < per; i++)
		batch[(size_t)(i + 1) * size - 1] = '\n';
	t0 = now();
	for (i = 0; i < count; i += per)
		put(fd, batch, (size_t)(count - i >= per ? per : count - i) *
		    size);
	shutdown(fd, SHUT_WR);
	while (read_some(fd, batch, size) > 0)
		;
	printf("sent %ld secs %.6f\n", count, now() - t0);
	return 0;
}

static int
cmd_sink(char **av)
{
	long long	 want = atoll(av[1]), got = 0;
	int		 fd;
	ssize_t		 n;
	char		*buf;
	double		 first = 0, last = 0;

	if ((buf = malloc(BUF)) == NULL)
		die("malloc");
	if ((fd = accept_one(av[0])) == -1)
		die("listen and accept");
	while (got < want && (n = read_some(fd, buf, BUF)) > 0) {
		last = now();
		if (got == 0)
			first = last;
		got += n;
	}
	printf("got %lld secs %.6f\n", got, last - first);
	return 0;
}

/* Server frames: unmasked; count whole messages until count or close. */
static long
count_messages(int fd, long count, double *first, double *last)
{
	static char	 buf[BUF];
	size_t		 have = 0, need;
	uint64_t	 len;
	long		 got = 0;
	ssize_t		 n;
	unsigned char	*p;
	struct pollfd	 pfd = { fd, POLLIN, 0 };

	while (got < count) {
		if (poll(&pfd, 1, 60000) <= 0)
			break;
		if ((n = read_some(fd, buf + have, sizeof buf - have)) <= 0)
			break;
		have += (size_t)n;
		*last = now();
		if (*first == 0)
			*first = *last;
		for (;;) {
			p = (unsigned char *)buf;
			if (have < 2)
				break;
			len = p[1] & 0x7f;
			need = 2;
			if (len == 126) {
				need = 4;
				len = have >= 4 ? (uint64_t)p[2] << 8 | p[3] : 0;
			} else if (len == 127)
				die("a message over 64 KiB");
			if (have < need || have < need + len)
				break;
			if ((p[0] & 0x0f) == 8)
				return got;
			got += (p[0] & 0x80) && (p[0] & 0x0f) != 9 &&
			    (p[0] & 0x0f) != 10;
			memmove(buf, buf + need + len, have - need - len);
			have -= need + len;
		}
	}
	return got;
}

static int
cmd_fanout(char **av)
{
	int		 clients = atoi(av[1]), i, st;
	long		 count = atol(av[2]), total = 0;
	double		*shared, first = 0, last = 0;
	pid_t		 pid;

	shared = mmap(NULL, (size_t)clients * 3 * sizeof *shared,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");
	for (i = 0; i < clients; i++) {
		if ((pid = fork()) == -1)
			die("fork");
		if (pid == 0) {
			int fd = dial(SOCK_STREAM, LOOPBACK, av[0]);
			double f = 0, l = 0;

			if (fd == -1)
				die("connect");
			upgrade(fd, av[0]);
			shared[3 * i] = (double)count_messages(fd, count, &f,
			    &l);
			shared[3 * i + 1] = f;
			shared[3 * i + 2] = l;
			_exit(0);
		}
	}
	while (wait(&st) > 0)
		;
	for (i = 0; i < clients; i++) {
		total += (long)shared[3 * i];
		if (first == 0 || (shared[3 * i + 1] != 0 &&
		    shared[3 * i + 1] < first))
			first = shared[3 * i + 1];
		if (shared[3 * i + 2] > last)
			last = shared[3 * i + 2];
	}
	printf("clients %d messages %ld secs %.6f\n", clients, total,
	    last - first);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct command	 cmds[] = {
		{ "ws", 3, cmd_ws, 0 }, { "lines", 3, cmd_lines, 0 },
		{ "sink", 2, cmd_sink, 0 }, { "fanout", 3, cmd_fanout, 0 },
	};

	return run_command("wsref", cmds, sizeof cmds / sizeof cmds[0], argc,
	    argv, "usage: wsref ws|lines|sink|fanout ...\n");
}
