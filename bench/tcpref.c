/*
 * bench/tcpref.c: the direct TCP path of bench/tcp2.sh and the fan-out
 * clients of bench/fanout.sh, in C so that they are not what is measured.
 *
 *   tcpref send PORT
 *	standard input to 127.0.0.1:PORT (reads and writes of 128 KiB),
 *	half-closes at its end, reads until the peer closes.
 *   tcpref recv READY
 *	listens on 127.0.0.1:0 (its port to READY), takes one connection
 *	and copies it to standard output (128 KiB reads) until its end.
 *   tcpref lines SIZE FILE
 *	SIZE bytes (rounded down to whole lines) of 64-byte lines, all
 *	distinct, to FILE.  Prints "bytes B lines L hash H".
 *   tcpref hash
 *	standard input to its end.  Prints "bytes B hash H".
 *   tcpref fanout PORT CLIENTS READY BYTES HASH
 *	CLIENTS connections to 127.0.0.1:PORT (a thread each); once all are
 *	connected writes their number to READY; each reads until the server
 *	closes, counting bytes and hashing them.  Prints "clients N ok K
 *	secs S min_mibps A median_mibps B max_mibps C": K the clients that
 *	got exactly BYTES bytes hashing to HASH, S from the first byte any
 *	client got to the last byte of the last, A..C each client's own rate
 *	(its first byte to its last).  A client that differs is named on
 *	standard error.
 *
 * The hash is no checksum of record, only a quick one (four lanes of
 * 64-bit multiply-rotate, about 15 GB/s): it depends on every byte and on
 * its place, not on how reads cut the stream, so a line lost, doubled,
 * reordered or torn changes it.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"

#define BUF	(128 * 1024)
#define RBUF	(256 * 1024)
#define LINE	64

#define K1	0x9E3779B97F4A7C15ULL
#define K2	0xC2B2AE3D27D4EB4FULL

struct hash {
	uint64_t	 h[4];
	uint64_t	 n;
	unsigned char	 tail[32];
	size_t		 ntail;
};

struct client {
	pthread_t	 thread;
	int		 fd;
	struct hash	 hash;
	double		 first, last;
	int		 err;
};

static pthread_mutex_t	 go_lock = PTHREAD_MUTEX_INITIALIZER;

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static inline uint64_t
rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static void
hash_init(struct hash *h)
{
	memset(h, 0, sizeof *h);
	h->h[0] = K1;
	h->h[1] = K2;
	h->h[2] = K1 ^ K2;
	h->h[3] = ~K1;
}

static inline void
hash_block(uint64_t *h, const unsigned char *p)
{
	uint64_t	 w[4];
	int		 i;

	memcpy(w, p, sizeof w);
	for (i = 0; i < 4; i++)
		h[i] = rotl(h[i] ^ (w[i] * K2), 29) * K1;
}

static void
hash_update(struct hash *h, const unsigned char *p, size_t n)
{
	size_t	 k;

	h->n += n;
	if (h->ntail > 0) {
		k = sizeof h->tail - h->ntail;
		if (k > n)
			k = n;
		memcpy(h->tail + h->ntail, p, k);
		h->ntail += k;
		p += k;
		n -= k;
		if (h->ntail < sizeof h->tail)
			return;
		hash_block(h->h, h->tail);
		h->ntail = 0;
	}
	for (; n >= 32; p += 32, n -= 32)
		hash_block(h->h, p);
	memcpy(h->tail, p, n);
	h->ntail = n;
}

static uint64_t
hash_final(const struct hash *h)
{
	uint64_t	 x = h->n * K1;
	size_t		 i;

	for (i = 0; i < h->ntail; i++)
		x = (x ^ h->tail[i]) * K2;
	for (i = 0; i < 4; i++)
		x = rotl(x ^ h->h[i], 31) * K1;
	return x ^ (x >> 29);
}

static void
put(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

static int
dial(int port)
{
	struct sockaddr_in	 sin;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
cmd_send(char **av)
{
	static char	 buf[BUF];
	ssize_t		 n;
	int		 fd;

	if ((fd = dial(atoi(av[0]))) == -1)
		die("tcpref send: connect");
	while ((n = read(0, buf, sizeof buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("tcpref send: read");
		}
		put(fd, buf, (size_t)n);
	}
	if (shutdown(fd, SHUT_WR) == -1)
		die("tcpref send: shutdown");
	while ((n = read(fd, buf, sizeof buf)) > 0)
		;
	close(fd);
	return 0;
}

static int
cmd_recv(char **av)
{
	static char	 buf[BUF];
	ssize_t		 n;
	int		 s, fd;

	if ((s = listen_loopback(av[0])) == -1)
		die("tcpref recv: listen");
	while ((fd = accept(s, NULL, NULL)) == -1)
		if (errno != EINTR)
			die("tcpref recv: accept");
	close(s);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("tcpref recv: read");
		}
		put(1, buf, (size_t)n);
	}
	close(fd);
	return 0;
}

/* line I: its number in 16 hex digits, a space, 46 hex digits of a mix of
 * it, a newline */
static void
make_line(char *p, uint64_t i)
{
	static const char	 hex[] = "0123456789abcdef";
	uint64_t		 x;
	int			 k;

	for (k = 15; k >= 0; k--)
		*p++ = hex[(i >> (k * 4)) & 15];
	*p++ = ' ';
	x = (i + 1) * K1;
	for (k = 0; k < 46; k++) {
		if (k % 16 == 0)
			x = rotl(x ^ (x >> 31), 17) * K2;
		*p++ = hex[(x >> ((k % 16) * 4)) & 15];
	}
	*p = '\n';
}

static int
cmd_lines(char **av)
{
	static char	 buf[BUF];
	struct hash	 h;
	uint64_t	 nlines, i;
	size_t		 k = 0;
	FILE		*f;

	nlines = strtoull(av[0], NULL, 10) / LINE;
	if ((f = fopen(av[1], "w")) == NULL)
		die(av[1]);
	hash_init(&h);
	for (i = 0; i < nlines; i++) {
		make_line(buf + k, i);
		k += LINE;
		if (k == sizeof buf || i + 1 == nlines) {
			hash_update(&h, (unsigned char *)buf, k);
			if (fwrite(buf, 1, k, f) != k)
				die(av[1]);
			k = 0;
		}
	}
	if (fclose(f) != 0)
		die(av[1]);
	printf("bytes %" PRIu64 " lines %" PRIu64 " hash %016" PRIx64 "\n",
	    nlines * LINE, nlines, hash_final(&h));
	return 0;
}

static int
cmd_hash(char **av)
{
	static unsigned char	 buf[RBUF];
	struct hash		 h;
	ssize_t			 n;

	(void)av;
	hash_init(&h);
	while ((n = read(0, buf, sizeof buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("tcpref hash: read");
		}
		hash_update(&h, buf, (size_t)n);
	}
	printf("bytes %" PRIu64 " hash %016" PRIx64 "\n", h.n, hash_final(&h));
	return 0;
}

static void *
client_run(void *arg)
{
	struct client	*c = arg;
	unsigned char	*buf;
	ssize_t		 n;

	/* the main thread holds the lock until every client is connected */
	pthread_mutex_lock(&go_lock);
	pthread_mutex_unlock(&go_lock);
	if ((buf = malloc(RBUF)) == NULL)
		die("malloc");
	hash_init(&c->hash);
	while ((n = read(c->fd, buf, RBUF)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			c->err = errno;
			break;
		}
		if (c->hash.n == 0)
			c->first = now();
		hash_update(&c->hash, buf, (size_t)n);
	}
	c->last = now();
	close(c->fd);
	free(buf);
	return NULL;
}

static int
cmd_fanout(char **av)
{
	struct client	*cl;
	double		*rate, first = 0, last = 0, mib;
	uint64_t	 want_bytes, want_hash, h;
	char		 text[32];
	int		 port, n, i, ok = 0;

	port = atoi(av[0]);
	n = atoi(av[1]);
	want_bytes = strtoull(av[3], NULL, 10);
	want_hash = strtoull(av[4], NULL, 16);
	if (n < 1 || (cl = calloc((size_t)n, sizeof *cl)) == NULL ||
	    (rate = calloc((size_t)n, sizeof *rate)) == NULL)
		die("tcpref fanout: clients");
	pthread_mutex_lock(&go_lock);
	for (i = 0; i < n; i++) {
		if ((cl[i].fd = dial(port)) == -1)
			die("tcpref fanout: connect");
		if (pthread_create(&cl[i].thread, NULL, client_run, &cl[i]) != 0)
			die("tcpref fanout: pthread_create");
	}
	snprintf(text, sizeof text, "%d\n", n);
	if (write_atomic(av[2], text) == -1)
		die(av[2]);
	pthread_mutex_unlock(&go_lock);
	for (i = 0; i < n; i++) {
		pthread_join(cl[i].thread, NULL);
		h = hash_final(&cl[i].hash);
		if (cl[i].err == 0 && cl[i].hash.n == want_bytes &&
		    h == want_hash)
			ok++;
		else
			fprintf(stderr, "tcpref fanout: client %d: %s%s%" PRIu64
			    " bytes of %" PRIu64 ", hash %016" PRIx64 "%s\n", i,
			    cl[i].err ? strerror(cl[i].err) : "",
			    cl[i].err ? ": " : "", cl[i].hash.n, want_bytes, h,
			    h == want_hash ? "" : " (differs)");
		if (cl[i].hash.n == 0)
			continue;
		if (first == 0 || cl[i].first < first)
			first = cl[i].first;
		if (cl[i].last > last)
			last = cl[i].last;
		mib = (double)cl[i].hash.n / 1048576;
		rate[i] = cl[i].last > cl[i].first ?
		    mib / (cl[i].last - cl[i].first) : 0;
	}
	qsort(rate, (size_t)n, sizeof *rate, cmp_double);
	printf("clients %d ok %d secs %.4f min_mibps %.1f median_mibps %.1f "
	    "max_mibps %.1f\n", n, ok, last - first, rate[0], rate[n / 2],
	    rate[n - 1]);
	return ok == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int		 nargs;
		int		(*fn)(char **);
	} cmds[] = {
		{ "send", 1, cmd_send }, { "recv", 1, cmd_recv },
		{ "lines", 2, cmd_lines }, { "hash", 0, cmd_hash },
		{ "fanout", 5, cmd_fanout },
	};
	size_t	 i;

	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (argc == cmds[i].nargs + 2 &&
		    strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argv + 2);
	fprintf(stderr, "usage: tcpref send PORT | recv READY | "
	    "lines SIZE FILE | hash |\n"
	    "       fanout PORT CLIENTS READY BYTES HASH\n");
	return 2;
}
