/*
 * WebSocket frames: a header of 2 to 14 bytes read one byte at a time
 * and checked as each arrives (so the byte that breaks a rule is the one
 * named), then the payload.  Data payloads are unmasked in place and
 * handed out as chunks; control payloads (125 bytes at most) are
 * gathered here and handed out whole.  Text is checked as UTF-8 chunk by
 * chunk; every payload byte before an offending one is handed out, so
 * the events are the same however the input was cut.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "util.h"
#include "ws-codec.h"

enum {
	S_HEAD,			/* in a frame header */
	S_PAYLOAD,		/* in its payload */
	S_CLOSED		/* after the close frame */
};

/* What a payload step did. */
enum {
	STEP_ERROR = -1,
	STEP_MORE,		/* it wants more bytes */
	STEP_EVENT,		/* it filled in the event */
	STEP_NEXT		/* the frame ended with nothing to report */
};

struct ws_dec {
	enum ws_role	 role;
	uint64_t	 max;		/* the longest message accepted */
	uint64_t	 offset;	/* stream offset of the next byte */
	int		 failed;
	int		 code;		/* the close code an error calls for */
	char		 err[192];
	int		 state;
	/* The frame being read. */
	unsigned char	 last;		/* the header's last byte so far */
	size_t		 hlen, hneed;	/* header bytes read, and in all */
	int		 opcode, fin, masked;
	unsigned char	 key[4];
	uint64_t	 plen, pgot;	/* payload length, and bytes read */
	/* The data message being read: 0, WS_OP_TEXT or WS_OP_BINARY. */
	int		 msg;
	int		 first;		/* its first chunk is still to come */
	uint64_t	 msglen;	/* the lengths of its frames so far */
	struct utf8	 utf8;
	/* A control frame's payload, gathered. */
	char		 ctl[WS_CONTROL_MAX];
	struct utf8	 reason;	/* a close frame's reason so far */
};

static int	 fail(struct ws_dec *, int, uint64_t, int, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static int	 head_byte(struct ws_dec *, unsigned char);
static int	 head_first(struct ws_dec *, unsigned char);
static int	 head_second(struct ws_dec *, unsigned char);
static int	 head_length(struct ws_dec *, unsigned char);
static void	 head_done(struct ws_dec *);
static void	 frame_done(struct ws_dec *);
static int	 too_big(struct ws_dec *, unsigned char, size_t);
static int	 data_step(struct ws_dec *, char *, size_t, size_t *,
		    struct ws_event *);
static int	 text_check(struct ws_dec *, char *, size_t *, int);
static int	 control_step(struct ws_dec *, char *, size_t, size_t *,
		    struct ws_event *);
static int	 close_bytes(struct ws_dec *, const char *, size_t);
static void	 control_event(struct ws_dec *, struct ws_event *);

struct ws_dec *
ws_dec_new(enum ws_role role, uint64_t max_message)
{
	struct ws_dec	*d;

	d = xcalloc(1, sizeof *d);
	d->role = role;
	d->max = max_message;
	d->hneed = 2;
	return d;
}

void
ws_dec_free(struct ws_dec *d)
{
	free(d);
}

/*
 * Fail for good: "ws: <what>, got 'c', at byte N" (c < 0: no byte), and
 * the close code to send.  The byte is escaped: a message never carries
 * raw payload.  Returns -1.
 */
static int
fail(struct ws_dec *d, int code, uint64_t at, int c, const char *fmt, ...)
{
	va_list	 ap;
	char	 what[128];

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	util_codec_error(d->err, sizeof d->err, "ws", what, c, at);
	d->failed = 1;
	d->code = code;
	return -1;
}

/* One header byte, at d->offset: -1 when it breaks a rule. */
static int
head_byte(struct ws_dec *d, unsigned char c)
{
	int	 r;

	if (d->hlen == 0)
		r = head_first(d, c);
	else if (d->hlen == 1)
		r = head_second(d, c);
	else if (d->hlen < d->hneed - (d->masked ? 4 : 0))
		r = head_length(d, c);
	else {
		d->key[d->hlen - (d->hneed - 4)] = c;
		r = 0;
	}
	if (r == -1)
		return -1;
	d->last = c;
	d->offset++;
	if (++d->hlen == d->hneed)
		head_done(d);
	return 0;
}

/* FIN, RSV1-3 and the opcode, checked against the message open or not. */
static int
head_first(struct ws_dec *d, unsigned char c)
{
	int	 op = c & 0x0f;

	d->fin = (c & 0x80) != 0;
	d->opcode = op;
	if (c & 0x70)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "RSV bits set (no extension was agreed)");
	if (op != WS_OP_CONT && op != WS_OP_TEXT && op != WS_OP_BINARY &&
	    op != WS_OP_CLOSE && op != WS_OP_PING && op != WS_OP_PONG)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "unknown opcode %d", op);
	if ((op & 0x8) && !d->fin)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "fragmented control frame");
	if (op == WS_OP_CONT && d->msg == 0)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "continuation frame without a message begun");
	if (op != WS_OP_CONT && !(op & 0x8) && d->msg != 0)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "new message inside a fragmented one");
	return 0;
}

/* MASK and the 7-bit length, which says how long the header is. */
static int
head_second(struct ws_dec *d, unsigned char c)
{
	size_t	 len7 = c & 0x7f;

	d->masked = (c & 0x80) != 0;
	if (d->role == WS_SERVER && !d->masked)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "unmasked frame from a client");
	if (d->role == WS_CLIENT && d->masked)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "masked frame from a server");
	if ((d->opcode & 0x8) && len7 > WS_CONTROL_MAX)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "control frame longer than 125 bytes");
	if (d->opcode == WS_OP_CLOSE && len7 == 1)
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "close frame of 1 byte");
	d->plen = len7 < 126 ? len7 : 0;
	d->hneed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) +
	    (d->masked ? 4 : 0);
	return too_big(d, c, len7 < 126 ? 0 : len7 == 126 ? 2 : 8);
}

/* A byte of the 16- or 64-bit length, most significant first. */
static int
head_length(struct ws_dec *d, unsigned char c)
{
	size_t	 left = d->hneed - (d->masked ? 4 : 0) - d->hlen - 1;

	if (d->hlen == 2 && left == 7 && (c & 0x80))
		return fail(d, WS_CLOSE_PROTOCOL, d->offset, c,
		    "64-bit length with the top bit set");
	d->plen = d->plen << 8 | c;
	return too_big(d, c, left);
}

/*
 * Whether a data message is sure to be over the limit, the length known
 * but for its last `left` bytes: as soon as the bytes read say so.
 */
static int
too_big(struct ws_dec *d, unsigned char c, size_t left)
{
	uint64_t	 room;

	if (d->opcode & 0x8)
		return 0;
	room = d->max - (d->opcode == WS_OP_CONT ? d->msglen : 0);
	if (left >= 8 || d->plen <= room >> (8 * left))
		return 0;
	return fail(d, WS_CLOSE_TOO_BIG, d->offset, c,
	    "message longer than %llu bytes", (unsigned long long)d->max);
}

/* The header is whole: the payload follows. */
static void
head_done(struct ws_dec *d)
{
	d->state = S_PAYLOAD;
	d->pgot = 0;
	if (d->opcode & 0x8) {
		utf8_init(&d->reason);
		return;
	}
	if (d->opcode != WS_OP_CONT) {
		d->msg = d->opcode;
		d->first = 1;
		d->msglen = 0;
		utf8_init(&d->utf8);
	}
	d->msglen += d->plen;
}

enum ws_status
ws_dec_feed(struct ws_dec *d, char *p, size_t n, size_t *used,
    struct ws_event *ev)
{
	char	*q = p, *end;
	size_t	 take;
	int	 r;

	*used = 0;
	if (d->failed)
		return WS_ERROR;
	if (n == 0)
		return WS_MORE;	/* events come with the byte ending them */
	end = p + n;
	for (;;) {
		if (d->state != S_PAYLOAD && q == end)
			break;
		if (d->state == S_CLOSED) {
			fail(d, WS_CLOSE_PROTOCOL, d->offset, (unsigned char)*q,
			    "data after the close frame");
			return WS_ERROR;
		}
		if (d->state == S_HEAD) {
			if (head_byte(d, (unsigned char)*q) == -1)
				return WS_ERROR;
			*used = (size_t)(++q - p);
			continue;
		}
		take = 0;
		if (d->opcode & 0x8)
			r = control_step(d, q, (size_t)(end - q), &take, ev);
		else
			r = data_step(d, q, (size_t)(end - q), &take, ev);
		q += take;
		*used = (size_t)(q - p);
		if (r == STEP_ERROR)
			return WS_ERROR;
		if (r == STEP_EVENT)
			return WS_EVENT;
		if (r == STEP_MORE)
			break;
	}
	*used = n;
	return WS_MORE;
}

/* The frame's payload is all read: the next byte starts a header. */
static void
frame_done(struct ws_dec *d)
{
	d->state = d->opcode == WS_OP_CLOSE ? S_CLOSED : S_HEAD;
	d->hlen = 0;
	d->hneed = 2;
	if (!(d->opcode & 0x8) && d->fin)
		d->msg = 0;
}

/*
 * Payload of a data frame: up to n bytes at q, unmasked, handed out as a
 * chunk (*take of them used).  An empty chunk is handed out only when it
 * begins or ends a message.
 */
static int
data_step(struct ws_dec *d, char *q, size_t n, size_t *take,
    struct ws_event *ev)
{
	uint64_t	 left = d->plen - d->pgot;
	int		 ends;

	*take = n < left ? n : (size_t)left;
	if (*take == 0 && left > 0)
		return STEP_MORE;
	if (d->masked)
		ws_mask(q, *take, d->key, d->pgot);
	ends = *take == left && d->fin;
	if (d->msg == WS_OP_TEXT && text_check(d, q, take, ends) == -1)
		return STEP_ERROR;
	if (*take < left)
		ends = 0;
	d->pgot += *take;
	d->offset += *take;
	if (*take == 0 && !d->first && !ends) {
		frame_done(d);
		return STEP_NEXT;
	}
	ev->type = WS_EV_DATA;
	ev->text = d->msg == WS_OP_TEXT;
	ev->flags = (d->first ? WS_FIRST : 0) | (ends ? WS_LAST : 0);
	ev->data = q;
	ev->len = *take;
	ev->code = 0;
	d->first = 0;
	if (d->pgot == d->plen)
		frame_done(d);
	return STEP_EVENT;
}

/*
 * The text of a chunk of *take bytes at q (unmasked), ending the message
 * or not.  When a byte is wrong (invalid, or the last of a message that
 * ends inside a character) the bytes before it stay a chunk and the byte
 * is masked again, to fail when fed next; that byte first fails.
 */
static int
text_check(struct ws_dec *d, char *q, size_t *take, int ends)
{
	struct utf8	 u = d->utf8;
	const char	*why = "text not valid UTF-8";
	size_t		 ok;

	ok = utf8_feed(&u, q, *take);
	if (ok == *take && ends && !utf8_done(&u)) {
		why = "text message ends inside a UTF-8 character";
		if (*take == 0)
			return fail(d, WS_CLOSE_BAD_DATA, d->offset - 1,
			    d->last, "%s", why);
		u = d->utf8;
		ok = utf8_feed(&u, q, *take - 1);
	}
	if (ok == *take) {
		d->utf8 = u;
		return 0;
	}
	if (ok == 0)
		return fail(d, WS_CLOSE_BAD_DATA, d->offset, (unsigned char)*q,
		    "%s", why);
	if (d->masked)
		ws_mask(q + ok, *take - ok, d->key, d->pgot + ok);
	d->utf8 = u;
	*take = ok;
	return 0;
}

/* Payload of a control frame, gathered in d->ctl; an event when whole. */
static int
control_step(struct ws_dec *d, char *q, size_t n, size_t *take,
    struct ws_event *ev)
{
	size_t	 left = (size_t)(d->plen - d->pgot);

	*take = n < left ? n : left;
	if (*take == 0 && left > 0)
		return STEP_MORE;
	if (d->masked)
		ws_mask(q, *take, d->key, d->pgot);
	if (d->opcode == WS_OP_CLOSE && close_bytes(d, q, *take) == -1)
		return STEP_ERROR;
	memcpy(d->ctl + d->pgot, q, *take);
	d->pgot += *take;
	d->offset += *take;
	if (d->pgot < d->plen)
		return STEP_MORE;
	if (d->opcode == WS_OP_CLOSE && !utf8_done(&d->reason))
		return fail(d, WS_CLOSE_BAD_DATA, d->offset - 1,
		    (unsigned char)d->ctl[d->pgot - 1],
		    "close reason ends inside a UTF-8 character");
	control_event(d, ev);
	frame_done(d);
	return STEP_EVENT;
}

/* n more bytes of a close payload: the code, then the reason's text. */
static int
close_bytes(struct ws_dec *d, const char *q, size_t n)
{
	size_t	 i = 0, ok;
	int	 code;

	for (; i < n && d->pgot + i < 2; i++) {
		if (d->pgot + i == 0)
			continue;
		code = (d->pgot == 0 ? (unsigned char)q[0] :
		    (unsigned char)d->ctl[0]) << 8 | (unsigned char)q[i];
		if (!ws_close_code_valid(code))
			return fail(d, WS_CLOSE_PROTOCOL, d->offset + i,
			    (unsigned char)q[i], "close code %d", code);
	}
	ok = utf8_feed(&d->reason, q + i, n - i);
	if (ok < n - i)
		return fail(d, WS_CLOSE_BAD_DATA, d->offset + i + ok,
		    (unsigned char)q[i + ok], "close reason not valid "
		    "UTF-8");
	return 0;
}

static void
control_event(struct ws_dec *d, struct ws_event *ev)
{
	ev->type = d->opcode == WS_OP_PING ? WS_EV_PING :
	    d->opcode == WS_OP_PONG ? WS_EV_PONG : WS_EV_CLOSE;
	ev->text = 0;
	ev->flags = 0;
	ev->data = d->ctl;
	ev->len = (size_t)d->plen;
	ev->code = 0;
	if (ev->type != WS_EV_CLOSE)
		return;
	ev->code = WS_CLOSE_NO_STATUS;
	if (d->plen >= 2) {
		ev->code = (unsigned char)d->ctl[0] << 8 |
		    (unsigned char)d->ctl[1];
		ev->data = d->ctl + 2;
		ev->len -= 2;
	}
}

/*
 * The end of the input.  Only after the close frame is that clean;
 * otherwise the error says where the stream was cut, with code 1006
 * (abnormal closure), which is never sent.
 */
enum ws_status
ws_dec_end(struct ws_dec *d)
{
	if (d->failed)
		return WS_ERROR;
	if (d->state == S_CLOSED)
		return WS_MORE;
	if (d->state == S_PAYLOAD || d->hlen > 0)
		fail(d, WS_CLOSE_ABNORMAL, d->offset, -1,
		    "end of input inside a frame");
	else if (d->msg != 0)
		fail(d, WS_CLOSE_ABNORMAL, d->offset, -1,
		    "end of input inside a fragmented message");
	else
		fail(d, WS_CLOSE_ABNORMAL, d->offset, -1,
		    "end of input before the close frame");
	return WS_ERROR;
}

const char *
ws_dec_error(const struct ws_dec *d)
{
	return d->failed ? d->err : NULL;
}

int
ws_dec_code(const struct ws_dec *d)
{
	return d->failed ? d->code : 0;
}

/*
 * A frame header: FIN, the opcode, the shortest length encoding and the
 * mask key when there is one (a client's frames).  Returns its length,
 * at most WS_HEADER_MAX.
 */
size_t
ws_header_write(char *dst, enum ws_opcode op, int fin, uint64_t len,
    const unsigned char *key)
{
	size_t	 n = 2, i, bytes;

	dst[0] = (char)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		dst[1] = (char)len;
		bytes = 0;
	} else if (len <= 0xffff) {
		dst[1] = 126;
		bytes = 2;
	} else {
		dst[1] = 127;
		bytes = 8;
	}
	for (i = 0; i < bytes; i++)
		dst[n++] = (char)(len >> (8 * (bytes - 1 - i)));
	if (key != NULL) {
		dst[1] = (char)(dst[1] | 0x80);
		memcpy(dst + n, key, 4);
		n += 4;
	}
	return n;
}

/*
 * XORs n payload bytes at p with the mask key, p being `offset` bytes
 * into the payload: a payload spread over buffers is masked piece by
 * piece.  Masking twice unmasks.
 */
void
ws_mask(char *p, size_t n, const unsigned char *key, uint64_t offset)
{
	unsigned char	 k[8];
	uint64_t	 m, w;
	size_t		 i;

	/* Eight bytes a step: the key, turned to where p starts, twice. */
	for (i = 0; i < sizeof k; i++)
		k[i] = key[(offset + i) & 3];
	memcpy(&m, k, sizeof m);
	for (i = 0; i + sizeof w <= n; i += sizeof w) {
		memcpy(&w, p + i, sizeof w);
		w ^= m;
		memcpy(p + i, &w, sizeof w);
	}
	for (; i < n; i++)
		p[i] = (char)(p[i] ^ key[(offset + i) & 3]);
}

/*
 * A close payload in dst (WS_CONTROL_MAX bytes): the code, then as much
 * of reason (UTF-8, or NULL) as fits, cut between characters.  No code
 * (WS_CLOSE_NO_STATUS) is an empty payload.  Returns its length.
 */
size_t
ws_close_payload(char *dst, int code, const char *reason)
{
	size_t	 n;

	if (code == WS_CLOSE_NO_STATUS)
		return 0;
	dst[0] = (char)(code >> 8);
	dst[1] = (char)code;
	if (reason == NULL)
		return 2;
	n = utf8_cut(reason, strlen(reason), WS_CONTROL_MAX - 2);
	memcpy(dst + 2, reason, n);
	return 2 + n;
}

/*
 * Whether a close frame may carry code (RFC 6455 section 7.4): those
 * defined or registered, and 3000-4999 (libraries, applications); never
 * 1004 (reserved), 1005, 1006 or 1015 (for reports, not frames).
 */
int
ws_close_code_valid(int code)
{
	if (code >= 1000 && code <= 1003)
		return 1;
	if (code >= 1007 && code <= 1014)
		return 1;
	return code >= 3000 && code <= 4999;
}
