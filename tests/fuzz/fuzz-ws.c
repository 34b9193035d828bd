/*
 * libFuzzer target for the WebSocket frame decoder and encoder.
 *
 * An input is three option bytes, then the bytes to decode:
 *   [0]  bit 0: the decoder's role (0 server, 1 client); bits 1-2: the
 *        message limit, 0 1 MiB, 1 [1] & 63, 2 125, 3 65535
 *   [1]  the limit's value (above), and the header of the encoder's test
 *   [2]  seed of the chunk sizes
 * The input is decoded whole, byte by byte and in chunks, which must give
 * the same events, error and end, every call keeping the API's rules; the
 * messages and control frames it gave, encoded again, decode to the same.
 * Then a header written from the input's first bytes decodes as written.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "utf8.h"
#include "ws-codec.h"

#define MIB		(1024 * 1024)

/* What decoding gave: records of whole events, the error, the end. */
struct ws_run {
	struct fz_buf	 log;		/* type, code (2), length (4), bytes */
	struct fz_buf	 msg;		/* the message being gathered */
	int		 open, text, closed;
	int		 code;		/* the error's close code; 0: none */
	char		 err[256];
	char		 end[256];	/* ws_dec_end's message; "": clean */
};

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	 record(struct ws_run *, int, int, const char *, size_t);
static void	 on_event(struct ws_run *, const struct ws_event *,
		    const char *, size_t, uint64_t);
static void	 on_error(struct ws_run *, struct ws_dec *, size_t, size_t);
static void	 ws_decode(enum ws_role, uint64_t, const char *, size_t, int,
		    uint32_t, struct ws_run *);
static void	 ws_same(const struct ws_run *, const struct ws_run *);
static size_t	 close_payload(char *, int, const char *, size_t);
static void	 encode(enum ws_role, const struct ws_run *,
		    struct fz_buf *);
static void	 header_trip(enum ws_role, uint64_t, const uint8_t *, size_t);

static struct ws_run	 whole, bytes, chunks, again;
static struct fz_buf	 work, enc;

static void
record(struct ws_run *r, int type, int code, const char *p, size_t n)
{
	unsigned char	 h[7];

	h[0] = (unsigned char)type;
	h[1] = (unsigned char)(code >> 8);
	h[2] = (unsigned char)code;
	h[3] = (unsigned char)(n >> 24);
	h[4] = (unsigned char)(n >> 16);
	h[5] = (unsigned char)(n >> 8);
	h[6] = (unsigned char)n;
	fz_buf_add(&r->log, h, sizeof h);
	fz_buf_add(&r->log, p, n);
}

/* An event from a feed of the bytes at buf + off, used of them taken. */
static void
on_event(struct ws_run *r, const struct ws_event *ev, const char *buf,
    size_t used, uint64_t max)
{
	if (r->closed)
		fz_bug("an event after the close frame");
	if (ev->type != WS_EV_DATA) {
		if (ev->len > (ev->type == WS_EV_CLOSE ? 123u : 125u) ||
		    (ev->len > 0 && ev->data == NULL))
			fz_bug("a control payload too long, or at NULL");
		if (ev->type == WS_EV_CLOSE && (ev->code == WS_CLOSE_NO_STATUS ?
		    ev->len != 0 : !ws_close_code_valid(ev->code)))
			fz_bug("a close code not valid");
		if (ev->type == WS_EV_CLOSE && !utf8_valid(ev->data, ev->len))
			fz_bug("a close reason not UTF-8");
		if (ev->type != WS_EV_PING && ev->type != WS_EV_PONG &&
		    ev->type != WS_EV_CLOSE)
			fz_bug("an unknown event");
		record(r, ev->type, ev->code, ev->data, ev->len);
		r->closed = ev->type == WS_EV_CLOSE;
		return;
	}
	if (ev->data + ev->len != buf + used || ev->len > used)
		fz_bug("a chunk not at the end of the bytes used");
	if ((ev->flags & ~(WS_FIRST | WS_LAST)) != 0 ||
	    ((ev->flags & WS_FIRST) != 0) == r->open ||
	    (ev->len == 0 && ev->flags == 0))
		fz_bug("a chunk's flags do not fit");
	if (r->open && ev->text != r->text)
		fz_bug("the text flag changed within a message");
	r->open = 1;
	r->text = ev->text;
	fz_buf_add(&r->msg, ev->data, ev->len);
	if (r->msg.len > max)
		fz_bug("a message over the limit");
	if (ev->flags & WS_LAST) {
		if (r->text && !utf8_valid(r->msg.p, r->msg.len))
			fz_bug("a text message not UTF-8");
		record(r, r->text ? 'T' : 'B', 0, r->msg.p, r->msg.len);
		r->msg.len = 0;
		r->open = 0;
	}
}

/* An error from a feed of bytes off..end-1: where, what, and sticky. */
static void
on_error(struct ws_run *r, struct ws_dec *d, size_t off, size_t end)
{
	struct ws_event	 ev;
	const char	*e;
	char		 again_in[2] = { (char)0x81, 0 };
	size_t		 used = 1;
	uint64_t	 at;

	if ((e = ws_dec_error(d)) == NULL || strncmp(e, "ws: ", 4) != 0)
		fz_bug("an error without \"ws: \"");
	snprintf(r->err, sizeof r->err, "%s", e);
	r->code = ws_dec_code(d);
	if (r->code != WS_CLOSE_PROTOCOL && r->code != WS_CLOSE_BAD_DATA &&
	    r->code != WS_CLOSE_TOO_BIG)
		fz_bug("an error with another close code");
	at = fz_at(e);
	if (at < off || at >= end)
		fz_bug("an error at a byte not in its feed");
	if (ws_dec_feed(d, again_in, 2, &used, &ev) != WS_ERROR || used != 0 ||
	    ws_dec_end(d) != WS_ERROR || ws_dec_code(d) != r->code ||
	    (e = ws_dec_error(d)) == NULL || strcmp(e, r->err) != 0)
		fz_bug("an error is not sticky");
}

/*
 * Decodes in (copied: it is unmasked in place) as a transport does, fed
 * whole, byte by byte or in chunks of 1..64 bytes drawn from seed.
 */
static void
ws_decode(enum ws_role role, uint64_t max, const char *in, size_t len,
    int how, uint32_t seed, struct ws_run *r)
{
	struct ws_dec	*d;
	struct ws_event	 ev;
	enum ws_status	 st;
	size_t		 off = 0, end, used;
	uint32_t	 x = seed * 2654435761u + 1;

	r->log.len = r->msg.len = 0;
	r->open = r->text = r->closed = r->code = 0;
	r->err[0] = r->end[0] = '\0';
	work.len = 0;
	fz_buf_add(&work, in, len);
	d = ws_dec_new(role, max);
	while (off < len && r->code == 0) {
		end = fz_end(how, off, len, &x);
		for (;;) {
			used = (size_t)-1;
			st = ws_dec_feed(d, work.p + off, end - off, &used, &ev);
			if (st == WS_ERROR) {
				on_error(r, d, off, end);
				break;
			}
			if (used > end - off)
				fz_bug("used more bytes than were fed");
			if (st == WS_MORE) {
				if (used != end - off)
					fz_bug("WS_MORE without using all");
				off = end;
				break;
			}
			if (st != WS_EVENT || used == 0)
				fz_bug("an event without a byte used");
			on_event(r, &ev, work.p + off, used, max);
			off += used;
		}
	}
	if (r->code == 0 && ws_dec_end(d) == WS_ERROR) {
		snprintf(r->end, sizeof r->end, "%s", ws_dec_error(d));
		if (ws_dec_code(d) != WS_CLOSE_ABNORMAL || r->closed)
			fz_bug("the end failed but with 1006 before the close");
	} else if (r->code == 0 && !r->closed)
		fz_bug("a clean end without the close frame");
	ws_dec_free(d);
}

static void
ws_same(const struct ws_run *a, const struct ws_run *b)
{
	if (a->log.len != b->log.len ||
	    (a->log.len > 0 && memcmp(a->log.p, b->log.p, a->log.len) != 0))
		fz_bug("different events");
	if (a->msg.len != b->msg.len ||
	    (a->msg.len > 0 && memcmp(a->msg.p, b->msg.p, a->msg.len) != 0))
		fz_bug("different unfinished messages");
	if (a->code != b->code || strcmp(a->err, b->err) != 0)
		fz_bug("different errors");
	if (strcmp(a->end, b->end) != 0)
		fz_bug("different ends");
}

/* The events of r as frames of one piece each, masked for a server. */
static void
encode(enum ws_role role, const struct ws_run *r, struct fz_buf *out)
{
	static const unsigned char	 key[4] = { 0xa5, 0x00, 0x3c, 0xff };
	const unsigned char		*p = (const unsigned char *)r->log.p;
	char				 h[WS_HEADER_MAX], pl[WS_CONTROL_MAX];
	size_t				 off = 0, n, hl, pn;
	int				 type, code, op;

	out->len = 0;
	while (off < r->log.len) {
		type = p[off];
		code = p[off + 1] << 8 | p[off + 2];
		n = (size_t)p[off + 3] << 24 | (size_t)p[off + 4] << 16 |
		    (size_t)p[off + 5] << 8 | p[off + 6];
		off += 7;
		op = type == 'T' ? WS_OP_TEXT : type == 'B' ? WS_OP_BINARY :
		    type == WS_EV_PING ? WS_OP_PING : type == WS_EV_PONG ?
		    WS_OP_PONG : WS_OP_CLOSE;
		pn = n;
		if (op == WS_OP_CLOSE)
			pn = close_payload(pl, code, r->log.p + off, n);
		hl = ws_header_write(h, (enum ws_opcode)op, 1, pn,
		    role == WS_SERVER ? key : NULL);
		fz_buf_add(out, h, hl);
		fz_buf_add(out, op == WS_OP_CLOSE ? pl : r->log.p + off, pn);
		if (role == WS_SERVER)
			ws_mask(out->p + out->len - pn, pn, key, 0);
		off += n;
	}
}

/*
 * A close payload for code and a reason of n bytes; the same as
 * ws_close_payload's when the reason has no NUL (U+0000 is UTF-8).
 */
static size_t
close_payload(char *pl, int code, const char *reason, size_t n)
{
	char	 s[WS_CONTROL_MAX + 1], other[WS_CONTROL_MAX];
	size_t	 pn = 0;

	if (code != WS_CLOSE_NO_STATUS) {
		pl[0] = (char)(code >> 8);
		pl[1] = (char)code;
		memcpy(pl + 2, reason, n);
		pn = 2 + n;
	}
	if (memchr(reason, '\0', n) != NULL)
		return pn;
	memcpy(s, reason, n);
	s[n] = '\0';
	if (ws_close_payload(other, code, s) != pn ||
	    memcmp(other, pl, pn) != 0)
		fz_bug("ws_close_payload differs");
	return pn;
}

/*
 * A header written from the input (opcode, FIN, length, the role's
 * mask), with its payload when short, decodes as written: one event, or
 * more wanted, or a length over the limit refused.
 */
static void
header_trip(enum ws_role role, uint64_t max, const uint8_t *b, size_t n)
{
	static const enum ws_opcode	 ops[] = { WS_OP_TEXT, WS_OP_BINARY,
					     WS_OP_PING, WS_OP_PONG };
	static const unsigned char	 key[4] = { 1, 2, 3, 4 };
	struct ws_dec			*d;
	struct ws_event			 ev;
	enum ws_opcode			 op;
	char				 f[WS_HEADER_MAX + 300], pay[300];
	uint64_t			 len = 0;
	size_t				 i, hl, used, total;
	enum ws_status			 st;
	int				 fin;

	if (n < 9)
		return;
	op = ops[b[0] & 3];
	fin = (op & 0x8) || (b[0] & 4);
	for (i = 1; i < 9; i++)
		len = len << 8 | b[i];
	len = (len & INT64_MAX) >> (b[0] >> 3);	/* every size class */
	if (op & 0x8)
		len %= 126;
	hl = ws_header_write(f, op, fin, len, role == WS_SERVER ? key : NULL);
	if (hl > WS_HEADER_MAX || hl != 2 + (len < 126 ? 0 : len < 65536 ?
	    2 : 8) + (role == WS_SERVER ? 4 : 0))
		fz_bug("a header of the wrong length");
	total = hl;
	for (i = 0; i < len && i < 300; i++)
		pay[i] = (char)('a' + i % 26);
	if (len <= 300) {
		memcpy(f + hl, pay, (size_t)len);
		if (role == WS_SERVER)
			ws_mask(f + hl, (size_t)len, key, 0);
		total += (size_t)len;
	}
	d = ws_dec_new(role, max);
	st = ws_dec_feed(d, f, total, &used, &ev);
	if (!(op & 0x8) && len > max) {
		if (st != WS_ERROR || ws_dec_code(d) != WS_CLOSE_TOO_BIG ||
		    fz_at(ws_dec_error(d)) >= hl)
			fz_bug("a length over the limit not refused in the "
			    "header");
	} else if (len > 300) {
		if (st != WS_MORE || used != total)
			fz_bug("a long frame's header not taken");
	} else if (st != WS_EVENT || used != total || ev.len != len ||
	    (len > 0 && memcmp(ev.data, pay, ev.len) != 0) || (op & 0x8 ? ev.type != (op == WS_OP_PING ? WS_EV_PING :
	    WS_EV_PONG) : ev.type != WS_EV_DATA || ev.flags != (WS_FIRST |
	    (fin ? WS_LAST : 0)) || ev.text != (op == WS_OP_TEXT)))
		fz_bug("a frame does not decode as written");
	ws_dec_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ws_role	 role;
	uint64_t	 max;
	const char	*in;
	size_t		 len;

	if (size < 3)
		return 0;
	role = data[0] & 1 ? WS_CLIENT : WS_SERVER;
	switch ((data[0] >> 1) & 3) {
	case 0:
		max = MIB;
		break;
	case 1:
		max = data[1] & 63;
		break;
	case 2:
		max = 125;
		break;
	default:
		max = 65535;
	}
	in = (const char *)data + 3;
	len = size - 3;

	ws_decode(role, max, in, len, FZ_WHOLE, 0, &whole);
	ws_decode(role, max, in, len, FZ_CHUNKS, data[2], &chunks);
	ws_same(&whole, &chunks);
	if (len <= 4096) {
		ws_decode(role, max, in, len, FZ_BYTES, 0, &bytes);
		ws_same(&whole, &bytes);
	}

	encode(role, &whole, &enc);
	ws_decode(role, max, enc.p, enc.len, FZ_CHUNKS, data[2] ^ 0x55,
	    &again);
	if (again.code != 0 || again.log.len != whole.log.len ||
	    (whole.log.len > 0 && memcmp(again.log.p, whole.log.p,
	    whole.log.len) != 0))
		fz_bug("the events encoded do not decode to themselves");

	header_trip(role, max, data + 1, size - 1);
	return 0;
}
