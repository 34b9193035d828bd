/*
 * Unit tests of the sans-IO codecs (src/proto-*.c), printing TAP.
 *
 * Every vector is fed whole, one byte at a time, split in two at every
 * position and in random chunks; each way must give the expected frames,
 * skipped count and error, and the error must come from the feed that
 * holds the offending byte.  The API's own rules (what *used may be,
 * sticky errors, one last line at EOF) are checked on every call.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"

#define ANY		UINT64_MAX	/* in an expectation: not checked */
#define MAXF		8		/* frames in a vector */
#define B(s)		{ (s), sizeof(s) - 1 }

struct bytes {
	const char	*p;
	size_t		 n;
};

struct expect {
	const struct bytes *frames;
	size_t		 nframes;
	uint64_t	 skipped;	/* ANY: only the same in every mode */
	int		 fails;		/* 0, 1 while feeding, 2 at the end */
	uint64_t	 at;		/* the offset in the error message */
	const char	*what;		/* in the error message, if not NULL */
};

struct vec {
	const char	*name;
	enum proto_kind	 kind;
	const char	*delim;		/* line: for proto_parse_delim; NULL: lf */
	size_t		 max;		/* 0: the default */
	int		 skip;
	struct bytes	 in;
	size_t		 nframes;
	struct bytes	 frames[MAXF];
	uint64_t	 skipped;
	int		 fails;
	uint64_t	 at;
	const char	*what;
};

struct result {
	char		*data;		/* the frames' bytes, back to back */
	size_t		 len, cap;
	size_t		*lens;
	size_t		 nframes, fcap;
	int		 fails;
	char		 msg[256];
	uint64_t	 at;
	uint64_t	 skipped;
	char		 fault[256];	/* the first broken API rule */
};

static void	 result_reset(struct result *);
static void	 result_add(struct result *, const char *, size_t);
static int	 parse_at(const char *, uint64_t *);
static void	 decode(const struct proto_opts *, const char *, size_t,
		    const size_t *, size_t, struct result *);
static int	 compare(const struct result *, const struct expect *,
		    const struct result *, const char *);
static void	 run_modes(const struct proto_opts *, const char *, size_t,
		    const struct expect *, int);
static void	 make_opts(struct proto_opts *, enum proto_kind,
		    const char *, size_t, int);
static void	 test_vec(const struct vec *);
static void	 test_encode(void);
static void	 test_relay(void);
static void	 test_names(void);
static void	 test_delims(void);
static void	 test_idle(void);
static void	 test_sticky(void);
static void	 test_pass(void);
static void	 test_digits(void);
static void	 test_big(void);
static void	 test_roundtrip(const char *, enum proto_kind, const char *);

/* The chunk sizes of one way of feeding. */
static size_t	*chunks;
static size_t	 chunkcap;

static void
result_reset(struct result *r)
{
	if (r->data == NULL) {
		r->cap = 4096;
		r->fcap = 64;
		if ((r->data = malloc(r->cap)) == NULL ||
		    (r->lens = malloc(r->fcap * sizeof *r->lens)) == NULL)
			abort();
	}
	r->len = 0;
	r->nframes = 0;
	r->fails = 0;
	r->msg[0] = '\0';
	r->at = ANY;
	r->skipped = 0;
	r->fault[0] = '\0';
}

static void
result_add(struct result *r, const char *p, size_t n)
{
	if (r->len + n > r->cap) {
		while (r->len + n > r->cap)
			r->cap = r->cap ? r->cap * 2 : 4096;
		if ((r->data = realloc(r->data, r->cap)) == NULL)
			abort();
	}
	if (r->nframes == r->fcap) {
		r->fcap = r->fcap ? r->fcap * 2 : 64;
		if ((r->lens = realloc(r->lens, r->fcap * sizeof *r->lens))
		    == NULL)
			abort();
	}
	if (n > 0)
		memcpy(r->data + r->len, p, n);
	r->len += n;
	r->lens[r->nframes++] = n;
}

/* The N of ", at byte N" in an error message. */
static int
parse_at(const char *msg, uint64_t *at)
{
	const char	*s;
	char		*end;

	if ((s = strstr(msg, ", at byte ")) == NULL)
		return -1;
	s += strlen(", at byte ");
	if (*s < '0' || *s > '9')
		return -1;
	*at = strtoull(s, &end, 10);
	return 0;
}

/*
 * Decodes in, fed in the given chunks, as the glue does: each chunk is fed
 * again from where the last frame ended until the decoder wants more.
 */
static void
decode(const struct proto_opts *o, const char *in, size_t len,
    const size_t *ch, size_t nch, struct result *r)
{
	struct proto_dec	*d;
	struct proto_frame	 f;
	enum proto_status	 st;
	const char		*e;
	size_t			 c, off, end, used;

	result_reset(r);
	if ((d = proto_dec_new(o)) == NULL) {
		fault(r, "proto_dec_new returned NULL");
		return;
	}
	off = 0;
	for (c = 0; c < nch && r->fails == 0; c++) {
		end = off + ch[c];
		while (off < end) {
			used = (size_t)-1;
			f.data = NULL;
			f.len = (size_t)-1;
			st = proto_dec_feed(d, in + off, end - off, &used, &f);
			if (st == PROTO_ERROR) {
				r->fails = 1;
				e = proto_dec_error(d);
				snprintf(r->msg, sizeof r->msg, "%s",
				    e ? e : "(null)");
				if (parse_at(r->msg, &r->at) == -1)
					fault(r, "error without \", at byte "
					    "N\": %s", esc(r->msg,
					    strlen(r->msg)));
				else if (r->at < off || r->at >= end)
					fault(r, "error at byte %" PRIu64
					    " from a feed of bytes %zu..%zu",
					    r->at, off, end - 1);
				break;
			}
			if (used > end - off) {
				fault(r, "used %zu of %zu bytes", used,
				    end - off);
				goto out;
			}
			if (st == PROTO_MORE) {
				if (used != end - off)
					fault(r, "PROTO_MORE with used %zu "
					    "of %zu", used, end - off);
				off = end;
				break;
			}
			if (st != PROTO_FRAME) {
				fault(r, "feed returned %d", (int)st);
				goto out;
			}
			if (used == 0) {
				fault(r, "PROTO_FRAME with used 0");
				goto out;
			}
			if (f.len > 0 && f.data == NULL) {
				fault(r, "frame of %zu bytes at NULL", f.len);
				goto out;
			}
			result_add(r, f.data, f.len);
			off += used;
		}
	}
	if (r->fails == 0 && off != len)
		fault(r, "fed %zu of %zu bytes", off, len);
	if (r->fails == 0) {
		st = proto_dec_end(d, &f);
		if (st == PROTO_FRAME) {
			result_add(r, f.data, f.len);
			if (proto_dec_end(d, &f) != PROTO_MORE)
				fault(r, "a second proto_dec_end did not "
				    "return PROTO_MORE");
		} else if (st == PROTO_ERROR) {
			r->fails = 2;
			e = proto_dec_error(d);
			snprintf(r->msg, sizeof r->msg, "%s", e ? e : "(null)");
			if (parse_at(r->msg, &r->at) == -1)
				fault(r, "error without \", at byte N\": %s",
				    esc(r->msg, strlen(r->msg)));
		} else if (st != PROTO_MORE)
			fault(r, "end returned %d", (int)st);
	}
	if (r->fails != 0) {
		if (proto_dec_feed(d, "1:a,\n", 5, &used, &f) != PROTO_ERROR)
			fault(r, "feed after an error did not fail");
		if (proto_dec_end(d, &f) != PROTO_ERROR)
			fault(r, "end after an error did not fail");
		e = proto_dec_error(d);
		if (e == NULL || strcmp(e, r->msg) != 0)
			fault(r, "the error message changed to %s",
			    e ? esc(e, strlen(e)) : "NULL");
	}
out:
	r->skipped = proto_dec_skipped(d);
	proto_dec_free(d);
}

/*
 * Compares a result with the expectation and, for what the expectation
 * leaves open, with the result of feeding the input whole (ref).  Says
 * what differs, in mode; returns 1 when all is well.
 */
static int
compare(const struct result *r, const struct expect *e,
    const struct result *ref, const char *mode)
{
	size_t	 i, off;
	int	 ok = 1;

	nchecks += 4;
	if (r->fault[0] != '\0') {
		diag("%s: %s", mode, r->fault);
		ok = 0;
	}
	if (r->nframes != e->nframes) {
		diag("%s: %zu frames, expected %zu", mode, r->nframes,
		    e->nframes);
		ok = 0;
	}
	for (i = 0, off = 0; i < r->nframes && i < e->nframes; i++) {
		if (r->lens[i] != e->frames[i].n || memcmp(r->data + off,
		    e->frames[i].p, e->frames[i].n) != 0) {
			diag("%s: frame %zu is %s, expected %s", mode, i,
			    esc(r->data + off, r->lens[i]),
			    esc(e->frames[i].p, e->frames[i].n));
			ok = 0;
			break;
		}
		off += r->lens[i];
	}
	if (r->fails != e->fails) {
		diag("%s: %s, expected %s%s%s", mode,
		    r->fails == 0 ? "no error" : r->fails == 1 ?
		    "error while feeding" : "error at the end",
		    e->fails == 0 ? "no error" : e->fails == 1 ?
		    "an error while feeding" : "an error at the end",
		    r->fails ? ": " : "", r->msg);
		ok = 0;
	} else if (e->fails != 0) {
		if (e->at != ANY && r->at != e->at) {
			diag("%s: error at byte %" PRIu64 ", expected %" PRIu64
			    ": %s", mode, r->at, e->at, r->msg);
			ok = 0;
		}
		if (e->what != NULL && strstr(r->msg, e->what) == NULL) {
			diag("%s: error message %s lacks %s", mode,
			    esc(r->msg, strlen(r->msg)),
			    esc(e->what, strlen(e->what)));
			ok = 0;
		}
		if (ref != NULL && strcmp(r->msg, ref->msg) != 0) {
			diag("%s: error message %s, fed whole %s", mode,
			    esc(r->msg, strlen(r->msg)),
			    esc(ref->msg, strlen(ref->msg)));
			ok = 0;
		}
	}
	if (e->skipped != ANY && r->skipped != e->skipped) {
		diag("%s: skipped %" PRIu64 ", expected %" PRIu64, mode,
		    r->skipped, e->skipped);
		ok = 0;
	}
	if (ref != NULL && r->skipped != ref->skipped) {
		diag("%s: skipped %" PRIu64 ", fed whole %" PRIu64, mode,
		    r->skipped, ref->skipped);
		ok = 0;
	}
	return ok;
}

/*
 * Feeds in whole, byte by byte, in random chunks and (splits 1) split in
 * two at every position or (splits 2) at a few, comparing each with e.
 */
static void
run_modes(const struct proto_opts *o, const char *in, size_t len,
    const struct expect *e, int splits)
{
	static struct result	 ref, r;
	char			 mode[64];
	size_t			 i, k, n, left, scale;
	int			 round;

	if (chunkcap < len + 2) {
		chunkcap = len + 2;
		if ((chunks = realloc(chunks, chunkcap * sizeof *chunks))
		    == NULL)
			abort();
	}

	chunks[0] = len;
	decode(o, in, len, chunks, len > 0, &ref);
	if (!compare(&ref, e, NULL, "whole"))
		return;

	for (i = 0; i < len; i++)
		chunks[i] = 1;
	decode(o, in, len, chunks, len, &r);
	if (!compare(&r, e, &ref, "byte by byte"))
		return;

	for (k = 1; k < len; k++) {
		if (splits == 0 || (splits == 2 && k > 2 && k + 2 < len &&
		    k % 4093 != 0))
			continue;
		chunks[0] = k;
		chunks[1] = len - k;
		decode(o, in, len, chunks, 2, &r);
		snprintf(mode, sizeof mode, "split at %zu", k);
		if (!compare(&r, e, &ref, mode))
			return;
	}

	for (round = 0; round < 16 && len > 1; round++) {
		scale = round < 8 ? 4 : round < 12 ? 64 : 4096;
		for (n = 0, left = len; left > 0; n++) {
			k = 1 + (size_t)(rng() % scale);
			if (k > left)
				k = left;
			chunks[n] = k;
			left -= k;
		}
		decode(o, in, len, chunks, n, &r);
		snprintf(mode, sizeof mode, "random chunks #%d", round);
		if (!compare(&r, e, &ref, mode))
			return;
	}
}

static void
make_opts(struct proto_opts *o, enum proto_kind kind, const char *delim,
    size_t max, int skip)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->delim = '\n';
	o->max_frame = max ? max : PROTO_DEFAULT_MAX_FRAME;
	o->skip = skip;
	if (kind == PROTO_LINE && delim != NULL &&
	    proto_parse_delim(delim, o) == -1)
		diag("proto_parse_delim(%s) failed", esc(delim,
		    strlen(delim)));
}

static void
test_vec(const struct vec *v)
{
	struct proto_opts	 o;
	struct expect		 e;

	make_opts(&o, v->kind, v->delim, v->max, v->skip);
	e.frames = v->frames;
	e.nframes = v->nframes;
	e.skipped = v->skipped;
	e.fails = v->fails;
	e.at = v->at;
	e.what = v->what;
	run_modes(&o, v->in.p, v->in.n, &e, 1);
	if (v->kind == PROTO_LINE)
		point("line (%s): %s", v->delim ? v->delim : "lf", v->name);
	else
		point("%s: %s", proto_name(v->kind), v->name);
}

/* Each of them fed whole, byte by byte, split everywhere and in chunks. */
static const struct vec vecs[] = {
	/* netstring: accepted */
	{ .name = "0:, is the empty frame", .kind = PROTO_NETSTRING,
	  .in = B("0:,"), .nframes = 1, .frames = { B("") } },
	{ .name = "1:a,", .kind = PROTO_NETSTRING,
	  .in = B("1:a,"), .nframes = 1, .frames = { B("a") } },
	{ .name = "4:1:a,, nests", .kind = PROTO_NETSTRING,
	  .in = B("4:1:a,,"), .nframes = 1, .frames = { B("1:a,") } },
	{ .name = "several frames, one with a NUL", .kind = PROTO_NETSTRING,
	  .in = B("1:a,2:bc,0:,3:a\0b,"), .nframes = 4,
	  .frames = { B("a"), B("bc"), B(""), B("a\0b") } },
	{ .name = "payload with CR, LF, ':' and ','", .kind = PROTO_NETSTRING,
	  .in = B("6:a\r\n:,,,"), .nframes = 1, .frames = { B("a\r\n:,,") } },
	{ .name = "two-digit length", .kind = PROTO_NETSTRING,
	  .in = B("10:0123456789,"), .nframes = 1,
	  .frames = { B("0123456789") } },
	{ .name = "empty input", .kind = PROTO_NETSTRING, .in = B("") },
	/* netstring: errors */
	{ .name = "01:a, (leading zero)", .kind = PROTO_NETSTRING,
	  .in = B("01:a,"), .fails = 1, .at = 1, .what = "'1'" },
	{ .name = "00:, (leading zero)", .kind = PROTO_NETSTRING,
	  .in = B("00:,"), .fails = 1, .at = 1, .what = "'0'" },
	{ .name = ":a, (no length)", .kind = PROTO_NETSTRING,
	  .in = B(":a,"), .fails = 1, .at = 0, .what = "':'" },
	{ .name = "3aaa, (no colon)", .kind = PROTO_NETSTRING,
	  .in = B("3aaa,"), .fails = 1, .at = 1, .what = "'a'" },
	{ .name = "1a:x, (non-digit in the length)", .kind = PROTO_NETSTRING,
	  .in = B("1a:x,"), .fails = 1, .at = 1, .what = "'a'" },
	{ .name = "-1:a, (sign)", .kind = PROTO_NETSTRING,
	  .in = B("-1:a,"), .fails = 1, .at = 0, .what = "'-'" },
	{ .name = "' 1:a,' (space)", .kind = PROTO_NETSTRING,
	  .in = B(" 1:a,"), .fails = 1, .at = 0, .what = "' '" },
	{ .name = "3:abc; (no comma)", .kind = PROTO_NETSTRING,
	  .in = B("3:abc;"), .fails = 1, .at = 5, .what = "';'" },
	{ .name = "1:ab, (payload longer than its length)",
	  .kind = PROTO_NETSTRING,
	  .in = B("1:ab,"), .fails = 1, .at = 3, .what = "'b'" },
	{ .name = "a NUL instead of the comma, escaped",
	  .kind = PROTO_NETSTRING,
	  .in = B("1:a\0"), .fails = 1, .at = 3, .what = "'\\x00'" },
	{ .name = "a bad frame after a good one", .kind = PROTO_NETSTRING,
	  .in = B("1:a,01:b,"), .nframes = 1, .frames = { B("a") },
	  .fails = 1, .at = 5, .what = "'1'" },
	{ .name = "garbage after a frame", .kind = PROTO_NETSTRING,
	  .in = B("1:a,x"), .nframes = 1, .frames = { B("a") },
	  .fails = 1, .at = 4, .what = "'x'" },
	{ .name = "a second comma", .kind = PROTO_NETSTRING,
	  .in = B("1:a,,"), .nframes = 1, .frames = { B("a") },
	  .fails = 1, .at = 4, .what = "','" },
	{ .name = "garbage: text", .kind = PROTO_NETSTRING,
	  .in = B("hello, world\n"), .fails = 1, .at = 0, .what = "'h'" },
	{ .name = "garbage: HTTP", .kind = PROTO_NETSTRING,
	  .in = B("GET / HTTP/1.1\r\n\r\n"), .fails = 1, .at = 0,
	  .what = "'G'" },
	{ .name = "garbage: a NUL", .kind = PROTO_NETSTRING,
	  .in = B("\0"), .fails = 1, .at = 0, .what = "'\\x00'" },
	{ .name = "garbage: binary after digits", .kind = PROTO_NETSTRING,
	  .in = B("12\xff\xfe"), .fails = 1, .at = 2 },
	{ .name = "end of input inside the payload", .kind = PROTO_NETSTRING,
	  .in = B("3:ab"), .fails = 2, .at = 4, .what = "end of input" },
	{ .name = "end of input before the comma", .kind = PROTO_NETSTRING,
	  .in = B("1:a"), .fails = 2, .at = 3, .what = "end of input" },
	{ .name = "end of input after the colon", .kind = PROTO_NETSTRING,
	  .in = B("1:"), .fails = 2, .at = 2, .what = "end of input" },
	{ .name = "end of input in the length", .kind = PROTO_NETSTRING,
	  .in = B("12"), .fails = 2, .at = 2, .what = "end of input" },
	{ .name = "end of input inside a second frame",
	  .kind = PROTO_NETSTRING,
	  .in = B("1:a,2:b"), .nframes = 1, .frames = { B("a") },
	  .fails = 2, .at = 7, .what = "end of input" },
	/* netstring: limits */
	{ .name = "max-frame 3: exactly 3 accepted", .kind = PROTO_NETSTRING,
	  .max = 3, .in = B("3:abc,0:,"), .nframes = 2,
	  .frames = { B("abc"), B("") } },
	{ .name = "max-frame 3: 4 fails at the digit", .kind = PROTO_NETSTRING,
	  .max = 3, .in = B("4:abcd,"), .fails = 1, .at = 0, .what = "'4'" },
	{ .name = "max-frame 10: exactly 10 accepted", .kind = PROTO_NETSTRING,
	  .max = 10, .in = B("10:0123456789,"), .nframes = 1,
	  .frames = { B("0123456789") } },
	{ .name = "max-frame 10: 11 fails at its second digit",
	  .kind = PROTO_NETSTRING, .max = 10,
	  .in = B("11:01234567890,"), .fails = 1, .at = 1, .what = "'1'" },
	{ .name = "max-frame 10: 100 fails at its third digit",
	  .kind = PROTO_NETSTRING, .max = 10,
	  .in = B("1:a,100:"), .nframes = 1, .frames = { B("a") },
	  .fails = 1, .at = 6, .what = "'0'" },
	{ .name = "max-frame 3, skip: 4 bytes skipped and counted",
	  .kind = PROTO_NETSTRING, .max = 3, .skip = 1,
	  .in = B("4:abcd,1:x,"), .nframes = 1, .frames = { B("x") },
	  .skipped = 1 },
	{ .name = "max-frame 10, skip: two skipped, the others kept",
	  .kind = PROTO_NETSTRING, .max = 10, .skip = 1,
	  .in = B("11:01234567890,0:,12:0123456789,:,10:0123456789,"),
	  .nframes = 2, .frames = { B(""), B("0123456789") }, .skipped = 2 },
	{ .name = "max-frame 3, skip: a skipped frame's payload holds "
	  "netstrings", .kind = PROTO_NETSTRING, .max = 3, .skip = 1,
	  .in = B("8:1:a,1:b,,2:ok,"), .nframes = 1, .frames = { B("ok") },
	  .skipped = 1 },
	{ .name = "max-frame 3, skip: end of input inside a skipped frame",
	  .kind = PROTO_NETSTRING, .max = 3, .skip = 1,
	  .in = B("4:ab"), .fails = 2, .at = 4, .skipped = ANY,
	  .what = "end of input" },
	{ .name = "max-frame 3, skip: a skipped frame without its comma",
	  .kind = PROTO_NETSTRING, .max = 3, .skip = 1,
	  .in = B("4:abcd;"), .fails = 1, .at = 6, .skipped = ANY,
	  .what = "';'" },
	{ .name = "20-digit length fails at the 7th digit (default max)",
	  .kind = PROTO_NETSTRING,
	  .in = B("99999999999999999999:"), .fails = 1, .at = 6,
	  .what = "'9'" },
	{ .name = "22-digit length fails at the digit over 1M",
	  .kind = PROTO_NETSTRING,
	  .in = B("1234567890123456789012:"), .fails = 1, .at = 6,
	  .what = "'7'" },
	{ .name = "skip: a 20-digit length overflows 64 bits: error",
	  .kind = PROTO_NETSTRING, .max = 64, .skip = 1,
	  .in = B("99999999999999999999:"), .fails = 1, .at = 19,
	  .skipped = ANY, .what = "'9'" },
	{ .name = "skip: 2^64 overflows 64 bits: error",
	  .kind = PROTO_NETSTRING, .skip = 1,
	  .in = B("18446744073709551616:"), .fails = 1, .at = 19,
	  .skipped = ANY, .what = "'6'" },

	/* line, lf */
	{ .name = "two lines", .kind = PROTO_LINE,
	  .in = B("a\nb\n"), .nframes = 2, .frames = { B("a"), B("b") } },
	{ .name = "empty lines are frames", .kind = PROTO_LINE,
	  .in = B("\n\nx\n\n"), .nframes = 4,
	  .frames = { B(""), B(""), B("x"), B("") } },
	{ .name = "one empty line", .kind = PROTO_LINE,
	  .in = B("\n"), .nframes = 1, .frames = { B("") } },
	{ .name = "a last line without delimiter", .kind = PROTO_LINE,
	  .in = B("a\nbc"), .nframes = 2, .frames = { B("a"), B("bc") } },
	{ .name = "only a line without delimiter", .kind = PROTO_LINE,
	  .in = B("abc"), .nframes = 1, .frames = { B("abc") } },
	{ .name = "empty input", .kind = PROTO_LINE, .in = B("") },
	{ .name = "CR kept", .kind = PROTO_LINE,
	  .in = B("a\r\n\r\n"), .nframes = 2, .frames = { B("a\r"), B("\r") } },
	{ .name = "NULs and binary kept", .kind = PROTO_LINE,
	  .in = B("a\0b\n\0\n\xff\xfe\n"), .nframes = 3,
	  .frames = { B("a\0b"), B("\0"), B("\xff\xfe") } },
	/* line, crlf */
	{ .name = "CRLF lines", .kind = PROTO_LINE, .delim = "crlf",
	  .in = B("a\r\nb\r\n"), .nframes = 2, .frames = { B("a"), B("b") } },
	{ .name = "a bare LF ends a line", .kind = PROTO_LINE, .delim = "crlf",
	  .in = B("a\r\nb\nc\r\n"), .nframes = 3,
	  .frames = { B("a"), B("b"), B("c") } },
	{ .name = "a CR not before LF is kept", .kind = PROTO_LINE,
	  .delim = "crlf",
	  .in = B("a\rb\r\n\rc\n"), .nframes = 2,
	  .frames = { B("a\rb"), B("\rc") } },
	{ .name = "only one CR is dropped", .kind = PROTO_LINE,
	  .delim = "crlf",
	  .in = B("a\r\r\n\r\r\r\n"), .nframes = 2,
	  .frames = { B("a\r"), B("\r\r") } },
	{ .name = "empty lines", .kind = PROTO_LINE, .delim = "crlf",
	  .in = B("\r\n\n\r\n"), .nframes = 3,
	  .frames = { B(""), B(""), B("") } },
	{ .name = "a last line ending in CR keeps it", .kind = PROTO_LINE,
	  .delim = "crlf",
	  .in = B("a\r\nb\r"), .nframes = 2, .frames = { B("a"), B("b\r") } },
	{ .name = "a lone CR at the end is a line", .kind = PROTO_LINE,
	  .delim = "crlf",
	  .in = B("\r"), .nframes = 1, .frames = { B("\r") } },
	/* line, nul, a character, \xHH */
	{ .name = "NUL-separated", .kind = PROTO_LINE, .delim = "nul",
	  .in = B("a\0b\n\0\0c"), .nframes = 4,
	  .frames = { B("a"), B("b\n"), B(""), B("c") } },
	{ .name = "\\x00 is NUL", .kind = PROTO_LINE, .delim = "\\x00",
	  .in = B("a\0\n\0"), .nframes = 2, .frames = { B("a"), B("\n") } },
	{ .name = "one character", .kind = PROTO_LINE, .delim = ";",
	  .in = B("a;b\n;;c"), .nframes = 4,
	  .frames = { B("a"), B("b\n"), B(""), B("c") } },
	{ .name = "\\x2c is a comma", .kind = PROTO_LINE, .delim = "\\x2c",
	  .in = B("1,2,,3\r\n,"), .nframes = 4,
	  .frames = { B("1"), B("2"), B(""), B("3\r\n") } },
	{ .name = "\\xff", .kind = PROTO_LINE, .delim = "\\xff",
	  .in = B("a\xff\xfe\xff"), .nframes = 2,
	  .frames = { B("a"), B("\xfe") } },
	/* line: limits */
	{ .name = "max-frame 4: exactly 4 accepted", .kind = PROTO_LINE,
	  .max = 4, .in = B("abcd\n\nabcd"), .nframes = 3,
	  .frames = { B("abcd"), B(""), B("abcd") } },
	{ .name = "max-frame 4: 5 fails at the 5th byte", .kind = PROTO_LINE,
	  .max = 4, .in = B("abcde\n"), .fails = 1, .at = 4, .what = "'e'" },
	{ .name = "max-frame 4: 5 without delimiter fails", .kind = PROTO_LINE,
	  .max = 4, .in = B("abcde"), .fails = 1, .at = 4, .what = "'e'" },
	{ .name = "max-frame 4: the error offset counts earlier lines",
	  .kind = PROTO_LINE, .max = 4,
	  .in = B("ab\n\nabcdxyz\n"), .nframes = 2,
	  .frames = { B("ab"), B("") }, .fails = 1, .at = 8, .what = "'x'" },
	{ .name = "max-frame 4, skip: skipped through the delimiter",
	  .kind = PROTO_LINE, .max = 4, .skip = 1,
	  .in = B("abcde\nxy\n"), .nframes = 1, .frames = { B("xy") },
	  .skipped = 1 },
	{ .name = "max-frame 4, skip: long lines skipped, counted",
	  .kind = PROTO_LINE, .max = 4, .skip = 1,
	  .in = B("abcdefghij\nabcd\nabcde\n\n"), .nframes = 2,
	  .frames = { B("abcd"), B("") }, .skipped = 2 },
	{ .name = "max-frame 4, skip: an oversize last line is skipped",
	  .kind = PROTO_LINE, .max = 4, .skip = 1,
	  .in = B("ab\nabcdefg"), .nframes = 1, .frames = { B("ab") },
	  .skipped = 1 },
	{ .name = "max-frame 2, skip: a NUL line skipped", .kind = PROTO_LINE,
	  .delim = "nul", .max = 2, .skip = 1,
	  .in = B("abc\0de\0"), .nframes = 1, .frames = { B("de") },
	  .skipped = 1 },
	{ .name = "max-frame 4: exactly 4 before CRLF accepted",
	  .kind = PROTO_LINE, .delim = "crlf", .max = 4,
	  .in = B("abcd\r\nabcd\n"), .nframes = 2,
	  .frames = { B("abcd"), B("abcd") } },
	{ .name = "max-frame 4: 5 fails at the 5th byte", .kind = PROTO_LINE,
	  .delim = "crlf", .max = 4,
	  .in = B("abcde\r\n"), .fails = 1, .at = 4, .what = "'e'" },
	{ .name = "max-frame 4: 5 before a bare LF fails at the 5th byte",
	  .kind = PROTO_LINE, .delim = "crlf", .max = 4,
	  .in = B("abcde\n"), .fails = 1, .at = 4, .what = "'e'" },
	{ .name = "max-frame 4: 5 without delimiter fails at the 5th byte",
	  .kind = PROTO_LINE, .delim = "crlf", .max = 4,
	  .in = B("abcde"), .fails = 1, .at = 4, .what = "'e'" },
	{ .name = "max-frame 4: a CR that is not dropped fails at the "
	  "byte after it", .kind = PROTO_LINE, .delim = "crlf", .max = 4,
	  .in = B("abcd\rx\r\n"), .fails = 1, .at = 5, .what = "'x'" },
	{ .name = "max-frame 4: two CRs fail at the second",
	  .kind = PROTO_LINE, .delim = "crlf", .max = 4,
	  .in = B("abcd\r\r\n"), .fails = 1, .at = 5 },
	{ .name = "max-frame 4: 4 and a CR at the end fail at the CR",
	  .kind = PROTO_LINE, .delim = "crlf", .max = 4,
	  .in = B("ab\r\nabcd\r"), .nframes = 1, .frames = { B("ab") },
	  .fails = 2, .at = 8 },
	{ .name = "max-frame 4, skip: 4 and a CR at the end skipped",
	  .kind = PROTO_LINE, .delim = "crlf", .max = 4, .skip = 1,
	  .in = B("ab\r\nabcd\r"), .nframes = 1, .frames = { B("ab") },
	  .skipped = 1 },
	{ .name = "max-frame 4, skip: CRLF line skipped", .kind = PROTO_LINE,
	  .delim = "crlf", .max = 4, .skip = 1,
	  .in = B("abcde\r\nxy\r\nabcd\r\r\nz\n"), .nframes = 2,
	  .frames = { B("xy"), B("z") }, .skipped = 2 },
};

static void
test_encode(void)
{
	static const struct {
		enum proto_kind	 kind;
		const char	*delim;
		struct bytes	 in, out;
	} encs[] = {
		{ PROTO_RELAY, NULL, B("a\0b\n"), B("a\0b\n") },
		{ PROTO_RELAY, NULL, B(""), B("") },
		{ PROTO_LINE, "lf", B("abc"), B("abc\n") },
		{ PROTO_LINE, "lf", B(""), B("\n") },
		{ PROTO_LINE, "crlf", B("abc"), B("abc\r\n") },
		{ PROTO_LINE, "crlf", B(""), B("\r\n") },
		{ PROTO_LINE, "crlf", B("a\r"), B("a\r\r\n") },
		{ PROTO_LINE, "nul", B("a\nb"), B("a\nb\0") },
		{ PROTO_LINE, ";", B("x"), B("x;") },
		{ PROTO_LINE, "\\x2c", B("x"), B("x,") },
		{ PROTO_NETSTRING, NULL, B(""), B("0:,") },
		{ PROTO_NETSTRING, NULL, B("abc"), B("3:abc,") },
		{ PROTO_NETSTRING, NULL, B("1:a,"), B("4:1:a,,") },
		{ PROTO_NETSTRING, NULL, B("0123456789"),
		  B("10:0123456789,") },
	};
	struct proto_opts	 o;
	char			 buf[1100], big[1000], hdr[16];
	size_t			 i, n, sz;

	for (i = 0; i < sizeof encs / sizeof encs[0]; i++) {
		make_opts(&o, encs[i].kind, encs[i].delim, 0, 0);
		sz = proto_enc_size(&o, encs[i].in.n);
		check(sz == encs[i].out.n, "%s %s: size %zu, expected %zu",
		    proto_name(encs[i].kind), esc(encs[i].in.p, encs[i].in.n),
		    sz, encs[i].out.n);
		memset(buf, 'Z', sizeof buf);
		n = proto_enc_write(&o, buf, encs[i].in.p, encs[i].in.n);
		check(n == encs[i].out.n && memcmp(buf, encs[i].out.p, n) == 0,
		    "%s %s: wrote %s, expected %s", proto_name(encs[i].kind),
		    esc(encs[i].in.p, encs[i].in.n), esc(buf, n),
		    esc(encs[i].out.p, encs[i].out.n));
		check(buf[encs[i].out.n] == 'Z', "%s %s: wrote past the end",
		    proto_name(encs[i].kind), esc(encs[i].in.p,
		    encs[i].in.n));
	}
	make_opts(&o, PROTO_NETSTRING, NULL, 0, 0);
	memset(big, 'x', sizeof big);
	snprintf(hdr, sizeof hdr, "%zu:", sizeof big);
	sz = proto_enc_size(&o, sizeof big);
	n = proto_enc_write(&o, buf, big, sizeof big);
	check(sz == strlen(hdr) + sizeof big + 1 && n == sz &&
	    memcmp(buf, hdr, strlen(hdr)) == 0 && buf[n - 1] == ',' &&
	    memcmp(buf + strlen(hdr), big, sizeof big) == 0,
	    "netstring of 1000 bytes: size %zu, wrote %zu", sz, n);
	check(proto_enc_size(&o, 1048576) == 7 + 1 + 1048576 + 1,
	    "netstring size of 1 MiB: %zu", proto_enc_size(&o, 1048576));
	point("encoders: relay, line (lf, crlf, nul, ';', \\x2c), netstring");
}

static void
test_relay(void)
{
	static const struct bytes	 ab[] = { B("ab"), B("c\0\n"), B("d") },
					 abc[] = { B("ab\0c\nd") };
	static const struct expect	 three = { ab, 3, 0, 0, 0, NULL },
					 whole = { abc, 1, 0, 0, 0, NULL };
	struct proto_opts		 o;
	struct proto_dec		*d;
	struct proto_frame		 f;
	struct result			 r;
	enum proto_status		 st;
	size_t				 sz[] = { 2, 3, 1 }, used;

	make_opts(&o, PROTO_RELAY, NULL, 0, 0);
	memset(&r, 0, sizeof r);
	decode(&o, "abc\0\nd", 6, sz, 3, &r);
	compare(&r, &three, NULL, "relay in 3 feeds");
	sz[0] = 6;
	decode(&o, "ab\0c\nd", 6, sz, 1, &r);
	compare(&r, &whole, NULL, "relay in one feed");
	free(r.data);
	free(r.lens);

	d = proto_dec_new(&o);
	check(proto_dec_idle(d) == 1, "relay: a new decoder is not idle");
	st = proto_dec_feed(d, "xyz", 3, &used, &f);
	check(st == PROTO_FRAME && used == 3 && f.len == 3 &&
	    memcmp(f.data, "xyz", 3) == 0,
	    "relay: feed of \"xyz\" gave %d, used %zu, len %zu", (int)st,
	    used, f.len);
	check(proto_dec_idle(d) == 1, "relay: not idle after a frame");
	check(proto_dec_end(d, &f) == PROTO_MORE, "relay: end is not MORE");
	check(proto_dec_skipped(d) == 0, "relay: skipped something");
	proto_dec_free(d);
	proto_dec_free(NULL);
	point("relay: each feed is one frame, end gives nothing; "
	    "proto_dec_free(NULL)");
}

static void
test_names(void)
{
	static const char *const bad_names[] = {
		"", "Line", "lines", "net", "netstrings", "relay ", "raw", "lf"
	};
	static const struct {
		const char	*name;
		enum proto_kind	 kind;
	} names[] = {
		{ "relay", PROTO_RELAY },
		{ "line", PROTO_LINE },
		{ "netstring", PROTO_NETSTRING },
	};
	enum proto_kind	 k;
	size_t		 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		k = (enum proto_kind)99;
		check(proto_parse_name(names[i].name, &k) == 0 &&
		    k == names[i].kind, "proto_parse_name(\"%s\") failed",
		    names[i].name);
		check(proto_name(names[i].kind) != NULL &&
		    strcmp(proto_name(names[i].kind), names[i].name) == 0,
		    "proto_name(%d) is not \"%s\"", (int)names[i].kind,
		    names[i].name);
	}
	for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
		check(proto_parse_name(bad_names[i], &k) == -1,
		    "proto_parse_name(\"%s\") accepted", bad_names[i]);
	point("proto_parse_name and proto_name");
}

static void
test_delims(void)
{
	static const struct {
		const char	*s;
		unsigned char	 delim;
		int		 crlf;
	} good[] = {
		{ "lf", '\n', 0 },
		{ "crlf", '\n', 1 },
		{ "nul", '\0', 0 },
		{ ";", ';', 0 },
		{ "x", 'x', 0 },
		{ "|", '|', 0 },
		{ "\t", '\t', 0 },
		{ "\\x2c", ',', 0 },
		{ "\\x00", '\0', 0 },
		{ "\\x0a", '\n', 0 },
		{ "\\x7f", 0x7f, 0 },
		{ "\\xff", 0xff, 0 },
		{ "\\xAB", 0xab, 0 },
	};
	static const char *const bad_delims[] = {
		"", "ab", "\\x", "\\x2", "\\x2g", "\\xg2", "\\x123", "\\y2c",
		"crlf ", "lff", "nul0", "\\x-1"
	};
	struct proto_opts	 o;
	size_t			 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		make_opts(&o, PROTO_LINE, NULL, 0, 0);
		o.delim = 'Q';
		o.crlf = !good[i].crlf;
		check(proto_parse_delim(good[i].s, &o) == 0 &&
		    o.delim == good[i].delim && o.crlf == good[i].crlf,
		    "proto_parse_delim(%s): delim 0x%02x crlf %d, expected "
		    "0x%02x %d", esc(good[i].s, strlen(good[i].s)), o.delim,
		    o.crlf, good[i].delim, good[i].crlf);
	}
	for (i = 0; i < sizeof bad_delims / sizeof bad_delims[0]; i++) {
		make_opts(&o, PROTO_LINE, NULL, 0, 0);
		check(proto_parse_delim(bad_delims[i], &o) == -1,
		    "proto_parse_delim(%s) accepted",
		    esc(bad_delims[i], strlen(bad_delims[i])));
	}
	point("proto_parse_delim accepts lf, crlf, nul, a character, \\xHH; "
	    "rejects the rest");
}

static void
test_idle(void)
{
	struct proto_opts	 o;
	struct proto_dec	*d;
	struct proto_frame	 f;
	size_t			 used;

	make_opts(&o, PROTO_LINE, NULL, 0, 0);
	d = proto_dec_new(&o);
	check(proto_dec_idle(d) == 1, "line: new decoder not idle");
	check(proto_dec_feed(d, "ab", 2, &used, &f) == PROTO_MORE,
	    "line: \"ab\" is not MORE");
	check(proto_dec_idle(d) == 0, "line: idle holding \"ab\"");
	check(proto_dec_feed(d, "\n", 1, &used, &f) == PROTO_FRAME &&
	    used == 1 && f.len == 2 && memcmp(f.data, "ab", 2) == 0,
	    "line: \"\\n\" after \"ab\" did not give \"ab\"");
	check(proto_dec_idle(d) == 1, "line: not idle after a frame");
	check(proto_dec_end(d, &f) == PROTO_MORE, "line: end not MORE");
	proto_dec_free(d);

	make_opts(&o, PROTO_LINE, "crlf", 0, 0);
	d = proto_dec_new(&o);
	check(proto_dec_feed(d, "\r", 1, &used, &f) == PROTO_MORE,
	    "crlf: \"\\r\" is not MORE");
	check(proto_dec_idle(d) == 0, "crlf: idle holding a CR");
	check(proto_dec_end(d, &f) == PROTO_FRAME && f.len == 1 &&
	    f.data[0] == '\r', "crlf: a CR at the end is not the frame");
	proto_dec_free(d);

	make_opts(&o, PROTO_NETSTRING, NULL, 0, 0);
	d = proto_dec_new(&o);
	check(proto_dec_idle(d) == 1, "netstring: new decoder not idle");
	check(proto_dec_feed(d, "1", 1, &used, &f) == PROTO_MORE &&
	    proto_dec_idle(d) == 0, "netstring: idle in the length");
	check(proto_dec_feed(d, ":", 1, &used, &f) == PROTO_MORE &&
	    proto_dec_idle(d) == 0, "netstring: idle after the colon");
	check(proto_dec_feed(d, "a", 1, &used, &f) == PROTO_MORE &&
	    proto_dec_idle(d) == 0, "netstring: idle before the comma");
	check(proto_dec_feed(d, ",", 1, &used, &f) == PROTO_FRAME &&
	    used == 1 && f.len == 1 && f.data[0] == 'a',
	    "netstring: the comma did not give \"a\"");
	check(proto_dec_idle(d) == 1, "netstring: not idle after a frame");
	check(proto_dec_end(d, &f) == PROTO_MORE, "netstring: end not MORE");
	proto_dec_free(d);

	make_opts(&o, PROTO_NETSTRING, NULL, 3, 1);
	d = proto_dec_new(&o);
	check(proto_dec_feed(d, "5:ab", 4, &used, &f) == PROTO_MORE &&
	    proto_dec_idle(d) == 0, "netstring: idle inside a skipped frame");
	proto_dec_free(d);
	point("proto_dec_idle: only at a frame boundary with nothing held");
}

static void
test_sticky(void)
{
	struct proto_opts	 o;
	struct proto_dec	*d;
	struct proto_frame	 f;
	const char		*e;
	char			 first[256];
	size_t			 used;
	enum proto_status	 st;

	make_opts(&o, PROTO_NETSTRING, NULL, 0, 0);
	d = proto_dec_new(&o);
	st = proto_dec_feed(d, "1:a,x1:b,", 9, &used, &f);
	check(st == PROTO_FRAME && used == 4, "\"1:a,x\" did not give a "
	    "frame first (status %d, used %zu)", (int)st, used);
	st = proto_dec_feed(d, "x1:b,", 5, &used, &f);
	check(st == PROTO_ERROR, "\"x\" did not fail (status %d)", (int)st);
	e = proto_dec_error(d);
	check(e != NULL && strncmp(e, "netstring: ", 11) == 0 &&
	    strstr(e, ", at byte 4") != NULL && strstr(e, "'x'") != NULL,
	    "message %s", e ? esc(e, strlen(e)) : "NULL");
	snprintf(first, sizeof first, "%s", e ? e : "");
	check(proto_dec_feed(d, "1:b,", 4, &used, &f) == PROTO_ERROR,
	    "a good frame after the error did not fail");
	check(proto_dec_feed(d, "", 0, &used, &f) == PROTO_ERROR,
	    "an empty feed after the error did not fail");
	check(proto_dec_end(d, &f) == PROTO_ERROR, "end did not fail");
	check(proto_dec_end(d, &f) == PROTO_ERROR, "end again did not fail");
	e = proto_dec_error(d);
	check(e != NULL && strcmp(e, first) == 0, "the message changed: %s",
	    e ? esc(e, strlen(e)) : "NULL");
	proto_dec_free(d);

	make_opts(&o, PROTO_LINE, NULL, 2, 0);
	d = proto_dec_new(&o);
	st = proto_dec_feed(d, "ab\nxyz\n", 7, &used, &f);
	check(st == PROTO_FRAME && used == 3, "line: \"ab\\n\" first");
	st = proto_dec_feed(d, "xyz\n", 4, &used, &f);
	e = proto_dec_error(d);
	check(st == PROTO_ERROR && e != NULL &&
	    strncmp(e, "line: ", 6) == 0 && strstr(e, ", at byte 5") &&
	    strstr(e, "'z'") != NULL, "line: status %d, message %s",
	    (int)st, e ? esc(e, strlen(e)) : "NULL");
	check(proto_dec_feed(d, "\n", 1, &used, &f) == PROTO_ERROR &&
	    proto_dec_end(d, &f) == PROTO_ERROR,
	    "line: not sticky");
	proto_dec_free(d);
	point("errors are sticky, messages \"<proto>: <what>, at byte N\" "
	    "with the byte escaped");
}

static void
test_pass(void)
{
	struct proto_opts	 o;
	struct proto_dec	*d;
	struct proto_frame	 f;
	const char		*e;
	uint64_t		 at;
	size_t			 used;

	make_opts(&o, PROTO_NETSTRING, NULL, 0, 0);
	d = proto_dec_new(&o);
	proto_dec_pass(d, 100, 3);
	check(proto_dec_idle(d) == 1, "not idle after proto_dec_pass");
	check(proto_dec_feed(d, "1:a,!", 5, &used, &f) == PROTO_FRAME &&
	    used == 4 && f.len == 1, "\"1:a,\" after pass is not a frame");
	check(proto_dec_feed(d, "!", 1, &used, &f) == PROTO_ERROR,
	    "\"!\" after pass did not fail");
	e = proto_dec_error(d);
	check(e != NULL && parse_at(e, &at) == 0 && at == 104,
	    "after passing 100 bytes: %s, expected at byte 104",
	    e ? esc(e, strlen(e)) : "NULL");
	proto_dec_free(d);
	point("proto_dec_pass moves the offset in error messages");
}

/* A long length fails when its digits arrive: nothing more is needed. */
static void
test_digits(void)
{
	static const struct {
		size_t		 max;
		int		 skip;
		const char	*digits;
		size_t		 fail;	/* index of the digit that fails */
	} t[] = {
		{ 0, 0, "99999999999999999999", 6 },
		{ 0, 0, "10485761", 7 },
		{ 0, 0, "1048577", 6 },
		{ 64, 0, "99999999999999999999", 1 },
		{ 64, 0, "65", 1 },
		{ 1, 0, "2", 0 },
		{ 64, 1, "99999999999999999999", 19 },
	};
	struct proto_opts	 o;
	struct proto_dec	*d;
	struct proto_frame	 f;
	enum proto_status	 st;
	uint64_t		 at;
	const char		*e;
	size_t			 i, k, len, used;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		len = strlen(t[i].digits);
		make_opts(&o, PROTO_NETSTRING, NULL, t[i].max, t[i].skip);
		/* Whole: one feed of the digits alone fails. */
		d = proto_dec_new(&o);
		st = proto_dec_feed(d, t[i].digits, len, &used, &f);
		e = proto_dec_error(d);
		check(st == PROTO_ERROR && e != NULL && parse_at(e, &at) == 0
		    && at == t[i].fail, "max %zu skip %d, %s fed whole: "
		    "status %d, %s, expected an error at byte %zu", t[i].max,
		    t[i].skip, t[i].digits, (int)st,
		    e ? esc(e, strlen(e)) : "NULL", t[i].fail);
		proto_dec_free(d);
		/* Byte by byte: the failing digit's feed fails, not later. */
		d = proto_dec_new(&o);
		for (k = 0; k < len; k++) {
			st = proto_dec_feed(d, t[i].digits + k, 1, &used, &f);
			if (st != PROTO_MORE)
				break;
		}
		check(st == PROTO_ERROR && k == t[i].fail,
		    "max %zu skip %d, %s byte by byte: status %d at digit "
		    "%zu, expected an error at digit %zu", t[i].max, t[i].skip,
		    t[i].digits, (int)st, k, t[i].fail);
		proto_dec_free(d);
	}
	point("netstring: an oversize length fails as its digits arrive");
}

/* The default limit, 1 MiB, with lines and netstrings of that size. */
static void
test_big(void)
{
	enum { M = PROTO_DEFAULT_MAX_FRAME };
	struct proto_opts	 o;
	struct expect		 e;
	struct bytes		 fr[2];
	char			*in;
	int			 n;

	if ((in = malloc(M + 64)) == NULL)
		abort();

	make_opts(&o, PROTO_LINE, NULL, 0, 0);
	memset(in, 'a', M);
	in[M] = '\n';
	memcpy(in + M + 1, "ok\n", 3);
	fr[0].p = in;
	fr[0].n = M;
	fr[1].p = "ok";
	fr[1].n = 2;
	memset(&e, 0, sizeof e);
	e.frames = fr;
	e.nframes = 2;
	run_modes(&o, in, M + 4, &e, 2);
	point("line of exactly max-frame (1 MiB, the default) accepted");

	in[M] = 'b';
	in[M + 1] = '\n';
	memset(&e, 0, sizeof e);
	e.fails = 1;
	e.at = M;
	e.what = "'b'";
	run_modes(&o, in, M + 2, &e, 2);
	point("line of max-frame + 1 (1 MiB + 1) fails at byte %d", M);

	make_opts(&o, PROTO_LINE, NULL, 0, 1);
	memcpy(in + M + 2, "ok\n", 3);
	memset(&e, 0, sizeof e);
	e.frames = fr + 1;
	e.nframes = 1;
	e.skipped = 1;
	run_modes(&o, in, M + 5, &e, 2);
	point("line of max-frame + 1 skipped and counted with skip");

	make_opts(&o, PROTO_NETSTRING, NULL, 0, 0);
	n = sprintf(in, "%d:", M);
	memset(in + n, 'z', M);
	in[n + M] = ',';
	fr[0].p = in + n;
	fr[0].n = M;
	memset(&e, 0, sizeof e);
	e.frames = fr;
	e.nframes = 1;
	run_modes(&o, in, (size_t)n + M + 1, &e, 2);
	point("netstring of exactly max-frame (1 MiB) accepted");

	n = sprintf(in, "%d:", M + 1);
	memset(in + n, 'z', M + 1);
	in[n + M + 1] = ',';
	memset(&e, 0, sizeof e);
	e.fails = 1;
	e.at = 6;
	e.what = "'7'";
	run_modes(&o, in, (size_t)n + M + 2, &e, 2);
	point("netstring of max-frame + 1 fails at the last digit");

	make_opts(&o, PROTO_NETSTRING, NULL, 0, 1);
	memcpy(in + n + M + 2, "2:ok,", 5);
	memset(&e, 0, sizeof e);
	e.frames = fr + 1;
	e.nframes = 1;
	e.skipped = 1;
	run_modes(&o, in, (size_t)n + M + 7, &e, 2);
	point("netstring of max-frame + 1 skipped and counted with skip");
	free(in);
}

/* Encoding then decoding random payloads gives them back. */
static void
test_roundtrip(const char *desc, enum proto_kind kind, const char *delim)
{
	enum { NPAY = 400 };
	static const char	 special[] = "\0\r\n,:09;\\";
	static const struct bytes fixed[] = {
		B(""), B("\0"), B("\r"), B("\n"), B("\r\n"), B("a\rb"),
		B("\n\r"), B("0:,"), B("\r\r\n\n"), B("12"), B(",")
	};
	struct proto_opts	 o;
	struct expect		 e;
	struct bytes		*pl;
	char			*buf, *pay, *p;
	size_t			 i, j, n, total, off, w;
	int			 ok = 1;

	make_opts(&o, kind, delim, 0, 0);
	if ((pl = calloc(NPAY, sizeof *pl)) == NULL ||
	    (pay = malloc(NPAY * 1500)) == NULL)
		abort();
	p = pay;
	for (i = 0; i < NPAY; i++) {
		if (i < sizeof fixed / sizeof fixed[0]) {
			n = fixed[i].n;
			memcpy(p, fixed[i].p, n);
		} else {
			n = rng() % 10 < 8 ? rng() % 40 : rng() % 1500;
			for (j = 0; j < n; j++)
				p[j] = rng() % 3 == 0 ? special[rng() %
				    (sizeof special - 1)] : (char)rng();
		}
		if (kind == PROTO_LINE) {
			for (j = 0; j < n; j++)
				if ((unsigned char)p[j] == o.delim)
					p[j] = 'x';
			if (o.crlf && n > 0 && p[n - 1] == '\r')
				p[n - 1] = 'y';
		}
		pl[i].p = p;
		pl[i].n = n;
		p += n;
	}

	for (i = 0, total = 0; i < NPAY; i++)
		total += proto_enc_size(&o, pl[i].n);
	if ((buf = malloc(total + 1)) == NULL)
		abort();
	buf[total] = 'Z';
	for (i = 0, off = 0; i < NPAY; i++) {
		w = proto_enc_write(&o, buf + off, pl[i].p, pl[i].n);
		if (w != proto_enc_size(&o, pl[i].n)) {
			ok = 0;
			break;
		}
		off += w;
	}
	check(ok && off == total && buf[total] == 'Z',
	    "%s: encoding wrote %zu of %zu bytes", desc, off, total);

	memset(&e, 0, sizeof e);
	e.frames = pl;
	e.nframes = NPAY;
	if (ok)
		run_modes(&o, buf, total, &e, 0);
	point("round trip %s: %d random payloads (NUL, CR, LF, digits) "
	    "encoded then decoded", desc, NPAY);
	free(buf);
	free(pay);
	free(pl);
}

int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		test_vec(&vecs[i]);
	test_digits();
	test_big();
	test_encode();
	test_relay();
	test_names();
	test_delims();
	test_idle();
	test_sticky();
	test_pass();
	test_roundtrip("line lf", PROTO_LINE, "lf");
	test_roundtrip("line crlf", PROTO_LINE, "crlf");
	test_roundtrip("line nul", PROTO_LINE, "nul");
	test_roundtrip("line ';'", PROTO_LINE, ";");
	test_roundtrip("line \\x2c", PROTO_LINE, "\\x2c");
	test_roundtrip("netstring", PROTO_NETSTRING, NULL);

	free(chunks);
	return tap_end();
}
