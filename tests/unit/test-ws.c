/*
 * Unit tests of the WebSocket frame codec (src/ws-codec.c) and the UTF-8
 * validator (src/utf8.c), printing TAP.
 *
 * Every vector is fed whole, byte by byte, split in two at every position
 * and in random chunks, and each way must give the same transcript (the
 * messages whole, the control frames, in order), the same error and the
 * same end.  A vector is written as a server sends it (unmasked) and is
 * decoded so by a client; the same frames masked are decoded by a server,
 * unless the vector is for one role only.  The API's rules (what *used
 * may be, where a chunk lies, first and last flags, sticky errors) are
 * checked on every call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"
#include "ws-codec.h"

#define B(s)		{ (s), sizeof(s) - 1 }
#define ANY		UINT64_MAX
#define MIB		(1024 * 1024)

enum { BOTH, CLIENT_ONLY, SERVER_ONLY };

struct bytes {
	const char	*p;
	size_t		 n;
};

struct vec {
	const char	*name;
	int		 roles;		/* BOTH, CLIENT_ONLY, SERVER_ONLY */
	uint64_t	 max;		/* 0: 1 MiB */
	struct bytes	 in;
	const char	*out;		/* the transcript */
	int		 code;		/* the error's close code; 0: none */
	uint64_t	 at;		/* its offset (unmasked input) */
	uint64_t	 sat;		/* ... masked, when not mapped (0) */
	const char	*what;		/* in its message */
	const char	*end;		/* in ws_dec_end's ("": none); NULL */
};

/* What decoding an input one way gave. */
struct result {
	struct str	 log;		/* the transcript */
	struct str	 msg;		/* the message being gathered */
	int		 open, text;	/* a message is open, of text */
	int		 closed;	/* the close frame came */
	int		 code;		/* the error's close code; 0: none */
	char		 err[256];
	uint64_t	 at;
	char		 end[256];	/* ws_dec_end's message; "": none */
	char		 fault[256];	/* the first broken API rule */
};

static void	 render(struct str *, const char *, const char *, size_t);
static void	 on_event(struct result *, const struct ws_event *,
		    const char *, size_t, size_t);
static void	 on_error(struct result *, struct ws_dec *, size_t, size_t);
static void	 decode(enum ws_role, uint64_t, const char *, size_t,
		    const size_t *, size_t, struct result *);
static int	 compare(const struct result *, const struct result *,
		    const char *);
static int	 expect(const struct result *, const char *, int, uint64_t,
		    const char *, const char *, const char *);
static size_t	 to_masked(const char *, size_t, char *, size_t *);
static void	 run(enum ws_role, uint64_t, const char *, size_t, int,
		    const char *, int, uint64_t, const char *, const char *);
static void	 test_vec(const struct vec *);
static void	 test_utf8(void);
static void	 test_utf8_cut(void);
static void	 test_rfc(void);
static void	 test_sizes(void);
static void	 test_limits(void);
static void	 test_header(void);
static void	 test_mask(void);
static void	 test_close_payload(void);
static void	 test_close_codes(void);
static void	 test_sticky(void);
static void	 test_roundtrip(enum ws_role);

static const unsigned char keys[][4] = {
	{ 0x37, 0xfa, 0x21, 0x3d }, { 0x00, 0x00, 0x00, 0x00 },
	{ 0xff, 0xff, 0xff, 0xff }, { 0x12, 0x34, 0x56, 0x78 }
};

/*
 * "tag:bytes;" in a transcript, the bytes escaped; over 64 bytes, their
 * length and FNV-1a hash.
 */
static void
render(struct str *s, const char *tag, const char *p, size_t n)
{
	uint32_t	 h = 2166136261u;
	size_t		 i;

	str_fmt(s, "%s:", tag);
	if (n > 64) {
		for (i = 0; i < n; i++)
			h = (h ^ (unsigned char)p[i]) * 16777619u;
		str_fmt(s, "#%zu/%08" PRIx32 ";", n, h);
		return;
	}
	str_esc(s, p, n);
	str_add(s, ";", 1);
}

/* An event from a feed of the bytes at buf (off..), used bytes taken. */
static void
on_event(struct result *r, const struct ws_event *ev, const char *buf,
    size_t off, size_t used)
{
	if (r->closed)
		fault(r, "an event after the close frame");
	if (ev->type != WS_EV_DATA) {
		if (ev->len > (ev->type == WS_EV_CLOSE ? 123u : 125u))
			fault(r, "a control payload of %zu bytes", ev->len);
		if (ev->len > 0 && ev->data == NULL)
			fault(r, "a control payload at NULL");
	}
	switch (ev->type) {
	case WS_EV_PING:
		render(&r->log, "ping", ev->data, ev->len);
		return;
	case WS_EV_PONG:
		render(&r->log, "pong", ev->data, ev->len);
		return;
	case WS_EV_CLOSE:
		if (ev->code == WS_CLOSE_NO_STATUS ? ev->len != 0 :
		    !ws_close_code_valid(ev->code))
			fault(r, "close code %d with %zu bytes", ev->code,
			    ev->len);
		str_fmt(&r->log, "close:%d", ev->code);
		render(&r->log, "", ev->data, ev->len);
		r->closed = 1;
		return;
	case WS_EV_DATA:
		break;
	default:
		fault(r, "event type %d", (int)ev->type);
		return;
	}
	if (ev->data + ev->len != buf + off + used || ev->len > used)
		fault(r, "a chunk of %zu bytes not at the end of the %zu used",
		    ev->len, used);
	if ((ev->flags & ~(WS_FIRST | WS_LAST)) != 0 ||
	    ((ev->flags & WS_FIRST) != 0) == r->open ||
	    (ev->len == 0 && ev->flags == 0))
		fault(r, "a chunk of %zu bytes with flags %d, a message %s",
		    ev->len, ev->flags, r->open ? "open" : "not open");
	if (r->open && ev->text != r->text)
		fault(r, "the text flag changed within a message");
	r->open = 1;
	r->text = ev->text;
	str_add(&r->msg, ev->data, ev->len);
	if (ev->flags & WS_LAST) {
		render(&r->log, r->text ? "T" : "B", r->msg.p, r->msg.len);
		r->msg.len = 0;
		r->open = 0;
	}
}

/* An error from a feed of bytes off..end-1: where, what, and sticky. */
static void
on_error(struct result *r, struct ws_dec *d, size_t off, size_t end)
{
	const char	*e = ws_dec_error(d);
	struct ws_event	 ev;
	size_t		 used = 1;
	char		 again[4] = "\x81\x00\x81";

	snprintf(r->err, sizeof r->err, "%s", e != NULL ? e : "(null)");
	r->code = ws_dec_code(d);
	r->at = tap_at(r->err);
	if (strncmp(r->err, "ws: ", 4) != 0 || r->at == ANY)
		fault(r, "error message %s", esc(r->err, strlen(r->err)));
	else if (r->at < off || r->at >= end)
		fault(r, "error at byte %" PRIu64 " from a feed of bytes "
		    "%zu..%zu", r->at, off, end - 1);
	if (r->code != WS_CLOSE_PROTOCOL && r->code != WS_CLOSE_BAD_DATA &&
	    r->code != WS_CLOSE_TOO_BIG)
		fault(r, "error with close code %d", r->code);
	if (ws_dec_feed(d, again, 2, &used, &ev) != WS_ERROR || used != 0 ||
	    ws_dec_end(d) != WS_ERROR || ws_dec_code(d) != r->code ||
	    (e = ws_dec_error(d)) == NULL || strcmp(e, r->err) != 0)
		fault(r, "the error is not sticky");
}

/*
 * Decodes in, fed in the given chunks as a transport does: each chunk is
 * fed again from where the last event ended until the decoder wants
 * more.  The input is copied first: it is unmasked in place.
 */
static void
decode(enum ws_role role, uint64_t max, const char *in, size_t len,
    const size_t *ch, size_t nch, struct result *r)
{
	static char	*buf;
	static size_t	 cap;
	struct ws_dec	*d;
	struct ws_event	 ev;
	enum ws_status	 st;
	size_t		 c, off = 0, end, used;

	r->log.len = r->msg.len = 0;
	str_add(&r->log, "", 0);
	r->open = r->text = r->closed = r->code = 0;
	r->err[0] = r->end[0] = r->fault[0] = '\0';
	r->at = ANY;
	if (cap < len) {
		cap = len;
		buf = xalloc(buf, cap);
	}
	if (len > 0)
		memcpy(buf, in, len);
	d = ws_dec_new(role, max);
	for (c = 0; c < nch && r->code == 0 && r->fault[0] == '\0'; c++) {
		end = off + ch[c];
		for (;;) {
			used = (size_t)-1;
			memset(&ev, 0xa5, sizeof ev);
			st = ws_dec_feed(d, buf + off, end - off, &used, &ev);
			if (st == WS_ERROR) {
				on_error(r, d, off, end);
				break;
			}
			if (used > end - off) {
				fault(r, "used %zu of %zu", used, end - off);
				break;
			}
			if (st == WS_MORE) {
				if (used != end - off)
					fault(r, "WS_MORE with used %zu of "
					    "%zu", used, end - off);
				off = end;
				break;
			}
			if (st != WS_EVENT || used == 0) {
				fault(r, "status %d with used %zu", (int)st,
				    used);
				break;
			}
			on_event(r, &ev, buf, off, used);
			off += used;
		}
	}
	if (r->code == 0 && r->fault[0] == '\0' && off != len)
		fault(r, "fed %zu of %zu bytes", off, len);
	if (r->code == 0 && ws_dec_end(d) == WS_ERROR) {
		snprintf(r->end, sizeof r->end, "%s", ws_dec_error(d));
		if (ws_dec_code(d) != WS_CLOSE_ABNORMAL)
			fault(r, "the end's code is %d", ws_dec_code(d));
	} else if (r->code == 0 && !r->closed)
		fault(r, "a clean end without the close frame");
	if (r->open)
		render(&r->log, r->text ? "T..." : "B...", r->msg.p,
		    r->msg.len);
	ws_dec_free(d);
}

/* Says what differs from the way fed whole (ref); 1 when nothing. */
static int
compare(const struct result *r, const struct result *ref, const char *mode)
{
	int	 ok = 1;

	nchecks++;
	if (r->fault[0] != '\0') {
		diag("%s: %s", mode, r->fault);
		ok = 0;
	}
	if (ref == NULL)
		return ok;
	if (strcmp(r->log.p, ref->log.p) != 0) {
		diag("%s: transcript %s, fed whole %s", mode,
		    esc(r->log.p, r->log.len), esc(ref->log.p, ref->log.len));
		ok = 0;
	}
	if (strcmp(r->err, ref->err) != 0 || r->code != ref->code) {
		diag("%s: error %d %s, fed whole %d %s", mode, r->code,
		    r->err, ref->code, ref->err);
		ok = 0;
	}
	if (strcmp(r->end, ref->end) != 0) {
		diag("%s: end %s, fed whole %s", mode, r->end, ref->end);
		ok = 0;
	}
	return ok;
}

/* Checks the way fed whole against the expectation. */
static int
expect(const struct result *r, const char *out, int code, uint64_t at,
    const char *what, const char *end, const char *role)
{
	int	 ok = 1;

	nchecks++;
	if (out != NULL && strcmp(r->log.p, out) != 0) {
		diag("%s: transcript %s, expected %s", role,
		    esc(r->log.p, r->log.len), esc(out, strlen(out)));
		ok = 0;
	}
	if (r->code != code) {
		diag("%s: error %d (%s), expected %d", role, r->code,
		    r->err, code);
		ok = 0;
	} else if (code != 0 && at != ANY && r->at != at) {
		diag("%s: error at byte %" PRIu64 ", expected %" PRIu64 ": %s",
		    role, r->at, at, r->err);
		ok = 0;
	}
	if (code != 0 && what != NULL && strstr(r->err, what) == NULL) {
		diag("%s: error %s lacks %s", role, r->err, what);
		ok = 0;
	}
	if (end != NULL && (end[0] == '\0' ? r->end[0] != '\0' :
	    strstr(r->end, end) == NULL)) {
		diag("%s: end %s, expected %s", role,
		    r->end[0] ? r->end : "clean", end[0] ? end : "clean");
		ok = 0;
	}
	return ok;
}

/*
 * The frames of in (unmasked) masked with the keys in turn, in out (len
 * plus 4 bytes a frame); map[i] is where byte i of in went.  A header
 * cut short is copied with its mask bit set.
 */
static size_t
to_masked(const char *in, size_t len, char *out, size_t *map)
{
	const unsigned char	*key;
	size_t			 i = 0, o = 0, h, j, ext, take, nf = 0;
	uint64_t		 plen;

	while (i < len) {
		ext = len - i < 2 ? 0 : (in[i + 1] & 0x7f) == 126 ? 2 :
		    (in[i + 1] & 0x7f) == 127 ? 8 : 0;
		if (len - i < 2 + ext)
			break;
		plen = (unsigned char)in[i + 1] & 0x7f;
		if (ext > 0)
			for (plen = 0, j = 0; j < ext; j++)
				plen = plen << 8 | (unsigned char)in[i + 2 + j];
		for (h = 0; h < 2 + ext; h++) {
			map[i] = o;
			out[o++] = in[i++];
		}
		out[o - 1 - ext] = (char)(out[o - 1 - ext] | 0x80);
		key = keys[nf++ % (sizeof keys / sizeof keys[0])];
		memcpy(out + o, key, 4);
		o += 4;
		take = plen < len - i ? (size_t)plen : len - i;
		for (j = 0; j < take; j++) {
			map[i] = o;
			out[o++] = (char)(in[i++] ^ key[j & 3]);
		}
	}
	for (h = i; i < len; i++) {
		map[i] = o;
		out[o++] = (char)(in[i] | (i == h + 1 ? 0x80 : 0));
	}
	map[len] = o;
	return o;
}

/*
 * Decodes in every way in one role and checks the results against each
 * other and the expectation.
 */
static void
run(enum ws_role role, uint64_t max, const char *in, size_t len, int all,
    const char *out, int code, uint64_t at, const char *what,
    const char *end)
{
	static struct result	 ref, r;
	static struct feeds	 f;
	const char		*name = role == WS_SERVER ? "server" : "client";

	feeds_start(&f, len, all);
	feeds_next(&f);
	decode(role, max, in, len, f.chunks, f.n, &ref);
	if (!compare(&ref, NULL, name) ||
	    !expect(&ref, out, code, at, what, end, name))
		return;
	while (feeds_next(&f)) {
		decode(role, max, in, len, f.chunks, f.n, &r);
		if (!compare(&r, &ref, f.mode))
			return;
	}
}

static void
test_vec(const struct vec *v)
{
	static char	*masked;
	static size_t	*map;
	uint64_t	 max = v->max ? v->max : MIB;
	size_t		 n;

	if (v->roles != SERVER_ONLY)
		run(WS_CLIENT, max, v->in.p, v->in.n, 1, v->out, v->code,
		    v->at, v->what, v->end);
	if (v->roles == SERVER_ONLY)
		run(WS_SERVER, max, v->in.p, v->in.n, 1, v->out, v->code,
		    v->at, v->what, v->end);
	if (v->roles == BOTH) {
		masked = xalloc(masked, v->in.n * 5 + 1);
		map = xalloc(map, (v->in.n + 1) * sizeof *map);
		n = to_masked(v->in.p, v->in.n, masked, map);
		run(WS_SERVER, max, masked, n, 1, v->out, v->code,
		    v->code == 0 ? 0 : v->sat ? v->sat : map[v->at],
		    v->what, v->end);
	}
	point("%s%s", v->name, v->roles == CLIENT_ONLY ? " (client)" :
	    v->roles == SERVER_ONLY ? " (server)" : "");
}

#define E1002	WS_CLOSE_PROTOCOL
#define E1007	WS_CLOSE_BAD_DATA
#define E1009	WS_CLOSE_TOO_BIG

static const struct vec vecs[] = {
	/* Accepted. */
	{ .name = "a text message", .in = B("\x81\x05Hello"),
	  .out = "T:Hello;", .end = "before the close frame" },
	{ .name = "a binary message with NUL and 0xff",
	  .in = B("\x82\x03\x00\xff\x01"), .out = "B:\\x00\\xff\\x01;" },
	{ .name = "an empty text message", .in = B("\x81\x00"),
	  .out = "T:;" },
	{ .name = "an empty binary message", .in = B("\x82\x00"),
	  .out = "B:;" },
	{ .name = "a text message in three fragments",
	  .in = B("\x01\x03Hel\x00\x01l\x80\x01o"), .out = "T:Hello;" },
	{ .name = "fragments with a ping between them",
	  .in = B("\x01\x03Hel\x89\x04ping\x80\x02lo"),
	  .out = "ping:ping;T:Hello;" },
	{ .name = "fragments with a ping, a pong and a ping between them",
	  .in = B("\x02\x01" "a\x89\x00\x8a\x01x\x00\x01" "b\x89\x01y"
	      "\x80\x01" "c"),
	  .out = "ping:;pong:x;ping:y;B:abc;" },
	{ .name = "an empty message in two empty fragments",
	  .in = B("\x01\x00\x80\x00"), .out = "T:;" },
	{ .name = "empty fragments among others",
	  .in = B("\x02\x02" "ab\x00\x00\x00\x00\x80\x01" "c"),
	  .out = "B:abc;" },
	{ .name = "a message ending in an empty fragment",
	  .in = B("\x01\x02" "ab\x80\x00"), .out = "T:ab;" },
	{ .name = "several messages and control frames",
	  .in = B("\x81\x01" "a\x82\x01" "b\x89\x00\x81\x00\x8a\x02hi"
	      "\x88\x00"),
	  .out = "T:a;B:b;ping:;T:;pong:hi;close:1005:;", .end = "" },
	{ .name = "a pong with a payload", .in = B("\x8a\x03" "abc"),
	  .out = "pong:abc;" },
	{ .name = "an empty ping", .in = B("\x89\x00"), .out = "ping:;" },
	{ .name = "close with a code and a reason",
	  .in = B("\x88\x05\x03\xe8" "bye"), .out = "close:1000:bye;",
	  .end = "" },
	{ .name = "close without a payload", .in = B("\x88\x00"),
	  .out = "close:1005:;", .end = "" },
	{ .name = "close with a code only", .in = B("\x88\x02\x03\xe9"),
	  .out = "close:1001:;" },
	{ .name = "close with a UTF-8 reason",
	  .in = B("\x88\x07\x03\xf3\xc3\xa9t\xc3\xa9"),
	  .out = "close:1011:\\xc3\\xa9t\\xc3\\xa9;" },
	{ .name = "close code 1003",
	  .in = B("\x88\x02\x03\xeb"), .out = "close:1003:;" },
	{ .name = "close code 1007", .in = B("\x88\x02\x03\xef"),
	  .out = "close:1007:;" },
	{ .name = "close code 1012", .in = B("\x88\x02\x03\xf4"),
	  .out = "close:1012:;" },
	{ .name = "close code 1014", .in = B("\x88\x02\x03\xf6"),
	  .out = "close:1014:;" },
	{ .name = "close code 3000", .in = B("\x88\x02\x0b\xb8"),
	  .out = "close:3000:;" },
	{ .name = "close code 4999", .in = B("\x88\x02\x13\x87"),
	  .out = "close:4999:;" },
	{ .name = "text with a 4-byte character (U+1F600)",
	  .in = B("\x81\x06" "a\xf0\x9f\x98\x80" "b"),
	  .out = "T:a\\xf0\\x9f\\x98\\x80b;" },
	{ .name = "text with U+10FFFF, U+FFFF, U+E000, U+D7FF, U+0080",
	  .in = B("\x81\x0f\xf4\x8f\xbf\xbf\xef\xbf\xbf\xee\x80\x80\xed\x9f"
	      "\xbf\xc2\x80"),
	  .out = "T:\\xf4\\x8f\\xbf\\xbf\\xef\\xbf\\xbf\\xee\\x80\\x80\\xed"
	      "\\x9f\\xbf\\xc2\\x80;" },
	{ .name = "a character split across fragments",
	  .in = B("\x01\x02\xe2\x82\x89\x00\x80\x01\xac"),
	  .out = "ping:;T:\\xe2\\x82\\xac;" },
	{ .name = "binary is not checked as UTF-8",
	  .in = B("\x82\x04\xff\xc0\xed\xa0"),
	  .out = "B:\\xff\\xc0\\xed\\xa0;" },
	{ .name = "a 16-bit length for 5 bytes is accepted",
	  .in = B("\x81\x7e\x00\x05Hello"), .out = "T:Hello;" },
	{ .name = "a 64-bit length for 1 byte is accepted",
	  .in = B("\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x01" "z"),
	  .out = "B:z;" },
	{ .name = "empty input", .in = B(""), .out = "",
	  .end = "before the close frame" },
	/* The end of the input. */
	{ .name = "end inside a header", .in = B("\x81"), .out = "",
	  .end = "inside a frame, at byte 1" },
	{ .name = "end inside a 64-bit length",
	  .in = B("\x82\x7f\x00\x00"), .out = "",
	  .end = "inside a frame, at byte 4" },
	{ .name = "end inside a payload", .in = B("\x81\x05Hel"),
	  .out = "T...:Hel;", .end = "inside a frame" },
	{ .name = "end inside a ping", .in = B("\x89\x05Hel"), .out = "",
	  .end = "inside a frame" },
	{ .name = "end inside a fragmented message",
	  .in = B("\x01\x01" "a"), .out = "T...:a;",
	  .end = "inside a fragmented message" },
	/* 1002 */
	{ .name = "RSV1 set", .in = B("\xc1\x05Hello"), .code = E1002,
	  .at = 0, .what = "RSV bits set", .out = "" },
	{ .name = "RSV2 set", .in = B("\xa2\x00"), .code = E1002, .at = 0,
	  .what = "RSV" },
	{ .name = "RSV3 set on a ping", .in = B("\x99\x00"), .code = E1002,
	  .at = 0, .what = "RSV" },
	{ .name = "RSV1 set on a continuation",
	  .in = B("\x01\x01" "a\xc0\x01" "b"), .code = E1002, .at = 3,
	  .out = "T...:a;", .what = "'\\xc0'" },
	{ .name = "opcode 3", .in = B("\x83\x00"), .code = E1002, .at = 0,
	  .what = "unknown opcode 3" },
	{ .name = "opcode 7", .in = B("\x87\x00"), .code = E1002, .at = 0,
	  .what = "unknown opcode 7" },
	{ .name = "opcode 0xb", .in = B("\x8b\x00"), .code = E1002, .at = 0,
	  .what = "unknown opcode 11" },
	{ .name = "opcode 0xf after a message",
	  .in = B("\x81\x01" "a\x8f\x00"), .code = E1002, .at = 3,
	  .out = "T:a;", .what = "unknown opcode 15" },
	{ .name = "a fragmented ping", .in = B("\x09\x00"), .code = E1002,
	  .at = 0, .what = "fragmented control frame" },
	{ .name = "a fragmented close", .in = B("\x08\x02\x03\xe8"),
	  .code = E1002, .at = 0, .what = "fragmented control frame" },
	{ .name = "a ping of 126 bytes", .in = B("\x89\x7e\x00\x7e"),
	  .code = E1002, .at = 1, .what = "control frame longer" },
	{ .name = "a pong with a 64-bit length",
	  .in = B("\x8a\x7f\x00\x00\x00\x00\x00\x00\x00\x01"),
	  .code = E1002, .at = 1, .what = "control frame longer" },
	{ .name = "a close with 126 in 7 bits", .in = B("\x88\x7e"),
	  .code = E1002, .at = 1 },
	{ .name = "a continuation without a message",
	  .in = B("\x80\x01" "a"), .code = E1002, .at = 0,
	  .what = "continuation frame without a message" },
	{ .name = "a continuation after a whole message",
	  .in = B("\x81\x01" "a\x00\x01" "b"), .code = E1002, .at = 3,
	  .out = "T:a;", .what = "continuation" },
	{ .name = "text inside a fragmented message",
	  .in = B("\x01\x01" "a\x81\x01" "b"), .code = E1002, .at = 3,
	  .out = "T...:a;", .what = "new message inside" },
	{ .name = "binary inside a fragmented message, after a ping",
	  .in = B("\x02\x01" "a\x89\x00\x02\x01" "b"), .code = E1002,
	  .at = 5, .out = "ping:;B...:a;", .what = "new message inside" },
	{ .name = "a server reads an unmasked frame", .roles = SERVER_ONLY,
	  .in = B("\x81\x05Hello"), .code = E1002, .at = 1,
	  .what = "unmasked frame from a client" },
	{ .name = "a client reads a masked frame", .roles = CLIENT_ONLY,
	  .in = B("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
	  .code = E1002, .at = 1, .what = "masked frame from a server" },
	{ .name = "a server reads an unmasked empty ping",
	  .roles = SERVER_ONLY, .in = B("\x89\x00"), .code = E1002, .at = 1 },
	{ .name = "a 64-bit length with the top bit set",
	  .in = B("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"),
	  .code = E1002, .at = 2, .what = "top bit" },
	{ .name = "a 64-bit length of 2^64-1",
	  .in = B("\x82\x7f\xff\xff\xff\xff\xff\xff\xff\xff"),
	  .code = E1002, .at = 2, .what = "top bit" },
	{ .name = "a close payload of 1 byte", .in = B("\x88\x01\x03"),
	  .code = E1002, .at = 1, .what = "close frame of 1 byte" },
	{ .name = "close code 0", .in = B("\x88\x02\x00\x00"),
	  .code = E1002, .at = 3, .what = "close code 0" },
	{ .name = "close code 999", .in = B("\x88\x02\x03\xe7"),
	  .code = E1002, .at = 3, .what = "close code 999" },
	{ .name = "close code 1004", .in = B("\x88\x02\x03\xec"),
	  .code = E1002, .at = 3, .what = "close code 1004" },
	{ .name = "close code 1005", .in = B("\x88\x02\x03\xed"),
	  .code = E1002, .at = 3, .what = "close code 1005" },
	{ .name = "close code 1006", .in = B("\x88\x04\x03\xee" "ab"),
	  .code = E1002, .at = 3, .what = "close code 1006" },
	{ .name = "close code 1015", .in = B("\x88\x02\x03\xf7"),
	  .code = E1002, .at = 3, .what = "close code 1015" },
	{ .name = "close code 1016", .in = B("\x88\x02\x03\xf8"),
	  .code = E1002, .at = 3, .what = "close code 1016" },
	{ .name = "close code 2999", .in = B("\x88\x02\x0b\xb7"),
	  .code = E1002, .at = 3, .what = "close code 2999" },
	{ .name = "close code 5000", .in = B("\x88\x02\x13\x88"),
	  .code = E1002, .at = 3, .what = "close code 5000" },
	{ .name = "close code 65535", .in = B("\x88\x02\xff\xff"),
	  .code = E1002, .at = 3, .what = "close code 65535" },
	{ .name = "a frame after the close frame",
	  .in = B("\x88\x00\x81\x00"), .code = E1002, .at = 2,
	  .out = "close:1005:;", .what = "after the close frame" },
	/* 1007 */
	{ .name = "0xff in text", .in = B("\x81\x03" "a\xff" "b"),
	  .code = E1007, .at = 3, .out = "T...:a;",
	  .what = "text not valid UTF-8, got '\\xff'" },
	{ .name = "an overlong 2-byte form (C0 AF)",
	  .in = B("\x81\x02\xc0\xaf"), .code = E1007, .at = 2,
	  .what = "not valid UTF-8" },
	{ .name = "an overlong 2-byte form (C1 BF)",
	  .in = B("\x81\x02\xc1\xbf"), .code = E1007, .at = 2 },
	{ .name = "an overlong 3-byte form (E0 80 AF)",
	  .in = B("\x81\x03\xe0\x80\xaf"), .code = E1007, .at = 3,
	  .out = "T...:\\xe0;" },
	{ .name = "an overlong 4-byte form (F0 80 80 AF)",
	  .in = B("\x81\x04\xf0\x80\x80\xaf"), .code = E1007, .at = 3 },
	{ .name = "a surrogate (ED A0 80, U+D800)",
	  .in = B("\x81\x03\xed\xa0\x80"), .code = E1007, .at = 3 },
	{ .name = "a surrogate (ED BF BF, U+DFFF)",
	  .in = B("\x81\x03\xed\xbf\xbf"), .code = E1007, .at = 3 },
	{ .name = "over U+10FFFF (F4 90 80 80)",
	  .in = B("\x81\x04\xf4\x90\x80\x80"), .code = E1007, .at = 3 },
	{ .name = "a lead byte F5", .in = B("\x81\x04\xf5\x80\x80\x80"),
	  .code = E1007, .at = 2 },
	{ .name = "a stray continuation byte", .in = B("\x81\x02" "a\x80"),
	  .code = E1007, .at = 3, .out = "T...:a;" },
	{ .name = "a lead byte where a continuation is due",
	  .in = B("\x81\x03\xe2\x82\xe2"), .code = E1007, .at = 4 },
	{ .name = "text ending inside a character",
	  .in = B("\x81\x03" "a\xe2\x82"), .code = E1007, .at = 4,
	  .out = "T...:a\\xe2;", .what = "ends inside a UTF-8 character" },
	{ .name = "a 1-byte text of a lead byte", .in = B("\x81\x01\xc3"),
	  .code = E1007, .at = 2, .what = "ends inside" },
	{ .name = "a message ending inside a character in an empty "
	  "fragment", .roles = CLIENT_ONLY,
	  .in = B("\x01\x02\xe2\x82\x80\x00"), .code = E1007, .at = 5,
	  .out = "T...:\\xe2\\x82;", .what = "ends inside" },
	{ .name = "a message ending inside a character in an empty "
	  "fragment", .roles = SERVER_ONLY,
	  .in = B("\x01\x82\x00\x00\x00\x00\xe2\x82\x80\x80\x01\x02\x03\x04"),
	  .code = E1007, .at = 13, .out = "T...:\\xe2\\x82;",
	  .what = "ends inside" },
	{ .name = "an invalid sequence split across fragments",
	  .in = B("\x01\x01\xe2\x80\x01\x28"), .code = E1007, .at = 5,
	  .out = "T...:\\xe2;", .what = "not valid" },
	{ .name = "a surrogate split across fragments, a ping between",
	  .in = B("\x01\x01\xed\x89\x00\x80\x02\xa0\x80"), .code = E1007,
	  .at = 7, .out = "ping:;T...:\\xed;" },
	{ .name = "a close reason not valid UTF-8",
	  .in = B("\x88\x04\x03\xe8\xff" "a"), .code = E1007, .at = 4,
	  .what = "close reason not valid UTF-8" },
	{ .name = "a close reason ending inside a character",
	  .in = B("\x88\x04\x03\xe8" "a\xc3"), .code = E1007, .at = 5,
	  .what = "close reason ends inside" },
	/* 1009 */
	{ .name = "max 5: 5 bytes accepted", .max = 5,
	  .in = B("\x81\x05Hello"), .out = "T:Hello;" },
	{ .name = "max 5: 6 bytes fail at the length", .max = 5,
	  .in = B("\x81\x06Hello!"), .code = E1009, .at = 1,
	  .what = "message longer than 5 bytes" },
	{ .name = "max 5: fragments of 5 accepted, a ping between", .max = 5,
	  .in = B("\x01\x03Hel\x89\x05pingg\x80\x02lo"),
	  .out = "ping:pingg;T:Hello;" },
	{ .name = "max 5: fragments of 6 fail at the second length", .max = 5,
	  .in = B("\x01\x03Hel\x80\x03lo!"), .code = E1009, .at = 6,
	  .out = "T...:Hel;" },
	{ .name = "max 5: a sixth byte in a third fragment", .max = 5,
	  .in = B("\x01\x05Hello\x00\x00\x80\x01!"), .code = E1009,
	  .at = 10, .out = "T...:Hello;" },
	{ .name = "max 5: a 125-byte ping is no message", .max = 5,
	  .in = B("\x89\x7d"), .out = "", .end = "inside a frame" },
	{ .name = "max 255: a 16-bit length of 256 fails at its first byte",
	  .max = 255, .in = B("\x82\x7e\x01\x00"), .code = E1009, .at = 2 },
	{ .name = "max 300: a 16-bit length of 301 fails at its last byte",
	  .max = 300, .in = B("\x82\x7e\x01\x2d"), .code = E1009, .at = 3 },
	{ .name = "1 MiB: a 64-bit length of 2^32 fails at its 4th byte",
	  .in = B("\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00"),
	  .code = E1009, .at = 5, .what = "longer than 1048576 bytes" },
	{ .name = "1 MiB: a 64-bit length of 2^63-1 fails at its 1st byte",
	  .in = B("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"),
	  .code = E1009, .at = 2 },
	{ .name = "1 MiB: a 64-bit length of 1 MiB + 1 fails at its last "
	  "byte", .in = B("\x82\x7f\x00\x00\x00\x00\x00\x10\x00\x01"),
	  .code = E1009, .at = 9 },
	{ .name = "1 MiB: a fragment of 1 MiB is accepted",
	  .in = B("\x02\x7f\x00\x00\x00\x00\x00\x10\x00\x00"),
	  .out = "", .end = "inside a frame" },
};

/* Each piece of a text fed whole, by bytes, split: the same verdict. */
static void
test_utf8(void)
{
	static const struct {
		struct bytes	 in;
		size_t		 bad;	/* index of the first bad byte */
		int		 done;	/* ends between characters */
	} t[] = {
		{ B(""), 0, 1 },
		{ B("hello"), 5, 1 },
		{ B("\x00\x7f"), 2, 1 },
		{ B("\xc2\x80\xdf\xbf"), 4, 1 },
		{ B("\xe0\xa0\x80\xef\xbf\xbf"), 6, 1 },
		{ B("\xed\x9f\xbf\xee\x80\x80"), 6, 1 },
		{ B("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), 8, 1 },
		{ B("\xf0\x9f\x98\x80"), 4, 1 },
		{ B("\xc0\x80"), 0, 1 },
		{ B("\xc1\xbf"), 0, 1 },
		{ B("a\xe0\x9f\xbf"), 2, 0 },
		{ B("\xf0\x8f\xbf\xbf"), 1, 0 },
		{ B("\xed\xa0\x80"), 1, 0 },
		{ B("\xed\xbf\xbf"), 1, 0 },
		{ B("\xf4\x90\x80\x80"), 1, 0 },
		{ B("\xf5\x80\x80\x80"), 0, 1 },
		{ B("\xf8\x88\x80\x80\x80"), 0, 1 },
		{ B("\xff"), 0, 1 },
		{ B("\xfe"), 0, 1 },
		{ B("\x80"), 0, 1 },
		{ B("ab\xbf"), 2, 1 },
		{ B("\xc2" "a"), 1, 0 },
		{ B("\xe2\x82"), 2, 0 },
		{ B("\xf0\x9f\x98"), 3, 0 },
		{ B("\xe2\x82\xac\xe2"), 4, 0 },
	};
	struct utf8	 u;
	size_t		 i, k, ok, at;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		utf8_init(&u);
		ok = utf8_feed(&u, t[i].in.p, t[i].in.n);
		check(ok == t[i].bad && (ok < t[i].in.n ||
		    utf8_done(&u) == t[i].done), "%s: %zu valid, done %d; "
		    "expected %zu, %d", esc(t[i].in.p, t[i].in.n), ok,
		    utf8_done(&u), t[i].bad, t[i].done);
		check(utf8_valid(t[i].in.p, t[i].in.n) ==
		    (t[i].bad == t[i].in.n && t[i].done),
		    "utf8_valid(%s)", esc(t[i].in.p, t[i].in.n));
		/* Split in two anywhere: the bad byte found where it is. */
		for (k = 0; k <= t[i].in.n; k++) {
			utf8_init(&u);
			at = utf8_feed(&u, t[i].in.p, k);
			if (at == k)
				at = k + utf8_feed(&u, t[i].in.p + k,
				    t[i].in.n - k);
			check(at == t[i].bad && (at < t[i].in.n ||
			    utf8_done(&u) == t[i].done), "%s split at %zu: "
			    "%zu valid", esc(t[i].in.p, t[i].in.n), k, at);
		}
	}
	point("utf8: valid 1- to 4-byte forms; overlongs, surrogates, over "
	    "U+10FFFF, stray and missing continuations found where they are");
}

static void
test_utf8_cut(void)
{
	static const struct {
		struct bytes	 in;
		size_t		 max, want;
	} t[] = {
		{ B("abc"), 5, 3 },
		{ B("abc"), 3, 3 },
		{ B("abc"), 2, 2 },
		{ B("a\xc3\xa9"), 2, 1 },
		{ B("a\xc3\xa9"), 1, 1 },
		{ B("\xe2\x82\xac\xe2\x82\xac"), 5, 3 },
		{ B("\xe2\x82\xac\xe2\x82\xac"), 4, 3 },
		{ B("\xe2\x82\xac\xe2\x82\xac"), 3, 3 },
		{ B("\xe2\x82\xac\xe2\x82\xac"), 2, 0 },
		{ B("\xf0\x9f\x98\x80z"), 4, 4 },
		{ B("\xf0\x9f\x98\x80z"), 3, 0 },
		{ B("\xf0\x9f\x98\x80z"), 0, 0 },
	};
	size_t	 i, n;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		n = utf8_cut(t[i].in.p, t[i].in.n, t[i].max);
		check(n == t[i].want, "utf8_cut(%s, %zu) is %zu, expected %zu",
		    esc(t[i].in.p, t[i].in.n), t[i].max, n, t[i].want);
	}
	point("utf8_cut: never inside a character");
}

/* RFC 6455 section 5.7, and the 256-byte and 64 KiB examples. */
static void
test_rfc(void)
{
	static const struct bytes hello = B("\x81\x05\x48\x65\x6c\x6c\x6f");
	static const struct bytes mhello = B("\x81\x85\x37\xfa\x21\x3d\x7f"
	    "\x9f\x4d\x51\x58");
	static const struct bytes frag = B("\x01\x03\x48\x65\x6c\x80\x02"
	    "\x6c\x6f");
	static const struct bytes ping = B("\x89\x05\x48\x65\x6c\x6c\x6f");
	static const struct bytes mpong = B("\x8a\x85\x37\xfa\x21\x3d\x7f"
	    "\x9f\x4d\x51\x58");
	struct str	 want = { NULL, 0, 0 };
	char		*big;
	size_t		 i;

	run(WS_CLIENT, MIB, hello.p, hello.n, 1, "T:Hello;", 0, 0, NULL,
	    NULL);
	point("RFC 6455 5.7: a single-frame unmasked text message");
	run(WS_SERVER, MIB, mhello.p, mhello.n, 1, "T:Hello;", 0, 0, NULL,
	    NULL);
	point("RFC 6455 5.7: a single-frame masked text message");
	run(WS_CLIENT, MIB, frag.p, frag.n, 1, "T:Hello;", 0, 0, NULL, NULL);
	point("RFC 6455 5.7: a fragmented unmasked text message");
	run(WS_CLIENT, MIB, ping.p, ping.n, 1, "ping:Hello;", 0, 0, NULL,
	    NULL);
	run(WS_SERVER, MIB, mpong.p, mpong.n, 1, "pong:Hello;", 0, 0, NULL,
	    NULL);
	point("RFC 6455 5.7: an unmasked ping, a masked pong");

	big = xalloc(NULL, 10 + 65536);
	memcpy(big, "\x82\x7e\x01\x00", 4);
	for (i = 0; i < 256; i++)
		big[4 + i] = (char)i;
	render(&want, "B", big + 4, 256);
	run(WS_CLIENT, MIB, big, 4 + 256, 1, want.p, 0, 0, NULL, NULL);
	point("RFC 6455 5.7: 256 bytes of binary in one unmasked frame");
	memcpy(big, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	for (i = 0; i < 65536; i++)
		big[10 + i] = (char)(i * 7);
	want.len = 0;
	render(&want, "B", big + 10, 65536);
	run(WS_CLIENT, MIB, big, 10 + 65536, 0, want.p, 0, 0, NULL, NULL);
	point("RFC 6455 5.7: 64 KiB of binary in one unmasked frame");
	free(big);
	free(want.p);
}

/*
 * Each size class (0, 125, 126, 65535 and 65536 bytes: 7-, 16- and
 * 64-bit lengths), text and binary, masked to a server and not to a
 * client, with the header bytes checked.
 */
static void
test_sizes(void)
{
	static const size_t	 sizes[] = { 0, 1, 125, 126, 127, 65535,
				     65536 };
	static const struct bytes hdrs[] = {
		B("\x00"), B("\x01"), B("\x7d"), B("\x7e\x00\x7e"),
		B("\x7e\x00\x7f"), B("\x7e\xff\xff"),
		B("\x7f\x00\x00\x00\x00\x00\x01\x00\x00")
	};
	struct str	 want = { NULL, 0, 0 };
	char		*f;
	size_t		 i, j, h, n;
	int		 text, role;

	f = xalloc(NULL, WS_HEADER_MAX + 65536);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		n = sizes[i];
		for (text = 0; text <= 1; text++)
			for (role = 0; role <= 1; role++) {
				h = ws_header_write(f, text ? WS_OP_TEXT :
				    WS_OP_BINARY, 1, n, role == WS_SERVER ?
				    keys[0] : NULL);
				check(h == 1 + hdrs[i].n + (role == WS_SERVER ?
				    4 : 0) && (unsigned char)f[0] == (text ?
				    0x81 : 0x82) && (unsigned char)(f[1] ^
				    hdrs[i].p[0]) == (role == WS_SERVER ?
				    0x80 : 0) && memcmp(f + 2, hdrs[i].p + 1,
				    hdrs[i].n - 1) == 0, "header of %zu bytes",
				    n);
				for (j = 0; j < n; j++)
					f[h + j] = text ? (char)('a' + j % 26) :
					    (char)(j * 13 + 5);
				want.len = 0;
				render(&want, text ? "T" : "B", f + h, n);
				if (role == WS_SERVER)
					ws_mask(f + h, n, keys[0], 0);
				run((enum ws_role)role, MIB, f, h + n,
				    n < 4096, want.p, 0, 0, NULL, NULL);
			}
		point("a %zu-byte message: %s length, text and binary, "
		    "masked and not", n, n < 126 ? "7-bit" : n < 65536 ?
		    "16-bit" : "64-bit");
	}
	free(f);
	free(want.p);
}

/* Messages at the limit and one byte over, whole and in fragments. */
static void
test_limits(void)
{
	enum { MAX = 65535 };
	struct str	 want = { NULL, 0, 0 };
	char		*f, *y;
	size_t		 h, i;

	f = xalloc(NULL, 2 * WS_HEADER_MAX + MAX + 1);
	y = xalloc(NULL, MAX + 1);
	memset(y, 'y', MAX + 1);
	h = ws_header_write(f, WS_OP_BINARY, 1, MAX, NULL);
	memcpy(f + h, y, MAX);
	render(&want, "B", y, MAX);
	run(WS_CLIENT, MAX, f, h + MAX, 0, want.p, 0, 0, NULL, NULL);
	point("max 65535: a message of 65535 bytes accepted");

	h = ws_header_write(f, WS_OP_BINARY, 1, MAX + 1, NULL);
	memcpy(f + h, y, MAX + 1);
	run(WS_CLIENT, MAX, f, h + MAX + 1, 0, "", E1009, 7,
	    "longer than 65535", NULL);
	point("max 65535: 65536 bytes fail at the length byte that says so");

	/* 1000 bytes, then 64535 (0xfc17): its low byte decides. */
	i = ws_header_write(f, WS_OP_TEXT, 0, 1000, NULL);
	memcpy(f + i, y, 1000);
	h = i += 1000;
	i += ws_header_write(f + i, WS_OP_CONT, 1, MAX - 1000, NULL);
	memcpy(f + i, y, MAX - 1000 + 1);
	want.len = 0;
	render(&want, "T", y, MAX);
	run(WS_CLIENT, MAX, f, i + MAX - 1000, 0, want.p, 0, 0, NULL, NULL);
	point("max 65535: 1000 + 64535 bytes in fragments accepted");
	f[h + 3] = (char)0x18;
	run(WS_CLIENT, MAX, f, i + MAX - 999, 0, NULL, E1009, h + 3, NULL,
	    NULL);
	point("max 65535: 1000 + 64536 bytes fail at the second length's "
	    "last byte");
	free(y);
	free(f);
	free(want.p);
}

static void
test_header(void)
{
	static const struct {
		enum ws_opcode	 op;
		int		 fin;
		uint64_t	 len;
		int		 masked;
		struct bytes	 out;
	} t[] = {
		{ WS_OP_TEXT, 1, 5, 0, B("\x81\x05") },
		{ WS_OP_TEXT, 0, 5, 0, B("\x01\x05") },
		{ WS_OP_CONT, 1, 0, 0, B("\x80\x00") },
		{ WS_OP_BINARY, 1, 125, 0, B("\x82\x7d") },
		{ WS_OP_BINARY, 1, 126, 0, B("\x82\x7e\x00\x7e") },
		{ WS_OP_BINARY, 1, 65535, 0, B("\x82\x7e\xff\xff") },
		{ WS_OP_BINARY, 1, 65536, 0,
		  B("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00") },
		{ WS_OP_BINARY, 1, 0x7fffffffffffffffULL, 1,
		  B("\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff"
		  "\x37\xfa\x21\x3d") },
		{ WS_OP_PING, 1, 0, 1, B("\x89\x80\x37\xfa\x21\x3d") },
		{ WS_OP_PONG, 1, 5, 1, B("\x8a\x85\x37\xfa\x21\x3d") },
		{ WS_OP_CLOSE, 1, 2, 0, B("\x88\x02") },
	};
	char	 buf[WS_HEADER_MAX + 1];
	size_t	 i, n;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		memset(buf, 'Z', sizeof buf);
		n = ws_header_write(buf, t[i].op, t[i].fin, t[i].len,
		    t[i].masked ? keys[0] : NULL);
		check(n == t[i].out.n && memcmp(buf, t[i].out.p, n) == 0 &&
		    buf[n] == 'Z', "header %d fin %d len %" PRIu64 ": %s, "
		    "expected %s", (int)t[i].op, t[i].fin, t[i].len,
		    esc(buf, n), esc(t[i].out.p, t[i].out.n));
	}
	point("ws_header_write: the shortest length, FIN, the mask key");
}

/* Masking in pieces at any offsets is masking whole; twice unmasks. */
static void
test_mask(void)
{
	static const char	 hello[] = "\x7f\x9f\x4d\x51\x58";
	char			 orig[300], a[300], b[300], c[5];
	size_t			 i, k, cut;

	memcpy(c, "Hello", 5);
	ws_mask(c, 5, keys[0], 0);
	check(memcmp(c, hello, 5) == 0, "Hello masked is %s", esc(c, 5));
	for (i = 0; i < sizeof orig; i++)
		orig[i] = (char)rng();
	memcpy(a, orig, sizeof a);
	ws_mask(a, sizeof a, keys[3], 0);
	for (k = 0; k < 20; k++) {
		memcpy(b, orig, sizeof b);
		for (i = 0; i < sizeof b; i += cut) {
			cut = 1 + (size_t)(rng() % 37);
			if (cut > sizeof b - i)
				cut = sizeof b - i;
			ws_mask(b + i, cut, keys[3], i);
		}
		check(memcmp(a, b, sizeof a) == 0, "masked in pieces #%zu "
		    "differs", k);
	}
	ws_mask(a, 100, keys[3], 0);
	ws_mask(a + 100, 200, keys[3], 100);
	check(memcmp(a, orig, sizeof a) == 0, "masking twice does not "
	    "unmask");
	point("ws_mask: RFC 6455's example, in pieces at any offset, twice");
}

static void
test_close_payload(void)
{
	char		 buf[WS_CONTROL_MAX + 8], reason[200];
	size_t		 n, i;

	memset(buf, 'Z', sizeof buf);
	n = ws_close_payload(buf, WS_CLOSE_NO_STATUS, "ignored");
	check(n == 0, "no status: %zu bytes", n);
	n = ws_close_payload(buf, 1000, NULL);
	check(n == 2 && memcmp(buf, "\x03\xe8", 2) == 0, "1000: %s",
	    esc(buf, n));
	n = ws_close_payload(buf, 1009, "too big");
	check(n == 9 && memcmp(buf, "\x03\xf1too big", 9) == 0,
	    "1009 too big: %s", esc(buf, n));
	memset(reason, 'a', sizeof reason);
	reason[sizeof reason - 1] = '\0';
	n = ws_close_payload(buf, 4000, reason);
	check(n == 125 && buf[125] == 'Z', "a long reason: %zu bytes", n);
	/* 122 bytes, then a 3-byte character across the limit of 123. */
	memcpy(reason + 122, "\xe2\x82\xac", 4);
	n = ws_close_payload(buf, 1000, reason);
	check(n == 124, "a character across the limit: %zu bytes", n);
	memcpy(reason + 120, "\xe2\x82\xac", 4);
	n = ws_close_payload(buf, 1000, reason);
	check(n == 125 && memcmp(buf + 122, "\xe2\x82\xac", 3) == 0,
	    "a character up to the limit: %zu bytes", n);
	for (i = 0; i < 40; i++)
		memcpy(reason + 3 * i, "\xe2\x82\xac", 3);
	memcpy(reason + 120, "\xf0\x9f\x98\x80", 5);
	n = ws_close_payload(buf, 1000, reason);
	check(n == 122 && utf8_valid(buf + 2, n - 2), "a 4-byte character "
	    "across the limit: %zu bytes", n);
	point("ws_close_payload: the code, the reason cut to 123 bytes "
	    "between characters; no status, no payload");
}

static void
test_close_codes(void)
{
	int	 c, want;

	for (c = -1; c < 70000; c++) {
		want = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
		    (c >= 3000 && c <= 4999);
		if (ws_close_code_valid(c) != want)
			check(0, "ws_close_code_valid(%d) is %d", c, !want);
	}
	point("ws_close_code_valid: 1000-1003, 1007-1014, 3000-4999");
}

static void
test_sticky(void)
{
	struct ws_dec	*d;
	struct ws_event	 ev;
	char		 in[] = "\x81\x01" "a\xc1\x00\x81\x00";
	size_t		 used;
	const char	*e;

	d = ws_dec_new(WS_CLIENT, MIB);
	check(ws_dec_error(d) == NULL && ws_dec_code(d) == 0,
	    "a new decoder has an error");
	check(ws_dec_feed(d, in, 0, &used, &ev) == WS_MORE && used == 0,
	    "an empty feed is not WS_MORE");
	check(ws_dec_feed(d, in, sizeof in - 1, &used, &ev) == WS_EVENT &&
	    used == 3 && ev.len == 1 && ev.flags == (WS_FIRST | WS_LAST),
	    "\"a\" is not the first event");
	check(ws_dec_feed(d, in + 3, sizeof in - 4, &used, &ev) == WS_ERROR &&
	    used == 0, "RSV1 did not fail at once");
	e = ws_dec_error(d);
	check(e != NULL && strcmp(e, "ws: RSV bits set (no extension was "
	    "agreed), got '\\xc1', at byte 3") == 0, "message %s",
	    e ? esc(e, strlen(e)) : "NULL");
	check(ws_dec_code(d) == 1002, "code %d", ws_dec_code(d));
	check(ws_dec_feed(d, in + 5, 2, &used, &ev) == WS_ERROR &&
	    ws_dec_end(d) == WS_ERROR && ws_dec_error(d) == e,
	    "not sticky");
	ws_dec_free(d);
	ws_dec_free(NULL);

	d = ws_dec_new(WS_SERVER, MIB);
	check(ws_dec_end(d) == WS_ERROR && ws_dec_code(d) == 1006,
	    "the end before any frame is not 1006");
	ws_dec_free(d);
	point("errors are sticky, \"ws: <what>, got 'c', at byte N\"; "
	    "ws_dec_free(NULL)");
}

/*
 * Random messages (valid UTF-8 text, binary) in random fragments with
 * pings between them, encoded with the helpers (masked for a server),
 * decode to themselves.
 */
static void
test_roundtrip(enum ws_role role)
{
	enum { NMSG = 150 };
	static const char	*const pieces[] = {
		"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x7f",
		"\xf4\x8f\xbf\xbf", " ", ";"
	};
	struct str	 in = { NULL, 0, 0 }, want = { NULL, 0, 0 };
	struct str	 msg = { NULL, 0, 0 };
	char		 h[WS_HEADER_MAX], ping[8];
	const unsigned char *key;
	size_t		 i, j, off, n, frag, hl;
	int		 text, op;

	for (i = 0; i < NMSG; i++) {
		text = rng() % 2;
		msg.len = 0;
		n = rng() % 10 < 8 ? rng() % 40 : rng() % 3000;
		while (msg.len < n) {
			if (text) {
				j = rng() % (sizeof pieces / sizeof pieces[0]);
				str_add(&msg, pieces[j], strlen(pieces[j]));
			} else {
				h[0] = (char)rng();
				str_add(&msg, h, 1);
			}
		}
		for (off = 0, op = text ? WS_OP_TEXT : WS_OP_BINARY;;) {
			frag = msg.len - off;
			if (rng() % 3 == 0)
				frag = (size_t)(rng() % (frag + 1));
			key = role == WS_SERVER ? keys[rng() % 4] : NULL;
			hl = ws_header_write(h, (enum ws_opcode)op,
			    off + frag == msg.len, frag, key);
			str_add(&in, h, hl);
			str_add(&in, msg.p + off, frag);
			if (key != NULL)
				ws_mask(in.p + in.len - frag, frag, key, 0);
			off += frag;
			if (off == msg.len)
				break;
			op = WS_OP_CONT;
			if (rng() % 2 == 0)
				continue;
			hl = ws_header_write(h, WS_OP_PING, 1, 3, key);
			memcpy(ping, "p\xc3\xa9", 3);
			render(&want, "ping", ping, 3);
			if (key != NULL)
				ws_mask(ping, 3, key, 0);
			str_add(&in, h, hl);
			str_add(&in, ping, 3);
		}
		render(&want, text ? "T" : "B", msg.p, msg.len);
	}
	hl = ws_header_write(h, WS_OP_CLOSE, 1, 2, role == WS_SERVER ?
	    keys[1] : NULL);
	str_add(&in, h, hl);
	str_add(&in, "\x03\xe8", 2);
	str_fmt(&want, "close:1000:;");
	run(role, MIB, in.p, in.len, 0, want.p, 0, 0, NULL, "");
	point("round trip to a %s: %d random messages in random fragments, "
	    "pings between", role == WS_SERVER ? "server" : "client", NMSG);
	free(in.p);
	free(want.p);
	free(msg.p);
}

int
main(void)
{
	size_t	 i;

	test_utf8();
	test_utf8_cut();
	for (i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		test_vec(&vecs[i]);
	test_rfc();
	test_sizes();
	test_limits();
	test_header();
	test_mask();
	test_close_payload();
	test_close_codes();
	test_sticky();
	test_roundtrip(WS_CLIENT);
	test_roundtrip(WS_SERVER);
	return tap_end();
}
