/*
 * What the benchmarks' C helpers share (bench/conns.c, tcpref.c, tlsref.c,
 * udpref.c, wsref.c): static inline functions, so that each helper still
 * builds from its one .c file (cc -O2 -o conns bench/conns.c; this header
 * is found next to it).
 *
 * Each helper's main() is run_command(): it picks the command, and names
 * it ("tcpref send") in what die() prints.  The functions that can fail
 * return -1 with errno set and leave the message to their caller; die()
 * and put() are the ones that exit.
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOOPBACK	"127.0.0.1"

/* what run_command() runs, "PROG CMD", the start of die()'s message */
static char	 bench_who[64] = "bench";

/*
 * "PROG CMD: WHAT: the error in errno" to standard error, without the
 * error when errno is 0 (what failed does not set it).
 */
static inline void
complain(const char *what)
{
	if (errno != 0)
		fprintf(stderr, "%s: %s: %s\n", bench_who, what,
		    strerror(errno));
	else
		fprintf(stderr, "%s: %s\n", bench_who, what);
}

/* complain(WHAT) and exit 1 */
static inline void __attribute__((noreturn))
die(const char *what)
{
	complain(what);
	exit(1);
}

/* one of a helper's commands: NAME takes NARGS arguments, and up to
 * OPTIONAL more (those not given are NULL to FN) */
struct command {
	const char	*name;
	int		 nargs;
	int		(*fn)(char **);
	int		 optional;
};

/*
 * A helper's main(): the command of CMDS that argv names, given its
 * arguments, with standard output line-buffered and errno 0; its exit
 * status, or USAGE to standard error and 2.
 */
static inline int
run_command(const char *prog, const struct command *cmds, size_t ncmds,
    int argc, char **argv, const char *usage)
{
	size_t	 i;
	int	 nargs = argc - 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc >= 2 && i < ncmds; i++)
		if (strcmp(argv[1], cmds[i].name) == 0 &&
		    nargs >= cmds[i].nargs &&
		    nargs <= cmds[i].nargs + cmds[i].optional) {
			snprintf(bench_who, sizeof bench_who, "%s %s", prog,
			    cmds[i].name);
			errno = 0;
			return cmds[i].fn(argv + 2);
		}
	fputs(usage, stderr);
	return 2;
}

/* seconds on the monotonic clock (one clock for all processes) */
static inline double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* qsort(3) order of doubles */
static inline int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* read(2), again when a signal interrupts it */
static inline ssize_t
read_some(int fd, void *p, size_t n)
{
	ssize_t	 r;

	while ((r = read(fd, p, n)) == -1 && errno == EINTR)
		;
	return r;
}

/* all N bytes at P to FD, again after a signal: 0, or -1 with errno set */
static inline int
writeall(int fd, const void *p, size_t n)
{
	const char	*q = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, q, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* writeall(), or die */
static inline void
put(int fd, const void *p, size_t n)
{
	if (writeall(fd, p, n) == -1)
		die("write");
}

/*
 * TEXT to PATH through PATH.tmp and a rename, so that a reader waiting for
 * PATH never sees half of it: 0, or -1 with errno set.
 */
static inline int
write_atomic(const char *path, const char *text)
{
	char	 tmp[4096];
	FILE	*f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

/*
 * A socket of TYPE (SOCK_STREAM, SOCK_DGRAM) connected to HOST (a name or
 * an address) port PORT, the first of HOST's addresses that takes it: the
 * socket, or -1 with errno set.  A HOST or PORT that does not resolve is
 * fatal.
 */
static inline int
dial(int type, const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	char		 msg[256];
	int		 fd = -1, e, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = type;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		if (e != EAI_SYSTEM)
			errno = 0;
		snprintf(msg, sizeof msg, "%s port %s: %s", host, port,
		    gai_strerror(e));
		die(msg);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		errno = saved;
	return fd;
}

/*
 * A socket of TYPE bound to 127.0.0.1 on a port the kernel chose
 * (SO_REUSEADDR for SOCK_STREAM): the socket, or -1 with errno set.
 */
static inline int
bind_loopback(int type)
{
	struct sockaddr_in	 sin;
	int			 s, on = 1;

	if ((s = socket(AF_INET, type, 0)) == -1)
		return -1;
	if (type == SOCK_STREAM)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * The port socket S is bound to, a line to PORTFILE (write_atomic): the
 * last step, once S is ready for what the reader of PORTFILE sends.  0, or
 * -1 with errno set.
 */
static inline int
write_port(int s, const char *portfile)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	char			 text[32];

	if (getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	snprintf(text, sizeof text, "%u\n", ntohs(sin.sin_port));
	return write_atomic(portfile, text);
}

/*
 * A TCP socket listening on 127.0.0.1 (SO_REUSEADDR, backlog 1024) on a
 * port the kernel chose, which goes to PORTFILE (write_port): the socket,
 * or -1 with errno set.
 */
static inline int
listen_loopback(const char *portfile)
{
	int	 s;

	if ((s = bind_loopback(SOCK_STREAM)) == -1)
		return -1;
	if (listen(s, 1024) == -1 || write_port(s, portfile) == -1) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * listen_loopback(PORTFILE), one connection accepted (again after a
 * signal), the listening socket closed: the connection, or -1 with errno
 * set.
 */
static inline int
accept_one(const char *portfile)
{
	int	 s, c, e;

	if ((s = listen_loopback(portfile)) == -1)
		return -1;
	while ((c = accept(s, NULL, NULL)) == -1 && errno == EINTR)
		;
	e = errno;
	close(s);
	errno = e;
	return c;
}

/*
 * A connection client's RESULT, as bench/proxy.sh and bench/tls.sh read it:
 * "secs p50_ms p99_ms ok errors first-error", the percentiles of the OK
 * latencies (seconds) in LAT, which this sorts. 0, or -1 with errno set.
 */
static inline int
write_conns_result(const char *result, double secs, double *lat, int ok,
    int nerr, const char *first)
{
	FILE	*f;

	qsort(lat, (size_t)ok, sizeof *lat, cmp_double);
	if ((f = fopen(result, "w")) == NULL)
		return -1;
	fprintf(f, "%.4f %.4f %.4f %d %d %s\n", secs,
	    ok ? lat[ok / 2] * 1000 : 0, ok ? lat[(ok * 99) / 100] * 1000 : 0,
	    ok, nerr, first);
	return fclose(f) == 0 ? 0 : -1;
}

#endif
