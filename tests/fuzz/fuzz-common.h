/*
 * What the codec fuzz targets share: decoding an input whole, byte by byte
 * or in pseudo-random chunks while checking the decoder API's rules, and
 * comparing two decodings.  Any broken rule aborts, which libFuzzer
 * reports as a crash with the input that caused it.
 *
 * A fuzz input is three option bytes, then the bytes to decode:
 *   [0]  bit 0: skip oversize frames; bits 1-2 (line): delimiter,
 *        0 lf, 1 crlf, 2 nul, 3 ','
 *   [1]  max-frame: bit 7 set, the default (1 MiB); else (low 6 bits) + 1
 *   [2]  seed of the chunk sizes
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define FZ_WHOLE	0
#define FZ_BYTES	1
#define FZ_CHUNKS	2

/* A growing buffer. */
struct fz_buf {
	char		*p;
	size_t		 len, cap;
};

struct fz_run {
	char		*data;		/* the frames' bytes, back to back */
	size_t		 len, cap;
	size_t		*lens;
	size_t		 n, fcap;
	int		 fails;		/* 0, 1 while feeding, 2 at the end */
	char		 msg[256];
	uint64_t	 skipped;
};

const char	*__ubsan_default_options(void);
static void	 fz_bug(const char *);
static void	 fz_add(struct fz_run *, const char *, size_t);
static void	 fz_buf_add(struct fz_buf *, const void *, size_t);
static size_t	 fz_end(int, size_t, size_t, uint32_t *);
static size_t	 fz_parts(const char *, size_t, const char **, size_t,
		    char **);
static void	 fz_opts(const uint8_t *, struct proto_opts *, enum proto_kind);
static uint64_t	 fz_at(const char *);
static void	 fz_decode(const struct proto_opts *, const char *, size_t,
		    int, uint32_t, struct fz_run *);
static void	 fz_same(const struct fz_run *, const struct fz_run *);
static void	 fz_same_frames(const struct fz_run *, const struct fz_run *);

/* Undefined behaviour is a crash too, not a line in the log. */
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static void
fz_bug(const char *what)
{
	fprintf(stderr, "codec invariant broken: %s\n", what);
	abort();
}

static void
fz_add(struct fz_run *r, const char *p, size_t n)
{
	if (r->len + n > r->cap) {
		while (r->len + n > r->cap)
			r->cap = r->cap ? r->cap * 2 : 4096;
		if ((r->data = realloc(r->data, r->cap)) == NULL)
			abort();
	}
	if (r->n == r->fcap) {
		r->fcap = r->fcap ? r->fcap * 2 : 64;
		if ((r->lens = realloc(r->lens, r->fcap * sizeof *r->lens))
		    == NULL)
			abort();
	}
	if (n > 0)
		memcpy(r->data + r->len, p, n);
	r->len += n;
	r->lens[r->n++] = n;
}

static void
fz_buf_add(struct fz_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/*
 * Where the next feed of len bytes from off ends: all of them, one, or
 * 1..64 drawn from *x (xorshift, seeded with seed * 2654435761 + 1).
 */
static size_t
fz_end(int how, size_t off, size_t len, uint32_t *x)
{
	size_t	 end;

	if (how == FZ_WHOLE)
		return len;
	if (how == FZ_BYTES)
		return off + 1;
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	end = off + 1 + (*x % 64);
	return end > len ? len : end;
}

/*
 * len bytes as NUL-separated parts, at most max, in a copy made a C
 * string (*copy, to free); how many.  There is always one.
 */
static size_t
fz_parts(const char *in, size_t len, const char **part, size_t max,
    char **copy)
{
	const char	*p;
	size_t		 k;

	if ((*copy = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(*copy, in, len);
	(*copy)[len] = '\0';
	for (p = *copy, k = 0; k < max && p <= *copy + len;
	    p += strlen(p) + 1)
		part[k++] = p;
	return k;
}

static void
fz_opts(const uint8_t *b, struct proto_opts *o, enum proto_kind kind)
{
	static const unsigned char delims[] = { '\n', '\n', '\0', ',' };

	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->skip = b[0] & 1;
	o->delim = '\n';
	if (kind == PROTO_LINE) {
		o->delim = delims[(b[0] >> 1) & 3];
		o->crlf = ((b[0] >> 1) & 3) == 1;
	}
	o->max_frame = b[1] & 0x80 ? PROTO_DEFAULT_MAX_FRAME :
	    (size_t)(b[1] & 63) + 1;
}

/* The N of ", at byte N"; aborts when there is none. */
static uint64_t
fz_at(const char *msg)
{
	const char	*s;

	if ((s = strstr(msg, ", at byte ")) == NULL)
		fz_bug("error message without \", at byte N\"");
	s += strlen(", at byte ");
	if (*s < '0' || *s > '9')
		fz_bug("error message without \", at byte N\"");
	return strtoull(s, NULL, 10);
}

/*
 * Decodes in as the glue does, fed whole, byte by byte or in chunks of
 * 1..64 bytes drawn from seed, checking every call.
 */
static void
fz_decode(const struct proto_opts *o, const char *in, size_t len, int how,
    uint32_t seed, struct fz_run *r)
{
	struct proto_dec	*d;
	struct proto_frame	 f;
	enum proto_status	 st;
	const char		*e;
	size_t			 off, end, used, prefix;
	uint64_t		 skipped = 0, at;
	uint32_t		 x = seed * 2654435761u + 1;

	if (r->data == NULL) {
		r->cap = 4096;
		r->fcap = 64;
		if ((r->data = malloc(r->cap)) == NULL ||
		    (r->lens = malloc(r->fcap * sizeof *r->lens)) == NULL)
			abort();
	}
	r->len = r->n = 0;
	r->fails = 0;
	r->msg[0] = '\0';
	if ((d = proto_dec_new(o)) == NULL)
		fz_bug("proto_dec_new returned NULL");
	prefix = strlen(proto_name(o->kind));
	off = 0;
	while (off < len && r->fails == 0) {
		end = fz_end(how, off, len, &x);
		while (off < end) {
			used = (size_t)-1;
			st = proto_dec_feed(d, in + off, end - off, &used, &f);
			if (st == PROTO_ERROR) {
				r->fails = 1;
				if ((e = proto_dec_error(d)) == NULL)
					fz_bug("an error without a message");
				snprintf(r->msg, sizeof r->msg, "%s", e);
				if (strncmp(e, proto_name(o->kind), prefix)
				    != 0 || strncmp(e + prefix, ": ", 2) != 0)
					fz_bug("message not \"<proto>: ...\"");
				/* The feed holding the offending byte fails. */
				at = fz_at(e);
				if (at >= end)
					fz_bug("error at a byte not yet fed");
				if (at < off)
					fz_bug("error at a byte fed before");
				break;
			}
			if (used > end - off)
				fz_bug("used more bytes than were fed");
			if (st == PROTO_MORE) {
				if (used != end - off)
					fz_bug("PROTO_MORE without using all");
				off = end;
				break;
			}
			if (st != PROTO_FRAME)
				fz_bug("feed returned an unknown status");
			if (used == 0)
				fz_bug("PROTO_FRAME with used 0");
			if (f.len > o->max_frame)
				fz_bug("frame longer than max-frame");
			if (f.len > 0 && f.data == NULL)
				fz_bug("frame at NULL");
			fz_add(r, f.data, f.len);
			off += used;
			if (proto_dec_skipped(d) < skipped)
				fz_bug("the skipped count went down");
			skipped = proto_dec_skipped(d);
		}
	}
	if (r->fails == 0) {
		int	 idle = proto_dec_idle(d);

		st = proto_dec_end(d, &f);
		if (st == PROTO_FRAME) {
			if (idle)
				fz_bug("end gave a frame when idle");
			if (f.len > o->max_frame)
				fz_bug("last frame longer than max-frame");
			if (f.len > 0 && f.data == NULL)
				fz_bug("last frame at NULL");
			fz_add(r, f.data, f.len);
			if (proto_dec_end(d, &f) != PROTO_MORE)
				fz_bug("a second end did not give MORE");
		} else if (st == PROTO_ERROR) {
			if (idle)
				fz_bug("end failed when idle");
			r->fails = 2;
			if ((e = proto_dec_error(d)) == NULL)
				fz_bug("an error without a message");
			snprintf(r->msg, sizeof r->msg, "%s", e);
			if ((at = fz_at(e)) > len)
				fz_bug("error at the end past the input");
		} else if (st != PROTO_MORE)
			fz_bug("end returned an unknown status");
	}
	if (r->fails != 0) {
		if (proto_dec_feed(d, "1:a,\n", 5, &used, &f) != PROTO_ERROR ||
		    proto_dec_feed(d, in, len, &used, &f) != PROTO_ERROR ||
		    proto_dec_end(d, &f) != PROTO_ERROR)
			fz_bug("an error is not sticky");
		if ((e = proto_dec_error(d)) == NULL ||
		    strcmp(e, r->msg) != 0)
			fz_bug("the error message changed");
	}
	r->skipped = proto_dec_skipped(d);
	if (r->skipped < skipped)
		fz_bug("the skipped count went down");
	if (!o->skip && r->skipped != 0)
		fz_bug("frames skipped without skip");
	proto_dec_free(d);
}

static void
fz_same_frames(const struct fz_run *a, const struct fz_run *b)
{
	if (a->n != b->n || a->len != b->len ||
	    memcmp(a->lens, b->lens, a->n * sizeof *a->lens) != 0 ||
	    (a->len > 0 && memcmp(a->data, b->data, a->len) != 0))
		fz_bug("different frames");
}

static void
fz_same(const struct fz_run *a, const struct fz_run *b)
{
	fz_same_frames(a, b);
	if (a->fails != b->fails)
		fz_bug("an error in one way of feeding, not in another");
	if (strcmp(a->msg, b->msg) != 0)
		fz_bug("different error messages");
	if (a->skipped != b->skipped)
		fz_bug("different skipped counts");
}

#endif
