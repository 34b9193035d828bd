/* Allocation wrappers and the one bounded parser for sizes and seconds. */
#include <sys/socket.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "util.h"

/* The one place allocation failure ends weir. */
void
xoom(void)
{
	fputs("weir: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		xoom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		xoom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL)
		xoom();
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		xoom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		xoom();
	return p;
}

/* A plain decimal integer, no sign, no suffix, at most max. */
int
util_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	 v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/*
 * A size: a decimal number, maybe with a fraction, and an optional suffix
 * k, M or G (powers of 1024).  Fails with a message in err when it is not a
 * size or lies outside [min, max].
 */
int
util_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	const char	*p = s;
	double		 v, mult = 1;
	char		*end;

	if (*p < '0' || *p > '9')
		goto bad;
	errno = 0;
	v = strtod(p, &end);
	if (errno != 0 || end == p || !isfinite(v))
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1024.0;
		break;
	case 'm': case 'M':
		mult = 1024.0 * 1024;
		break;
	case 'g': case 'G':
		mult = 1024.0 * 1024 * 1024;
		break;
	default:
		goto bad;
	}
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	v *= mult;
	if (v < (double)min || v > (double)max) {
		snprintf(err, errlen, "'%s' is out of range (%" PRIu64
		    " to %" PRIu64 ")", s, min, max);
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
bad:
	snprintf(err, errlen, "invalid size '%s'", s);
	return -1;
}

/* Seconds, a fraction allowed, more than 0 and at most a year. */
int
util_parse_seconds(const char *s, double *out, char *err, size_t errlen)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' ||
	    !isfinite(v) || v <= 0 || v > 365 * 86400.0) {
		snprintf(err, errlen, "invalid number of seconds '%s'", s);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * n bytes at s made safe for a message, in buf: printable ASCII kept,
 * other bytes as \xHH, cut short with "..." when they do not fit.
 * Whatever came from the network goes through here before a log line.
 */
const char *
util_escape(const char *s, size_t n, char *buf, size_t size)
{
	size_t		 i, k = 0;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		if (k + 8 > size) {
			memcpy(buf + k, "...", 4);
			return buf;
		}
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[k++] = (char)c;
		else
			k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
	}
	buf[k] = '\0';
	return buf;
}

/*
 * A codec's error in err: "<name>: <what>, got 'c', at byte N", the byte
 * (c < 0: none) escaped, so a message never carries raw payload.
 */
void
util_codec_error(char *err, size_t size, const char *name, const char *what,
    int c, uint64_t at)
{
	char	 got[16] = "";

	if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
		snprintf(got, sizeof got, ", got '%c'", c);
	else if (c >= 0)
		snprintf(got, sizeof got, ", got '\\x%02x'", c);
	snprintf(err, size, "%s: %s%s, at byte %" PRIu64, name, what, got, at);
}

/* A hexadecimal digit's value, or -1. */
int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
util_set_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (fl & O_NONBLOCK)
		return 0;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * Whether the event backend can watch fd.  epoll refuses regular files and
 * some devices (/dev/null, /dev/full) with EPERM; those never block, so the
 * caller drives them without readiness events.
 */
int
util_pollable(int fd)
{
	struct stat	 st;
#ifdef __linux__
	struct epoll_event ev;
	int		 ep, ok;
#endif

	if (fstat(fd, &st) == -1)
		return 0;
	if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode))
		return 1;
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode))
		return 0;
#ifdef __linux__
	/* A character device: a tty polls, /dev/null and /dev/full do not. */
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 || errno != EPERM;
	close(ep);
	return ok;
#else
	return 1;
#endif
}

/*
 * Whether splice(2) moves fd's bytes: a pipe or a stream socket either
 * way, a regular file to read.
 */
int
util_splices(int fd, int writing)
{
	struct stat	 st;
	socklen_t	 len;
	int		 type;

	if (fd < 0 || fstat(fd, &st) == -1)
		return 0;
	if (S_ISFIFO(st.st_mode))
		return 1;
	if (S_ISREG(st.st_mode))
		return !writing;
	len = sizeof type;
	return S_ISSOCK(st.st_mode) && getsockopt(fd, SOL_SOCKET, SO_TYPE,
	    &type, &len) == 0 && type == SOCK_STREAM;
}

double
util_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Arm a libevent timer for s seconds (at least a millisecond). */
void
util_timer_add(struct event *ev, double s)
{
	struct timeval	 tv;

	if (s < 0.001)
		s = 0.001;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev, &tv);
}
