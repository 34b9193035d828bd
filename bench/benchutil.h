/*
 * What the benchmarks' C helpers share (bench/conns.c, bench/tlsref.c):
 * static inline functions, so that each helper still builds from its one
 * .c file (cc -O2 -o conns bench/conns.c; this header is found next to it).
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* seconds on the monotonic clock */
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
 * A TCP socket listening on 127.0.0.1 (SO_REUSEADDR, backlog 1024) on a
 * port the kernel chose, which goes to PORTFILE (write_atomic): the socket,
 * or -1 with errno set.
 */
static inline int
listen_loopback(const char *portfile)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	char			 text[32];
	int			 s, on = 1;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(s, 1024) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		goto fail;
	snprintf(text, sizeof text, "%u\n", ntohs(sin.sin_port));
	if (write_atomic(portfile, text) == -1)
		goto fail;
	return s;
fail:
	close(s);
	return -1;
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
