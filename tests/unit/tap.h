/*
 * What the codec unit tests share: TAP output (a test point is ok unless
 * a check failed since the last one), a fixed pseudo-random sequence,
 * escaping for diagnostics, a run's first fault, the N of an error's
 * ", at byte N", and the ways of feeding an input: whole, byte by byte,
 * split in two at every position (or, for big inputs, at the first and
 * last 32 and every 4093rd), and in random chunks.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAP_MAXDIAG	12	/* diagnostic lines per test point */
#define TAP_UNUSED	__attribute__((unused))

/* A growing string. */
struct str {
	char		*p;
	size_t		 len, cap;
};

struct feeds {
	size_t		 len;		/* of the input */
	int		 all;		/* split at every position */
	int		 step;		/* whole, bytes, splits, random */
	size_t		 k;		/* the next split position */
	int		 round;		/* the next random round */
	size_t		*chunks;	/* the sizes of this way's feeds */
	size_t		 n, cap;
	char		 mode[64];	/* its name */
};

static void	 diag(const char *, ...)
		    __attribute__((format(printf, 1, 2))) TAP_UNUSED;
static void	 point(const char *, ...)
		    __attribute__((format(printf, 1, 2))) TAP_UNUSED;
static void	 check(int, const char *, ...)
		    __attribute__((format(printf, 2, 3))) TAP_UNUSED;
static int	 tap_end(void) TAP_UNUSED;
static uint64_t	 rng(void) TAP_UNUSED;
static const char *esc(const char *, size_t) TAP_UNUSED;
static void	*xalloc(void *, size_t) TAP_UNUSED;
static void	 str_add(struct str *, const char *, size_t) TAP_UNUSED;
static void	 str_fmt(struct str *, const char *, ...)
		    __attribute__((format(printf, 2, 3))) TAP_UNUSED;
static void	 str_esc(struct str *, const char *, size_t) TAP_UNUSED;
static void	 feeds_start(struct feeds *, size_t, int) TAP_UNUSED;
static int	 feeds_next(struct feeds *) TAP_UNUSED;
static void	 tap_fault(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4))) TAP_UNUSED;
static uint64_t	 tap_at(const char *) TAP_UNUSED;

/* The first rule a run breaks, kept in r->fault. */
#define fault(r, ...) \
	tap_fault((r)->fault, sizeof (r)->fault, __VA_ARGS__)

static int	 npoints, nfailed, failing;
static unsigned long nchecks;
static char	 diagbuf[8192];
static size_t	 diaglen;
static int	 ndiag;
static uint64_t	 rng_state = 0x9e3779b97f4a7c15ULL;

static void
diag(const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	failing = 1;
	if (++ndiag > TAP_MAXDIAG)
		return;
	if (ndiag == TAP_MAXDIAG)
		fmt = "(more diagnostics left out)";
	if (diaglen + 3 >= sizeof diagbuf)
		return;
	memcpy(diagbuf + diaglen, "# ", 2);
	diaglen += 2;
	va_start(ap, fmt);
	n = vsnprintf(diagbuf + diaglen, sizeof diagbuf - diaglen - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	diaglen += (size_t)n;
	if (diaglen > sizeof diagbuf - 2)
		diaglen = sizeof diagbuf - 2;
	diagbuf[diaglen++] = '\n';
	diagbuf[diaglen] = '\0';
}

/* Ends a test point: ok unless a check failed since the last one. */
static void
point(const char *fmt, ...)
{
	va_list	 ap;

	npoints++;
	if (failing)
		nfailed++;
	printf("%sok %d - ", failing ? "not " : "", npoints);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (diaglen > 0)
		fputs(diagbuf, stdout);
	fflush(stdout);
	diaglen = 0;
	diagbuf[0] = '\0';
	ndiag = 0;
	failing = 0;
}

static void
check(int cond, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[512];

	nchecks++;
	if (cond)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	diag("%s", buf);
}

/* The plan and a summary; the exit status. */
static int
tap_end(void)
{
	printf("1..%d\n", npoints);
	printf("# %d of %d test points failed, %lu checks\n", nfailed,
	    npoints, nchecks);
	return nfailed ? 1 : 0;
}

/* xorshift64: the same sequence on every run. */
static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Bytes as a C string literal for diagnostics (a static buffer, cut short). */
static const char *
esc(const char *p, size_t n)
{
	static char	 out[4][200];
	static int	 which;
	char		*o;
	size_t		 i, k;
	unsigned char	 c;

	which = (which + 1) % 4;
	o = out[which];
	k = 0;
	o[k++] = '"';
	for (i = 0; i < n && k < sizeof out[0] - 10; i++) {
		c = (unsigned char)p[i];
		if (c == '\n')
			k += (size_t)sprintf(o + k, "\\n");
		else if (c == '\r')
			k += (size_t)sprintf(o + k, "\\r");
		else if (c == '"' || c == '\\')
			k += (size_t)sprintf(o + k, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			k += (size_t)sprintf(o + k, "\\x%02x", c);
		else
			o[k++] = (char)c;
	}
	o[k++] = '"';
	if (i < n)
		k += (size_t)sprintf(o + k, "...(%zu)", n);
	o[k] = '\0';
	return o;
}

static void *
xalloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL)
		abort();
	return p;
}

static void
str_add(struct str *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		while (s->len + n + 1 > s->cap)
			s->cap = s->cap ? s->cap * 2 : 256;
		s->p = xalloc(s->p, s->cap);
	}
	if (n > 0)
		memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
}

static void
str_fmt(struct str *s, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[256];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	str_add(s, buf, n < 0 ? 0 : (size_t)n);
}

/* Bytes for an expectation: printable ones but ';', '|' and '\', else \xHH. */
static void
str_esc(struct str *s, const char *p, size_t n)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != ';' && c != '|' && c != '\\')
			str_add(s, (const char *)&c, 1);
		else
			str_fmt(s, "\\x%02x", c);
	}
}

/* The ways of feeding len bytes; all: split at every position. */
static void
feeds_start(struct feeds *f, size_t len, int all)
{
	f->len = len;
	f->all = all;
	f->step = 0;
	f->k = 1;
	f->round = 0;
	if (f->cap < len + 2) {
		f->cap = len + 2;
		f->chunks = xalloc(f->chunks, f->cap * sizeof *f->chunks);
	}
}

/* The next way: its chunks and mode; 0 when there is none left. */
static int
feeds_next(struct feeds *f)
{
	size_t	 i, left, k, scale;

	switch (f->step) {
	case 0:
		f->step++;
		f->chunks[0] = f->len;
		f->n = f->len > 0;
		snprintf(f->mode, sizeof f->mode, "whole");
		return 1;
	case 1:
		f->step++;
		for (i = 0; i < f->len; i++)
			f->chunks[i] = 1;
		f->n = f->len;
		snprintf(f->mode, sizeof f->mode, "byte by byte");
		return 1;
	case 2:
		for (; f->k < f->len; f->k++) {
			k = f->k;
			if (!f->all && k > 32 && k + 32 < f->len &&
			    k % 4093 != 0)
				continue;
			f->chunks[0] = k;
			f->chunks[1] = f->len - k;
			f->n = 2;
			snprintf(f->mode, sizeof f->mode, "split at %zu", k);
			f->k++;
			return 1;
		}
		f->step++;
		/* FALLTHROUGH */
	case 3:
		if (f->round == 16 || f->len < 2)
			return 0;
		scale = f->round < 8 ? 4 : f->round < 12 ? 64 : 4096;
		for (f->n = 0, left = f->len; left > 0; f->n++) {
			k = 1 + (size_t)(rng() % scale);
			if (k > left)
				k = left;
			f->chunks[f->n] = k;
			left -= k;
		}
		snprintf(f->mode, sizeof f->mode, "random chunks #%d",
		    f->round++);
		return 1;
	}
	return 0;
}

/* Keeps the first fault of a run in buf; the later ones follow from it. */
static void
tap_fault(char *buf, size_t size, const char *fmt, ...)
{
	va_list	 ap;

	if (buf[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* The N of a message's ", at byte N", or UINT64_MAX when it has none. */
static uint64_t
tap_at(const char *msg)
{
	const char	*s;

	if ((s = strstr(msg, ", at byte ")) == NULL)
		return UINT64_MAX;
	s += strlen(", at byte ");
	if (*s < '0' || *s > '9')
		return UINT64_MAX;
	return strtoull(s, NULL, 10);
}

#endif
