/*
 * bench/tcpref.c: the direct TCP path of bench/tcp2.sh, the fan-out
 * clients of bench/fanout.sh, and the reference collector and C clients of
 * bench/fanin.sh, in C so that they are not what is measured (the
 * collector is: it is what weir is measured against).
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
 *   tcpref collect PORTFILE FILE
 *	the C reference of bench/fanin.sh: listens on 127.0.0.1:0 (its port
 *	to PORTFILE), takes any number of clients (epoll, non-blocking) and
 *	appends their whole lines to FILE, never a piece of one: each
 *	client's bytes are read straight into one 1 MiB output buffer after
 *	the unfinished line it left last time, the buffer keeps up to the
 *	last newline and the rest goes back to the client until its next
 *	read.  The buffer is written (O_APPEND) when full and whenever no
 *	client has anything to read.  A client's EOF closes it (its last
 *	line, if unfinished, gains a newline, as weir does).  SIGTERM:
 *	writes the buffer, drops the unfinished lines of the clients still
 *	connected and exits 0.
 *   tcpref fanin PORT DIR CLIENTS OUTFILE BYTES SEED SETTLE TIMEOUT RESULT
 *	bench/helpers.py fanin-client in C (a thread each): the same clients,
 *	the same write sizes (random, another generator), the same RESULT.
 *
 * The hash is no checksum of record, only a quick one (four lanes of
 * 64-bit multiply-rotate, about 15 GB/s): it depends on every byte and on
 * its place, not on how reads cut the stream, so a line lost, doubled,
 * reordered or torn changes it.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
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

static int
cmd_send(char **av)
{
	static char	 buf[BUF];
	ssize_t		 n;
	int		 fd;

	if ((fd = dial(SOCK_STREAM, LOOPBACK, av[0])) == -1)
		die("connect");
	while ((n = read_some(0, buf, sizeof buf)) > 0)
		put(fd, buf, (size_t)n);
	if (n == -1)
		die("read");
	if (shutdown(fd, SHUT_WR) == -1)
		die("shutdown");
	while (read_some(fd, buf, sizeof buf) > 0)
		;
	close(fd);
	return 0;
}

static int
cmd_recv(char **av)
{
	static char	 buf[BUF];
	ssize_t		 n;
	int		 fd;

	if ((fd = accept_one(av[0])) == -1)
		die("listen and accept");
	while ((n = read_some(fd, buf, sizeof buf)) > 0)
		put(1, buf, (size_t)n);
	if (n == -1)
		die("read");
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
	while ((n = read_some(0, buf, sizeof buf)) > 0)
		hash_update(&h, buf, (size_t)n);
	if (n == -1)
		die("read");
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
	while ((n = read_some(c->fd, buf, RBUF)) > 0) {
		if (c->hash.n == 0)
			c->first = now();
		hash_update(&c->hash, buf, (size_t)n);
	}
	if (n == -1)
		c->err = errno;
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
	int		 n, i, ok = 0;

	n = atoi(av[1]);
	want_bytes = strtoull(av[3], NULL, 10);
	want_hash = strtoull(av[4], NULL, 16);
	if (n < 1 || (cl = calloc((size_t)n, sizeof *cl)) == NULL ||
	    (rate = calloc((size_t)n, sizeof *rate)) == NULL)
		die("clients");
	pthread_mutex_lock(&go_lock);
	for (i = 0; i < n; i++) {
		if ((cl[i].fd = dial(SOCK_STREAM, LOOPBACK, av[0])) == -1)
			die("connect");
		if (pthread_create(&cl[i].thread, NULL, client_run, &cl[i]) != 0)
			die("pthread_create");
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
			fprintf(stderr, "%s: client %d: %s%s%" PRIu64
			    " bytes of %" PRIu64 ", hash %016" PRIx64 "%s\n",
			    bench_who, i,
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

/* tcpref collect: the reference fan-in collector */

#define OUTCAP	(1024 * 1024)
#define MINREAD	(64 * 1024)

struct coll {
	int	 fd;
	char	*part;		/* its unfinished line */
	size_t	 plen, pcap;
};

static char			*out;
static size_t			 olen;
static int			 outfd;
static volatile sig_atomic_t	 stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
flush_out(void)
{
	put(outfd, out, olen);
	olen = 0;
}

/* room for N more bytes of C's unfinished line */
static void
part_room(struct coll *c, size_t n)
{
	if (c->plen + n <= c->pcap)
		return;
	while (c->pcap < c->plen + n)
		c->pcap = c->pcap ? c->pcap * 2 : 256;
	if ((c->part = realloc(c->part, c->pcap)) == NULL)
		die("realloc");
}

static void
part_add(struct coll *c, const char *p, size_t n)
{
	if (n == 0)
		return;
	part_room(c, n);
	memcpy(c->part + c->plen, p, n);
	c->plen += n;
}

static void
coll_close(struct coll *c, int eof)
{
	if (eof && c->plen > 0) {
		/* a last line without its newline gains one */
		part_add(c, "\n", 1);
		if (OUTCAP - olen < c->plen)
			flush_out();
		if (c->plen > OUTCAP)
			put(outfd, c->part, c->plen);
		else {
			memcpy(out + olen, c->part, c->plen);
			olen += c->plen;
		}
	}
	close(c->fd);
	free(c->part);
	free(c);
}

/* one read from C: its whole lines to the output buffer, the rest kept */
static void
coll_read(struct coll *c)
{
	char	*base, *nl, *end;
	ssize_t	 n;
	size_t	 k;

	if (OUTCAP - olen < c->plen + MINREAD)
		flush_out();
	if (OUTCAP - olen >= c->plen + MINREAD) {
		/* its unfinished line, then the read, in place */
		base = out + olen;
		if (c->plen > 0)
			memcpy(base, c->part, c->plen);
		n = read(c->fd, base + c->plen, OUTCAP - olen - c->plen);
		if (n > 0) {
			nl = memrchr(base + c->plen, '\n', (size_t)n);
			if (nl == NULL)
				part_add(c, base + c->plen, (size_t)n);
			else {
				end = nl + 1;
				k = c->plen + (size_t)n;	/* bytes at base */
				olen += (size_t)(end - base);
				c->plen = 0;
				part_add(c, end, k - (size_t)(end - base));
			}
		}
	} else {
		/* a line longer than the buffer: grows on its own */
		part_room(c, MINREAD);
		n = read(c->fd, c->part + c->plen, MINREAD);
		if (n > 0) {
			nl = memrchr(c->part + c->plen, '\n', (size_t)n);
			c->plen += (size_t)n;
			if (nl != NULL) {
				k = (size_t)(nl + 1 - c->part);
				put(outfd, c->part, k);
				memmove(c->part, c->part + k, c->plen - k);
				c->plen -= k;
			}
		}
	}
	if (n == 0)
		coll_close(c, 1);
	else if (n == -1 && errno != EAGAIN && errno != EINTR)
		coll_close(c, 0);	/* a reset: its unfinished line goes */
}

static int
cmd_collect(char **av)
{
	struct epoll_event	 ev, evs[64];
	struct sigaction	 sa;
	struct coll		*c;
	sigset_t		 term, old;
	int			 ls, ep, fd, n, i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	/* SIGTERM only while waiting in epoll_pwait */
	if (sigprocmask(SIG_BLOCK, &term, &old) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		die("signals");
	if ((out = malloc(OUTCAP)) == NULL)
		die("malloc");
	if ((outfd = open(av[1], O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1)
		die(av[1]);
	if ((ls = listen_loopback(av[0])) == -1)
		die("listen");
	if (fcntl(ls, F_SETFL, O_NONBLOCK) == -1 ||
	    (ep = epoll_create1(0)) == -1)
		die("epoll");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) == -1)
		die("epoll_ctl");
	while (!stopping) {
		/* nothing to read and lines held: write them */
		n = epoll_pwait(ep, evs, 64, olen > 0 ? 0 : -1, &old);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_pwait");
		}
		if (n == 0)
			flush_out();
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr != NULL) {
				coll_read(evs[i].data.ptr);
				continue;
			}
			for (;;) {
				fd = accept4(ls, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd == -1) {
					if (errno == EINTR ||
					    errno == ECONNABORTED)
						continue;
					if (errno == EAGAIN)
						break;
					die("accept");
				}
				if ((c = calloc(1, sizeof *c)) == NULL)
					die("calloc");
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
					die("epoll_ctl");
			}
		}
	}
	flush_out();
	if (close(outfd) == -1)
		die(av[1]);
	return 0;
}

/* tcpref fanin: the fan-in clients */

struct fclient {
	pthread_t	 thread;
	int		 idx;
	char		*data;
	size_t		 len, sent;
	uint64_t	 rng;
	int		 cerr, serr, notclosed;
};

static pthread_barrier_t	 fan_go;
static const char		*fan_port;
static double			 fan_tmo;
static int			 fan_done;

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t	 z = (*s += K1);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* a write size as helpers.py's _chunk_sizes draws them: 30% 1..64,
 * 60% 1..4096, 10% 4096..65536 */
static size_t
chunk_size(uint64_t *s)
{
	double		 r = (double)(splitmix(s) >> 11) * 0x1p-53;
	uint64_t	 x = splitmix(s);

	if (r < 0.3)
		return 1 + x % 64;
	if (r < 0.9)
		return 1 + x % 4096;
	return 4096 + x % (65536 - 4096 + 1);
}

static void *
fan_run(void *arg)
{
	struct fclient	*c = arg;
	struct timeval	 tv;
	char		 buf[65536];
	size_t		 pos = 0, k, m;
	ssize_t		 w;
	int		 fd, on = 1;

	tv.tv_sec = (time_t)fan_tmo;
	tv.tv_usec = (suseconds_t)((fan_tmo - (double)tv.tv_sec) * 1e6);
	if ((fd = dial(SOCK_STREAM, LOOPBACK, fan_port)) == -1) {
		c->cerr = 1;
		fprintf(stderr, "%s %d: connect: %s\n", bench_who, c->idx,
		    strerror(errno));
	} else if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof on) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1)
		die("setsockopt");
	pthread_barrier_wait(&fan_go);
	if (fd == -1)
		goto done;
	while (pos < c->len) {
		k = chunk_size(&c->rng);
		if (k > c->len - pos)
			k = c->len - pos;
		for (m = 0; m < k; m += (size_t)w)
			if ((w = send(fd, c->data + pos + m, k - m,
			    MSG_NOSIGNAL)) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				goto senderr;
			}
		pos += k;
	}
	if (shutdown(fd, SHUT_WR) == -1)
		goto senderr;
	c->sent = pos;
	/* the server should close its side once it has our EOF */
	while ((w = read_some(fd, buf, sizeof buf)) > 0)
		;
	if (w == -1)
		c->notclosed = 1;
	close(fd);
	goto done;
senderr:
	c->serr = 1;
	c->sent = pos;
	fprintf(stderr, "%s %d: send after %zu B: %s\n", bench_who, c->idx,
	    pos, strerror(errno));
	close(fd);
done:
	__atomic_add_fetch(&fan_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat	 st;
	char		*p;
	size_t		 got = 0;
	ssize_t		 n = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		die(path);
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		die("malloc");
	while (got < (size_t)st.st_size &&
	    (n = read_some(fd, p + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (n == -1)
		die(path);
	close(fd);
	*len = got;
	return p;
}

static int
cmd_fanin(char **av)
{
	struct fclient	*cl;
	struct stat	 st;
	struct timespec	 nap = { 0, 2000000 };
	double		 t0, t_last, t, settle;
	uint64_t	 expect, sent = 0;
	long long	 size = -1, sz;
	char		 path[4096], text[256];
	int		 n, i, cerr = 0, serr = 0, ncl = 0, alive;

	fan_port = av[0];
	n = atoi(av[2]);
	expect = strtoull(av[4], NULL, 10);
	settle = atof(av[6]);
	fan_tmo = atof(av[7]);
	if (n < 1 || (cl = calloc((size_t)n, sizeof *cl)) == NULL)
		die("clients");
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/c%d", av[1], i);
		cl[i].data = slurp(path, &cl[i].len);
		cl[i].idx = i;
		cl[i].rng = strtoull(av[5], NULL, 10) * 1000003 + (uint64_t)i;
	}
	if (pthread_barrier_init(&fan_go, NULL, (unsigned)n) != 0)
		die("barrier");
	t0 = t_last = now();
	for (i = 0; i < n; i++)
		if (pthread_create(&cl[i].thread, NULL, fan_run, &cl[i]) != 0)
			die("pthread_create");
	for (;;) {
		sz = stat(av[3], &st) == 0 ? (long long)st.st_size : 0;
		t = now();
		if (sz != size) {
			size = sz;
			t_last = t;
		}
		alive = __atomic_load_n(&fan_done, __ATOMIC_SEQ_CST) < n;
		if (!alive && ((uint64_t)size >= expect ||
		    t - t_last >= settle))
			break;
		if (t > t0 + fan_tmo)
			break;
		nanosleep(&nap, NULL);
	}
	alive = __atomic_load_n(&fan_done, __ATOMIC_SEQ_CST) < n;
	for (i = 0; i < n; i++) {
		sent += __atomic_load_n(&cl[i].sent, __ATOMIC_SEQ_CST);
		cerr += cl[i].cerr;
		serr += cl[i].serr;
		ncl += cl[i].notclosed;
	}
	snprintf(text, sizeof text, "%.4f %" PRIu64 " %lld %d %d %d %d\n",
	    t_last - t0, sent, size, cerr, serr, ncl, alive ? 1 : 0);
	if (write_atomic(av[8], text) == -1)
		die(av[8]);
	fflush(NULL);
	_exit(0);	/* do not wait for stuck threads */
}

int
main(int argc, char **argv)
{
	static const struct command	 cmds[] = {
		{ "send", 1, cmd_send, 0 }, { "recv", 1, cmd_recv, 0 },
		{ "lines", 2, cmd_lines, 0 }, { "hash", 0, cmd_hash, 0 },
		{ "fanout", 5, cmd_fanout, 0 },
		{ "collect", 2, cmd_collect, 0 }, { "fanin", 9, cmd_fanin, 0 },
	};

	return run_command("tcpref", cmds, sizeof cmds / sizeof cmds[0], argc,
	    argv, "usage: tcpref send PORT | recv READY | "
	    "lines SIZE FILE | hash |\n"
	    "       fanout PORT CLIENTS READY BYTES HASH | "
	    "collect PORTFILE FILE |\n"
	    "       fanin PORT DIR CLIENTS OUTFILE BYTES SEED SETTLE TIMEOUT "
	    "RESULT\n");
}
