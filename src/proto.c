/*
 * One direction's framing over libevent buffers: the producer's decoder
 * cuts frames, the consumer's encoder writes them.  Two paths avoid the
 * codec's per-frame work where the bytes would come out unchanged:
 * relay to relay moves buffer chains, and line to line with the same
 * one-byte delimiter moves whole runs of lines after a memchr scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proto.h"
#include "util.h"

/* Encoded frames are written into reserved space this large at a time. */
#define OUT_CHUNK	(64 * 1024)
/* A relay read smaller than this is copied on, not moved in its chain. */
#define PACK_MAX	4096

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

static inline int
scan_lines(struct proto *p, struct evbuffer *in, struct evbuffer *out,
    uint64_t room, uint64_t *frames, int keep)
{
	struct evbuffer_iovec	 stack[16], *v = stack;
	const char		*q, *end, *nl;
	size_t			 cur = 0, whole = 0, total = 0;
	uint64_t		 count = 0;
	int			 n, i, rv = 0;

	n = evbuffer_peek(in, -1, NULL, NULL, 0);
	if (n > (int)(sizeof stack / sizeof stack[0]))
		v = xcalloc((size_t)n, sizeof *v);
	n = evbuffer_peek(in, -1, NULL, v, n);
	for (i = 0; i < n && count < room; i++) {
		q = v[i].iov_base;
		end = q + v[i].iov_len;
		while (count < room &&
		    (nl = memchr(q, p->in.delim, (size_t)(end - q))) != NULL) {
			cur += (size_t)(nl - q);
			if (cur > p->in.max_frame)
				goto stop;
			if (keep)
				add_len(p, cur + 1);
			count++;
			whole = total + (size_t)(nl - (const char *)v[i].iov_base)
			    + 1;
			cur = 0;
			q = nl + 1;
		}
		if (count == room)
			break;
		cur += (size_t)(end - q);
		if (cur > p->in.max_frame)
			goto stop;
		total += v[i].iov_len;
	}
	rv = 0;
	goto moved;
stop:
	rv = -1;
moved:
	if (v != stack)
		free(v);
	if (whole == 0)
		return rv;
	evbuffer_remove_buffer(in, out, whole);
	proto_dec_pass(p->dec, whole, count);
	*frames += count;
	return 1;
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
