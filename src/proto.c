/*
 * One direction's framing over libevent buffers: the producer's decoder
 * cuts frames, the consumer's encoder writes them.  Two paths avoid the
 * codec's per-frame work where the bytes would come out unchanged:
 * relay to relay moves buffer chains, and line to line with the same
 * one-byte delimiter moves whole runs of lines once their delimiters
 * are counted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
/* Counting delimiters: AVX2 where the processor has it (asked at run time). */
#if defined(__x86_64__) && defined(__GNUC__)
#define COUNT_AVX2	1
#include <immintrin.h>
#endif

#include <event2/buffer.h>

#include "proto.h"
#include "util.h"

/* Encoded frames are written into reserved space this large at a time. */
#define OUT_CHUNK	(64 * 1024)
/* A relay read smaller than this is copied on, not moved in its chain. */
#define PACK_MAX	4096
/* Whole lines in less of a chain than this are copied on, not pinned. */
#define PIN_MIN		4096

struct proto {
	struct proto_opts	 in;
	struct proto_opts	 out;
	struct proto_dec	*dec;
	int			 pass;		/* relay to relay */
	int			 run;		/* line to the same line */
	int			 keep;		/* note where each frame ends */
	size_t			 msg_max;	/* the largest message out */
	int			 msg_in;	/* each read is a message */
	size_t			*lens;		/* of the last forward's frames */
	size_t			 nlens;
	size_t			 cap;
	char			*err;
};

/* Reserved space in the consumer's buffer, filled frame after frame. */
struct outbuf {
	struct evbuffer		*buf;
	struct evbuffer_iovec	 v;
	size_t			 used;
	int			 open;
};

static char	*ob_room(struct outbuf *, size_t);
static void	 ob_commit(struct outbuf *);
static int	 run_lines(struct proto *, struct evbuffer *, struct evbuffer *,
		    uint64_t, uint64_t *);
static inline int scan_lines(struct proto *, struct evbuffer *,
		    struct evbuffer *, uint64_t, uint64_t *, int);
static void	 move_lines(struct evbuffer *, struct evbuffer *, size_t,
		    const struct evbuffer_iovec *);
static void	 unpin(const void *, size_t, void *);
static size_t	 count_delims(const char *, size_t, char);
#ifdef COUNT_AVX2
static size_t	 count_delims_avx2(const char *, size_t, char);
#endif
static void	 encode(struct proto *, struct outbuf *, const char *, size_t);
static void	 more_lens(struct proto *);
static inline void add_len(struct proto *, size_t);
static void	 relay(struct proto *, struct outbuf *, struct evbuffer *, int,
		    uint64_t, uint64_t *);

/*
 * One direction: frames decoded as in says, encoded as out says.  With
 * msg_in the producer carries messages: each forward's input is one
 * frame, empty ones included.  With msg_max the consumer carries
 * messages of at most that many bytes: where each encoded frame ends is
 * noted, relay reads are cut to that size, and a longer decoded frame
 * is oversize, as one over max-frame is.
 */
struct proto *
proto_new(const struct proto_opts *in, const struct proto_opts *out,
    int msg_in, size_t msg_max)
{
	struct proto	*p;

	p = xcalloc(1, sizeof *p);
	p->in = *in;
	p->out = *out;
	if (msg_max != 0 && in->kind != PROTO_RELAY &&
	    p->in.max_frame > msg_max)
		p->in.max_frame = msg_max;
	p->dec = proto_dec_new(&p->in);
	p->pass = in->kind == PROTO_RELAY && out->kind == PROTO_RELAY;
	p->keep = msg_max != 0;
	p->run = in->kind == PROTO_LINE && out->kind == PROTO_LINE &&
	    !in->crlf && !out->crlf && in->delim == out->delim;
	p->msg_max = msg_max;
	p->msg_in = msg_in;
	return p;
}

void
proto_free(struct proto *p)
{
	if (p == NULL)
		return;
	proto_dec_free(p->dec);
	free(p->lens);
	free(p->err);
	free(p);
}

const char *
proto_error(const struct proto *p)
{
	return p->err;
}

uint64_t
proto_partial(const struct proto *p)
{
	return proto_dec_partial(p->dec);
}

uint64_t
proto_skipped(const struct proto *p)
{
	return proto_dec_skipped(p->dec);
}

static char *
ob_room(struct outbuf *ob, size_t need)
{
	if (ob->open && ob->v.iov_len - ob->used >= need)
		return (char *)ob->v.iov_base + ob->used;
	ob_commit(ob);
	if (evbuffer_reserve_space(ob->buf, (ev_ssize_t)(need > OUT_CHUNK ?
	    need : OUT_CHUNK), &ob->v, 1) != 1)
		xoom();
	ob->open = 1;
	ob->used = 0;
	return ob->v.iov_base;
}

static void
ob_commit(struct outbuf *ob)
{
	if (!ob->open)
		return;
	ob->v.iov_len = ob->used;
	evbuffer_commit_space(ob->buf, &ob->v, 1);
	ob->open = 0;
}

/* The lengths of the frames the last proto_forward moved, if kept. */
const size_t *
proto_frames(const struct proto *p, size_t *n)
{
	*n = p->nlens;
	return p->lens;
}

static void
more_lens(struct proto *p)
{
	p->cap = p->cap == 0 ? 16 : p->cap * 2;
	p->lens = xrealloc(p->lens, p->cap * sizeof *p->lens);
}

/* Note a frame's length (per line on the run path: growing is apart). */
static inline void
add_len(struct proto *p, size_t len)
{
	if (p->nlens == p->cap)
		more_lens(p);
	p->lens[p->nlens++] = len;
}

static void
note_frame(struct proto *p, size_t len)
{
	if (p->keep)
		add_len(p, len);
}

static void
encode(struct proto *p, struct outbuf *ob, const char *data, size_t len)
{
	size_t	 need = proto_enc_size(&p->out, len), n;

	n = proto_enc_write(&p->out, ob_room(ob, need), data, len);
	ob->used += n;
	note_frame(p, n);
}

/*
 * One read is one frame, however many chains it filled (a message in
 * is one even when empty; at eof nothing is left of it), cut into
 * pieces that each fit one message out.
 */
static void
relay(struct proto *p, struct outbuf *ob, struct evbuffer *in, int eof,
    uint64_t max, uint64_t *got)
{
	size_t	 len = evbuffer_get_length(in), n;

	if (max == 0 || (len == 0 && (!p->msg_in || eof)))
		return;
	do {
		n = p->msg_max != 0 && len > p->msg_max ? p->msg_max : len;
		if (p->pass && n >= PACK_MAX) {
			note_frame(p, n);
			evbuffer_remove_buffer(in, ob->buf, n);
		} else if (p->pass) {
			/* Packed: a chain of its own would hold a whole read. */
			note_frame(p, n);
			evbuffer_add(ob->buf, evbuffer_pullup(in, (ev_ssize_t)n),
			    n);
			evbuffer_drain(in, n);
		} else {
			encode(p, ob, (const char *)evbuffer_pullup(in,
			    (ev_ssize_t)n), n);
			evbuffer_drain(in, n);
		}
		len -= n;
		(*got)++;
	} while (len > 0);
}

/*
 * Move the whole lines at the head of in to out as they are, counting
 * them (noting each, if kept) and checking each against max-frame, at
 * most room of them.
 * Returns 1 when something moved, 0 when only part of a line is there,
 * -1 when the first line is too long (the decoder then reports or skips).
 */
static int
run_lines(struct proto *p, struct evbuffer *in, struct evbuffer *out,
    uint64_t room, uint64_t *frames)
{
	/*
	 * The loop made twice: where no lengths are kept (standard output)
	 * it does not ask, line after line, whether to note them.
	 */
	if (p->keep)
		return scan_lines(p, in, out, room, frames, 1);
	return scan_lines(p, in, out, room, frames, 0);
}

/* Where a scan of whole lines is: what it has found so far. */
struct scan {
	size_t		 cur;	/* of the line open where the extent starts */
	size_t		 total;	/* in the extents before this one */
	size_t		 whole;	/* up to and with the last delimiter found */
	uint64_t	 count;
	uint64_t	 room;
};

/*
 * How many delimiters are in len bytes at q.  Lines are tens of bytes:
 * one memchr a line spends more on its call than on its search, and a
 * count of 16 (or, with AVX2, 32) bytes at a time does not.
 */
static size_t
count_delims(const char *q, size_t len, char delim)
{
	size_t		 n = 0, i = 0;
#ifdef __SSE2__
	const __m128i	 d = _mm_set1_epi8(delim), zero = _mm_setzero_si128();
	__m128i		 acc;
	int		 k;

#ifdef COUNT_AVX2
	if (len >= 32 && __builtin_cpu_supports("avx2"))
		return count_delims_avx2(q, len, delim);
#endif
	while (len - i >= 16) {
		/* Each byte of acc counts to at most 255. */
		acc = zero;
		for (k = 0; k < 255 && len - i >= 16; k++, i += 16)
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128(
			    (const __m128i *)(const void *)(q + i)), d));
		acc = _mm_sad_epu8(acc, zero);
		n += (size_t)_mm_cvtsi128_si32(acc) +
		    (size_t)_mm_extract_epi16(acc, 4);
	}
#endif
	for (; i < len; i++)
		n += q[i] == delim;
	return n;
}

#ifdef COUNT_AVX2
/* count_delims 32 bytes at a time, where the processor has AVX2. */
__attribute__((target("avx2"))) static size_t
count_delims_avx2(const char *q, size_t len, char delim)
{
	const __m256i	 d = _mm256_set1_epi8(delim);
	const __m256i	 zero = _mm256_setzero_si256();
	__m256i		 acc;
	size_t		 n = 0, i = 0;
	int		 k;

	while (len - i >= 32) {
		acc = zero;
		for (k = 0; k < 255 && len - i >= 32; k++, i += 32)
			acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(
			    _mm256_loadu_si256((const __m256i *)(const void *)
			    (q + i)), d));
		acc = _mm256_sad_epu8(acc, zero);
		n += (size_t)_mm256_extract_epi64(acc, 0) +
		    (size_t)_mm256_extract_epi64(acc, 1) +
		    (size_t)_mm256_extract_epi64(acc, 2) +
		    (size_t)_mm256_extract_epi64(acc, 3);
	}
	return n + count_delims(q + i, len - i, delim);
}
#endif

/*
 * The lines of one extent: counted, noted if keep, checked against
 * max-frame.  Returns -1 at a line too long, 1 once room lines are
 * counted, else 0.  Where nothing is noted, the extent goes in pieces
 * that no line can outgrow (max-frame, less the line open before):
 * counting a piece's delimiters and finding its last one is enough.
 * The rest, if any (a line at max-frame, or room reached), is walked
 * a line at a time.
 */
static inline int
scan_extent(struct proto *p, struct scan *s, const char *q, size_t len,
    int keep)
{
	const char	*end = q + len, *nl;
	size_t		 n, c;

	while (!keep && q < end && s->cur < p->in.max_frame) {
		c = p->in.max_frame - s->cur;
		if (c > (size_t)(end - q))
			c = (size_t)(end - q);
		if ((n = count_delims(q, c, p->in.delim)) > s->room - s->count)
			break;
		if (n > 0) {
			nl = memrchr(q, p->in.delim, c);
			s->count += n;
			s->whole = s->total + (size_t)(nl - q) + 1;
			s->cur = (size_t)(q + c - nl) - 1;
		} else
			s->cur += c;
		s->total += c;
		q += c;
		if (s->count == s->room)
			return 1;
	}
	len = (size_t)(end - q);
	while ((nl = memchr(q, p->in.delim, (size_t)(end - q))) != NULL) {
		s->cur += (size_t)(nl - q);
		if (s->cur > p->in.max_frame)
			return -1;
		if (keep)
			add_len(p, s->cur + 1);
		s->cur = 0;
		q = nl + 1;
		s->whole = s->total + (size_t)(q - (end - len));
		if (++s->count == s->room)
			return 1;
	}
	s->cur += (size_t)(end - q);
	s->total += len;
	return s->cur > p->in.max_frame ? -1 : 0;
}

static inline int
scan_lines(struct proto *p, struct evbuffer *in, struct evbuffer *out,
    uint64_t room, uint64_t *frames, int keep)
{
	struct evbuffer_iovec	 stack[16], *v = stack;
	struct scan		 s = { 0, 0, 0, 0, room };
	int			 n, i, rv = 0;

	n = evbuffer_peek(in, -1, NULL, NULL, 0);
	if (n > (int)(sizeof stack / sizeof stack[0]))
		v = xcalloc((size_t)n, sizeof *v);
	n = evbuffer_peek(in, -1, NULL, v, n);
	for (i = 0; i < n && rv == 0; i++)
		rv = scan_extent(p, &s, v[i].iov_base, v[i].iov_len, keep);
	if (s.whole > 0)
		move_lines(in, out, s.whole, v);
	if (v != stack)
		free(v);
	if (s.whole == 0)
		return rv == -1 ? -1 : 0;
	proto_dec_pass(p->dec, s.whole, s.count);
	*frames += s.count;
	return 1;
}

/*
 * Move the first n bytes of in (its extents v) to out.  libevent copies
 * the part of a chain it splits, and a read's last line is nearly always
 * split from the lines before it: so where that part is the larger, the
 * chain is pinned instead, out takes a reference to the part (the chain
 * is freed once it is written) and the rest is copied back to in.
 */
static void
move_lines(struct evbuffer *in, struct evbuffer *out, size_t n,
    const struct evbuffer_iovec *v)
{
	struct evbuffer	*pin;
	size_t		 before = 0, part, len;
	const char	*base;
	int		 i;

	for (i = 0; before + v[i].iov_len < n; i++)
		before += v[i].iov_len;
	base = v[i].iov_base;
	len = v[i].iov_len;
	part = n - before;
	if (part == len || part < PIN_MIN || part <= len - part) {
		evbuffer_remove_buffer(in, out, n);
		return;
	}
	evbuffer_remove_buffer(in, out, before);
	if ((pin = evbuffer_new()) == NULL)
		xoom();
	evbuffer_remove_buffer(in, pin, len);
	if (evbuffer_prepend(in, base + part, len - part) == -1 ||
	    evbuffer_add_reference(out, base, part, unpin, pin) == -1)
		xoom();
}

static void
unpin(const void *data, size_t len, void *pin)
{
	(void)data;
	(void)len;
	evbuffer_free(pin);
}

/*
 * Move every whole frame in `in` to `out`, re-encoded, at most max of
 * them, adding their number to *frames.  At eof a last partial frame is
 * flushed (or is an error).  Returns 0, or -1 on a protocol error, after
 * the frames before it have been moved; proto_error() says what.
 */
int
proto_forward(struct proto *p, struct evbuffer *in, struct evbuffer *out,
    int eof, uint64_t max, uint64_t *frames)
{
	struct outbuf		 ob;
	struct evbuffer_iovec	 v;
	struct proto_frame	 f;
	enum proto_status	 st = PROTO_MORE;
	size_t			 off, used;
	uint64_t		 got = 0;
	int			 r;

	p->nlens = 0;
	if (p->err != NULL)
		return -1;
	memset(&ob, 0, sizeof ob);
	ob.buf = out;
	if (p->in.kind == PROTO_RELAY) {
		relay(p, &ob, in, eof, max, &got);
		goto done;
	}
	while (evbuffer_get_length(in) > 0 && got < max) {
		if (p->run && proto_dec_idle(p->dec)) {
			ob_commit(&ob);
			r = run_lines(p, in, out, max - got, &got);
			if (r == 1)
				continue;
			if (r == 0 && !eof)
				break;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		off = 0;
		while (off < v.iov_len && got < max) {
			st = proto_dec_feed(p->dec, (const char *)v.iov_base + off,
			    v.iov_len - off, &used, &f);
			off += used;
			if (st != PROTO_FRAME)
				break;
			encode(p, &ob, f.data, f.len);
			got++;
			if (p->run && proto_dec_idle(p->dec))
				break;
		}
		ob_commit(&ob);
		evbuffer_drain(in, off);
		if (st == PROTO_ERROR)
			goto fail;
	}
	if (eof && got < max && evbuffer_get_length(in) == 0) {
		st = proto_dec_end(p->dec, &f);
		if (st == PROTO_FRAME) {
			encode(p, &ob, f.data, f.len);
			got++;
		} else if (st == PROTO_ERROR)
			goto fail;
	}
done:
	ob_commit(&ob);
	*frames += got;
	return 0;
fail:
	ob_commit(&ob);
	*frames += got;
	p->err = xstrdup(proto_dec_error(p->dec));
	return -1;
}
