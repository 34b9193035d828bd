/*
 * Unit tests of the HTTP head parser (src/http-head.c) and the WebSocket
 * handshake (src/ws-handshake.c), printing TAP.
 *
 * Every head is fed whole, byte by byte, split in two at every position
 * and in random chunks; each way must give the same head (its length, the
 * start line and the fields) or the same error, from the feed that holds
 * the offending byte, and must leave the bytes after the head untaken.
 * The handshake's requests and responses are fed so too, and each way
 * must lead to the same decision.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-head.h"
#include "tap.h"
#include "ws-handshake.h"

#define B(s)		{ (s), sizeof(s) - 1 }
#define ANY		UINT64_MAX
#define MAX		8192

#define REQ		HTTP_HEAD_REQUEST
#define RES		HTTP_HEAD_RESPONSE

/* The RFC 6455 example key, and its answer. */
#define KEY		"dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT		"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

struct bytes {
	const char	*p;
	size_t		 n;
};

struct vec {
	const char	*name;
	enum http_head_kind kind;
	size_t		 max;		/* 0: MAX */
	struct bytes	 in;
	const char	*out;		/* the head; NULL: an error */
	size_t		 head;		/* its length; 0: all the input */
	uint64_t	 at;		/* the error's offset */
	const char	*what;		/* in its message */
};

/* What feeding a head one way gave. */
struct result {
	struct str	 dump;		/* the head: start line, fields */
	size_t		 head;		/* its length */
	int		 done, failed;
	char		 err[256];
	uint64_t	 at;
	char		 fault[256];
};

static void	 dump(struct str *, const struct http_head *);
static void	 parse(enum http_head_kind, size_t, const char *, size_t,
		    const size_t *, size_t, struct result *);
static int	 same(const struct result *, const struct result *,
		    const char *);
static void	 test_vec(const struct vec *);
static void	 test_bound(void);
static void	 test_tokens(void);
static struct http_head *head(enum http_head_kind, const char *);
static struct http_head *head_fed(enum http_head_kind, const char *,
		    const struct feeds *);
static void	 test_accept(void);
static void	 test_keys(void);
static void	 test_requests(void);
static void	 test_responses(void);
static void	 test_build(void);
static void	 test_build_errors(void);
static void	 test_checks(void);
static void	 test_loop(void);

/*
 * "GET /chat 11|Name:value|...", or "101 Switching Protocols 11|...",
 * the bytes escaped.
 */
static void
dump(struct str *s, const struct http_head *h)
{
	const char	*name, *value;
	size_t		 i;

	if (http_head_method(h) != NULL) {
		str_esc(s, http_head_method(h), strlen(http_head_method(h)));
		str_add(s, " ", 1);
		str_esc(s, http_head_target(h), strlen(http_head_target(h)));
	} else {
		str_fmt(s, "%d ", http_head_code(h));
		str_esc(s, http_head_reason(h), strlen(http_head_reason(h)));
	}
	str_fmt(s, " %d|", http_head_version(h));
	for (i = 0; http_head_field(h, i, &name, &value) == 0; i++) {
		str_esc(s, name, strlen(name));
		str_add(s, ":", 1);
		str_esc(s, value, strlen(value));
		str_add(s, "|", 1);
	}
}

/* Feeds in the given chunks until the head is done or fails. */
static void
parse(enum http_head_kind kind, size_t max, const char *in, size_t len,
    const size_t *ch, size_t nch, struct result *r)
{
	struct http_head	*h;
	enum http_head_status	 st = HTTP_HEAD_MORE;
	const char		*e;
	size_t			 c, off = 0, used;

	r->dump.len = 0;
	str_add(&r->dump, "", 0);
	r->head = 0;
	r->done = r->failed = 0;
	r->err[0] = r->fault[0] = '\0';
	r->at = ANY;
	h = http_head_new(kind, max);
	for (c = 0; c < nch && st == HTTP_HEAD_MORE; c++) {
		used = (size_t)-1;
		st = http_head_feed(h, in + off, ch[c], &used);
		if (used > ch[c] || (st == HTTP_HEAD_MORE && used != ch[c]))
			fault(r, "status %d with used %zu of %zu", (int)st,
			    used, ch[c]);
		if (st == HTTP_HEAD_ERROR) {
			e = http_head_error(h);
			snprintf(r->err, sizeof r->err, "%s", e ? e : "(null)");
			r->at = tap_at(r->err);
			r->failed = 1;
			if (strncmp(r->err, "http: ", 6) != 0 || r->at == ANY ||
			    r->at < off || r->at >= off + ch[c] ||
			    r->at != off + used)
				fault(r, "error %s from a feed of bytes "
				    "%zu..%zu, used %zu", r->err, off,
				    off + ch[c] - 1, used);
		}
		off += used;
	}
	if (st == HTTP_HEAD_DONE) {
		r->done = 1;
		r->head = off;
		dump(&r->dump, h);
		if (http_head_feed(h, in, len, &used) != HTTP_HEAD_DONE ||
		    used != 0)
			fault(r, "a feed after the head took bytes");
	} else if (st == HTTP_HEAD_ERROR) {
		if (http_head_feed(h, "\r\n\r\n", 4, &used) !=
		    HTTP_HEAD_ERROR || used != 0 ||
		    (e = http_head_error(h)) == NULL ||
		    strcmp(e, r->err) != 0 || http_head_method(h) != NULL ||
		    http_head_reason(h) != NULL)
			fault(r, "the error is not sticky");
	} else if (off != len)
		fault(r, "MORE after %zu of %zu bytes", off, len);
	http_head_free(h);
}

static int
same(const struct result *r, const struct result *ref, const char *mode)
{
	nchecks++;
	if (r->fault[0] != '\0') {
		diag("%s: %s", mode, r->fault);
		return 0;
	}
	if (r->done != ref->done || r->failed != ref->failed ||
	    r->head != ref->head || strcmp(r->dump.p, ref->dump.p) != 0 ||
	    strcmp(r->err, ref->err) != 0) {
		diag("%s: head %zu %s %s, fed whole %zu %s %s", mode, r->head,
		    r->dump.p, r->err, ref->head, ref->dump.p, ref->err);
		return 0;
	}
	return 1;
}

static void
test_vec(const struct vec *v)
{
	static struct result	 ref, r;
	static struct feeds	 f;
	size_t			 max = v->max ? v->max : MAX;
	size_t			 head = v->head ? v->head : v->in.n;

	feeds_start(&f, v->in.n, 1);
	feeds_next(&f);
	parse(v->kind, max, v->in.p, v->in.n, f.chunks, f.n, &ref);
	if (!same(&ref, &ref, "whole"))
		goto out;
	if (v->out != NULL) {
		check(ref.done && ref.head == head &&
		    strcmp(ref.dump.p, v->out) == 0, "head of %zu bytes %s, "
		    "expected %zu %s%s%s", ref.head, esc(ref.dump.p,
		    ref.dump.len), head, esc(v->out, strlen(v->out)),
		    ref.failed ? ": " : "", ref.err);
	} else if (v->what != NULL) {
		check(ref.failed && ref.at == v->at &&
		    strstr(ref.err, v->what) != NULL, "error %s, expected "
		    "at byte %" PRIu64 " %s", ref.failed ? ref.err : "none",
		    v->at, v->what);
	} else
		check(!ref.done && !ref.failed, "not incomplete: %s %s",
		    ref.dump.p, ref.err);
	while (feeds_next(&f)) {
		parse(v->kind, max, v->in.p, v->in.n, f.chunks, f.n, &r);
		if (!same(&r, &ref, f.mode))
			break;
	}
out:
	point("%s: %s", v->kind == REQ ? "request" : "response", v->name);
}

#define WSREQ	"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n" \
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" \
		"Sec-WebSocket-Key: " KEY "\r\n" \
		"Origin: http://example.com\r\n" \
		"Sec-WebSocket-Protocol: chat, superchat\r\n" \
		"Sec-WebSocket-Version: 13\r\n\r\n"
#define WSREQ_OUT "GET /chat 11|Host:server.example.com|Upgrade:websocket|" \
		"Connection:Upgrade|Sec-WebSocket-Key:" KEY "|" \
		"Origin:http://example.com|Sec-WebSocket-Protocol:chat, " \
		"superchat|Sec-WebSocket-Version:13|"

#define OK(name, kind, in, out, head) \
	{ name, kind, 0, in, out, head, 0, NULL }
#define BAD(name, kind, in, at, what) \
	{ name, kind, 0, in, NULL, 0, at, what }
#define MORE(name, kind, in) \
	{ name, kind, 0, in, NULL, 0, 0, NULL }

static const struct vec vecs[] = {
	/* Requests. */
	OK("RFC 6455's handshake request", REQ, B(WSREQ), WSREQ_OUT, 0),
	OK("the same with bare LF line ends", REQ,
	    B("GET /chat HTTP/1.1\nHost: a\nUpgrade: websocket\n\n"),
	    "GET /chat 11|Host:a|Upgrade:websocket|", 0),
	OK("CRLF and LF mixed", REQ,
	    B("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n"),
	    "GET / 11|Host:a|X:y|", 0),
	OK("bytes after the head are not taken", REQ,
	    B("GET / HTTP/1.1\r\nHost: a\r\n\r\n\x81\x05Hello"),
	    "GET / 11|Host:a|", 27),
	OK("a second head after the first is not taken", REQ,
	    B("GET / HTTP/1.1\n\nGET / HTTP/1.1\n\n"), "GET / 11|", 16),
	OK("no fields, HTTP/1.0", REQ, B("GET / HTTP/1.0\r\n\r\n"),
	    "GET / 10|", 0),
	OK("OWS around values trimmed, inside kept", REQ,
	    B("GET / HTTP/1.1\r\nX:   a  b \t \r\nY:\tc\r\n\r\n"),
	    "GET / 11|X:a  b|Y:c|", 0),
	OK("empty values", REQ,
	    B("GET / HTTP/1.1\r\nX:\r\nY: \t \r\nZ:\n\r\n"),
	    "GET / 11|X:|Y:|Z:|", 0),
	OK("obs-text in a value", REQ,
	    B("GET / HTTP/1.1\r\nX: caf\xc3\xa9\xff\r\n\r\n"),
	    "GET / 11|X:caf\\xc3\\xa9\\xff|", 0),
	OK("a target with a query", REQ,
	    B("GET /chat?x=1&y=%20 HTTP/1.1\r\n\r\n"),
	    "GET /chat?x=1&y=%20 11|", 0),
	OK("a method with token characters, target *", REQ,
	    B("M-SEARCH * HTTP/1.1\r\n\r\n"), "M-SEARCH * 11|", 0),
	OK("field names of every token character", REQ,
	    B("GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n"),
	    "GET / 11|!#$%&'*+-.^_`\\x7c~09azAZ:v|", 0),
	OK("a colon in a value", REQ,
	    B("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"),
	    "GET / 11|Host:[::1]:80|", 0),
	OK("a repeated field kept twice", REQ,
	    B("GET / HTTP/1.1\r\nA: 1\r\nA: 2\r\n\r\n"), "GET / 11|A:1|A:2|",
	    0),
	MORE("incomplete: no blank line yet", REQ,
	    B("GET / HTTP/1.1\r\nHost: a\r\n")),
	MORE("incomplete: a CR of the blank line", REQ,
	    B("GET / HTTP/1.1\r\nHost: a\r\n\r")),
	MORE("empty input", REQ, B("")),
	/* Request errors. */
	BAD("a leading space", REQ, B(" GET / HTTP/1.1\r\n\r\n"), 0,
	    "method expected, got ' '"),
	BAD("a leading CRLF", REQ, B("\r\nGET / HTTP/1.1\r\n\r\n"), 0,
	    "method expected, got '\\x0d'"),
	BAD("TLS to a plain server", REQ, B("\x16\x03\x01\x02\x00\x01"), 0,
	    "got '\\x16'"),
	BAD("a method with '('", REQ, B("GE(T / HTTP/1.1\r\n\r\n"), 2,
	    "method expected"),
	BAD("two spaces after the method", REQ,
	    B("GET  / HTTP/1.1\r\n\r\n"), 4, "request target"),
	BAD("no target", REQ, B("GET HTTP/1.1\r\n\r\n"), 12,
	    "request target expected, got '\\x0d'"),
	BAD("a control character in the target", REQ,
	    B("GET /a\x01 HTTP/1.1\r\n\r\n"), 6, "request target"),
	BAD("a byte over 0x7e in the target", REQ,
	    B("GET /\xc3\xa9 HTTP/1.1\r\n\r\n"), 5, "request target"),
	BAD("http/1.1 in lower case", REQ, B("GET / http/1.1\r\n\r\n"), 6,
	    "HTTP version expected, got 'h'"),
	BAD("HTTP/11.1", REQ, B("GET / HTTP/11.1\r\n\r\n"), 12,
	    "HTTP version expected"),
	BAD("HTTP/1.11", REQ, B("GET / HTTP/1.11\r\n\r\n"), 14,
	    "end of line expected"),
	BAD("HTTP/1", REQ, B("GET / HTTP/1\r\n\r\n"), 12,
	    "HTTP version expected"),
	BAD("a space after the version", REQ, B("GET / HTTP/1.1 \r\n\r\n"),
	    14, "end of line"),
	BAD("a bare CR", REQ, B("GET / HTTP/1.1\rHost: a\r\n\r\n"), 15,
	    "CR not followed by LF, got 'H'"),
	BAD("a bare CR ending the head", REQ, B("GET / HTTP/1.1\r\n\rX"), 17,
	    "CR not followed by LF"),
	BAD("obsolete line folding", REQ,
	    B("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), 22,
	    "obsolete line folding"),
	BAD("obsolete line folding with a tab", REQ,
	    B("GET / HTTP/1.1\r\n\tc\r\n\r\n"), 16, "obsolete line folding"),
	BAD("a space before the colon", REQ,
	    B("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 20,
	    "invalid character in a field name, got ' '"),
	BAD("no colon", REQ, B("GET / HTTP/1.1\r\nHost\r\n\r\n"), 20,
	    "field name"),
	BAD("an empty field name", REQ, B("GET / HTTP/1.1\r\n: x\r\n\r\n"), 16,
	    "field name expected, got ':'"),
	BAD("a control character in a value", REQ,
	    B("GET / HTTP/1.1\r\nA: b\x01" "c\r\n\r\n"), 20,
	    "invalid character in a field value, got '\\x01'"),
	BAD("NUL in a value", REQ, B("GET / HTTP/1.1\r\nA: \0\r\n\r\n"), 19,
	    "'\\x00'"),
	BAD("DEL in a value", REQ, B("GET / HTTP/1.1\r\nA: \x7f\r\n\r\n"), 19,
	    "'\\x7f'"),
	BAD("a bare CR in a value", REQ,
	    B("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), 21,
	    "CR not followed by LF"),
	/* Responses. */
	OK("101 Switching Protocols", RES,
	    B("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
	    "101 Switching Protocols 11|Upgrade:websocket|"
	    "Connection:Upgrade|Sec-WebSocket-Accept:" ACCEPT "|", 0),
	OK("a response with frames after it", RES,
	    B("HTTP/1.1 101 OK\r\n\r\n\x81\x00"), "101 OK 11|", 19),
	OK("bare LF line ends", RES, B("HTTP/1.0 200 OK\nA: b\n\n"),
	    "200 OK 10|A:b|", 0),
	OK("an empty reason", RES, B("HTTP/1.1 204 \r\n\r\n"), "204  11|", 0),
	OK("no reason, no space", RES, B("HTTP/1.1 204\r\n\r\n"), "204  11|",
	    0),
	OK("a reason with spaces, a tab and obs-text", RES,
	    B("HTTP/1.1 404 Not \tFound \xff\r\n\r\n"),
	    "404 Not \\x09Found \\xff 11|", 0),
	OK("a proxy's 200", RES, B("HTTP/1.1 200 Connection established\r\n"
	    "Proxy-Agent: x/1\r\n\r\n"),
	    "200 Connection established 11|Proxy-Agent:x/1|", 0),
	/* Response errors. */
	BAD("a request where a response is due", RES,
	    B("GET / HTTP/1.1\r\n\r\n"), 0, "HTTP version expected"),
	BAD("no space after the version", RES, B("HTTP/1.1200 OK\r\n\r\n"), 8,
	    "space expected after the HTTP version"),
	BAD("a 2-digit code", RES, B("HTTP/1.1 20 OK\r\n\r\n"), 11,
	    "3-digit status code expected"),
	BAD("a 4-digit code", RES, B("HTTP/1.1 2000 OK\r\n\r\n"), 12,
	    "space expected after the status code"),
	BAD("a control character in the reason", RES,
	    B("HTTP/1.1 200 O\x01K\r\n\r\n"), 14, "reason phrase"),
	BAD("no code", RES, B("HTTP/1.1 \r\n\r\n"), 9, "3-digit status code"),
};

/* A head of exactly the bound is taken; one byte more fails there. */
static void
test_bound(void)
{
	static struct feeds	 f;
	struct result		 r = { { NULL, 0, 0 }, 0, 0, 0, "", 0, "" };
	char			*in;
	size_t			 len, i;
	int			 ok = 1;

	in = xalloc(NULL, MAX + 16);
	len = (size_t)snprintf(in, MAX, "GET / HTTP/1.1\r\nX: ");
	memset(in + len, 'x', MAX - len - 4);
	memcpy(in + MAX - 4, "\r\n\r\n\x81\x00", 6);
	for (i = 0; i < 2; i++) {
		feeds_start(&f, MAX + 2 - i, 0);
		while (ok && feeds_next(&f)) {
			parse(REQ, MAX - i, in, MAX + 2 - i, f.chunks, f.n,
			    &r);
			ok = r.fault[0] == '\0' && (i == 0 ? r.done &&
			    r.head == MAX : r.failed && r.at == MAX - 1 &&
			    strstr(r.err, "head longer than 8191 bytes, got "
			    "'\\x0a'") != NULL);
			check(ok, "bound %d, %s: %s head %zu%s %s",
			    MAX - (int)i, f.mode, r.done ? "done" : "not done",
			    r.head, r.fault, r.err);
		}
	}
	/* 18 bytes under bounds of 16, 17 and 18. */
	len = (size_t)snprintf(in, MAX, "GET / HTTP/1.1\r\n\r\n");
	for (i = len - 2; i <= len; i++) {
		parse(REQ, i, in, len, &len, 1, &r);
		check(i == len ? r.done && r.head == len : r.failed &&
		    r.at == i, "bound %zu of 18 bytes: %s", i, r.err);
	}
	free(in);
	free(r.dump.p);
	point("a head of exactly 8 KiB is taken, frames after it are not; "
	    "8 KiB + 1 fails at its last byte");
}

/* text as a head fed in f's chunks: done, failed or cut short. */
static struct http_head *
head_fed(enum http_head_kind kind, const char *text, const struct feeds *f)
{
	struct http_head	*h;
	size_t			 c, off = 0, used;

	h = http_head_new(kind, MAX);
	for (c = 0; c < f->n; c++) {
		if (http_head_feed(h, text + off, f->chunks[c], &used) !=
		    HTTP_HEAD_MORE)
			break;
		off += used;
	}
	return h;
}

/* A parsed head, or NULL. */
static struct http_head *
head(enum http_head_kind kind, const char *text)
{
	struct http_head	*h;
	size_t			 used;

	h = http_head_new(kind, MAX);
	if (http_head_feed(h, text, strlen(text), &used) != HTTP_HEAD_DONE) {
		diag("head %s: %s", esc(text, strlen(text)),
		    http_head_error(h) ? http_head_error(h) : "incomplete");
		http_head_free(h);
		return NULL;
	}
	return h;
}

static void
test_tokens(void)
{
	static const struct {
		const char	*fields;
		const char	*token;
		int		 any, exact;
	} t[] = {
		{ "Connection: keep-alive, Upgrade", "upgrade", 1, 0 },
		{ "Connection: keep-alive, Upgrade", "Upgrade", 1, 1 },
		{ "Connection: Upgrade,keep-alive", "UPGRADE", 1, 0 },
		{ "Connection: close\r\nconnection: upgrade", "upgrade", 1, 1 },
		{ "Connection: , ,\t upgrade \t, ,", "upgrade", 1, 1 },
		{ "Connection: upgraded", "upgrade", 0, 0 },
		{ "Connection: up grade", "upgrade", 0, 0 },
		{ "Connection: xupgrade, upgradex", "upgrade", 0, 0 },
		{ "Connection:", "upgrade", 0, 0 },
		{ "Connection: ,", "", 0, 0 },
		{ "Upgrade: websocket", "upgrade", 0, 0 },
		{ "Connection: \"upgrade\"", "upgrade", 0, 0 },
	};
	struct http_head	*h;
	char			 text[256];
	size_t			 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(text, sizeof text, "GET / HTTP/1.1\r\n%s\r\n\r\n",
		    t[i].fields);
		if ((h = head(REQ, text)) == NULL)
			continue;
		check(http_head_has_token(h, "CONNECTION", t[i].token) ==
		    t[i].any && http_head_has_exact(h, "connection",
		    t[i].token) == t[i].exact, "%s holds %s: %d %d, expected "
		    "%d %d", esc(t[i].fields, strlen(t[i].fields)), t[i].token,
		    http_head_has_token(h, "CONNECTION", t[i].token),
		    http_head_has_exact(h, "connection", t[i].token),
		    t[i].any, t[i].exact);
		http_head_free(h);
	}
	h = head(REQ, "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\nX-Y: z\r\n\r\n");
	if (h != NULL) {
		check(http_head_count(h, "HOST") == 2 &&
		    strcmp(http_head_get(h, "HOST"), "a") == 0 &&
		    strcmp(http_head_get(h, "x-y"), "z") == 0 &&
		    http_head_get(h, "X") == NULL &&
		    http_head_count(h, "X") == 0, "lookups by name");
		check(http_head_code(h) == 0 && http_head_reason(h) == NULL,
		    "a request has a status");
	}
	http_head_free(h);
	http_head_free(NULL);
	check(http_head_token("a-b", 3) && !http_head_token("", 0) &&
	    !http_head_token("a b", 3) && !http_head_token("a,b", 3),
	    "http_head_token");
	point("lookups: fields by name in any case, list tokens in any "
	    "case or exactly; http_head_free(NULL)");
}

static void
test_accept(void)
{
	char	 out[WS_ACCEPT_LEN + 1];

	check(ws_handshake_accept(KEY, out) == 0 && strcmp(out, ACCEPT) == 0,
	    "the RFC's key gives %s", out);
	check(ws_handshake_accept("AAAAAAAAAAAAAAAAAAAAAA==", out) == 0 &&
	    strlen(out) == WS_ACCEPT_LEN, "another key gives %s", out);
	point("Sec-WebSocket-Accept of RFC 6455's key " KEY " is " ACCEPT);
}

static void
test_keys(void)
{
	static const struct {
		const char	*key;
		int		 valid;
	} t[] = {
		{ KEY, 1 },
		{ "AAAAAAAAAAAAAAAAAAAAAA==", 1 },
		{ "/+/+/+/+/+/+/+/+/+/+/w==", 1 },
		{ "abcdefghijklmnopqrstuQ==", 1 },
		{ "", 0 },
		{ "dGhlIHNhbXBsZSBub25jZQ=", 0 },
		{ "dGhlIHNhbXBsZSBub25jZQ===", 0 },
		{ "dGhlIHNhbXBsZSBub25jZQ", 0 },
		{ "dGhlIHNhbXBsZSBub25jZR==", 0 },
		{ "dGhlIHNhbXBsZSBub25jZQ=A", 0 },
		{ "dGhlIHNhbXBsZSBub25jZ-==", 0 },
		{ "dGhlIHNhbXBsZSBub25j_Q==", 0 },
		{ "dGhlIHNhbXBsZSBu b25jQ==", 0 },
		{ "dGhlIHNhbXBsZSBub25jZQ==dGhl", 0 },
		{ "AAAAAAAAAAAAAAAAAAAAAAA=", 0 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAA", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		check(ws_handshake_key_valid(t[i].key) == t[i].valid,
		    "key %s: %d", t[i].key, !t[i].valid);
	point("Sec-WebSocket-Key: base64 of exactly 16 bytes");
}

#define REQ_LINE	"GET /chat HTTP/1.1\r\nHost: a\r\n"
#define UPGRADE		"Upgrade: websocket\r\nConnection: Upgrade\r\n"
#define VERSION		"Sec-WebSocket-Version: 13\r\n"
#define WITH_KEY	"Sec-WebSocket-Key: " KEY "\r\n"

/* The server's decisions on requests; the responses it writes. */
static void
test_requests(void)
{
	static const struct {
		const char	*req;
		const char	*path, *sub;
		int		 status;
		const char	*why;		/* 101: the subprotocol */
	} t[] = {
		{ WSREQ, "/chat", NULL, 101, NULL },
		{ WSREQ, NULL, NULL, 101, NULL },
		{ WSREQ, "/chat", "chat", 101, "chat" },
		{ WSREQ, "/chat", "superchat", 101, "superchat" },
		{ WSREQ, "/chat", "Chat", 101, NULL },
		{ WSREQ, "/chat", "other", 101, NULL },
		{ "GET /chat?room=1 HTTP/1.1\r\nHost: a\r\n" UPGRADE VERSION
		  WITH_KEY "\r\n", "/chat", NULL, 101, NULL },
		{ "GET /chat HTTP/1.1\nHost: a\nUpgrade: WebSocket\n"
		  "Connection: keep-alive, upgrade\nSec-WebSocket-Version: 13\n"
		  WITH_KEY "\n", "/chat", NULL, 101, NULL },
		{ "GET /chat HTTP/1.1\r\nHost: a\r\n" UPGRADE VERSION
		  "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n",
		  "/chat", NULL, 101, NULL },
		/* 404 */
		{ WSREQ, "/", NULL, 404, "path /chat" },
		{ WSREQ, "/cha", NULL, 404, "path /chat" },
		{ WSREQ, "/chat/", NULL, 404, "path /chat" },
		{ "GET /chat/x?y HTTP/1.1\r\nHost: a\r\n\r\n", "/chat", NULL,
		  404, "path /chat/x" },
		/* 400 */
		{ "POST /chat HTTP/1.1\r\nHost: a\r\n" UPGRADE VERSION WITH_KEY
		  "\r\n", "/chat", NULL, 400, "method POST, not GET" },
		{ "GET /chat HTTP/1.0\r\nHost: a\r\n" UPGRADE VERSION WITH_KEY
		  "\r\n", "/chat", NULL, 400, "HTTP/1.0, not 1.1" },
		{ "GET /chat HTTP/1.1\r\n" UPGRADE VERSION WITH_KEY "\r\n",
		  "/chat", NULL, 400, "0 Host fields" },
		{ REQ_LINE "Host: b\r\n" UPGRADE VERSION WITH_KEY "\r\n",
		  "/chat", NULL, 400, "2 Host fields" },
		{ "GET * HTTP/1.1\r\nHost: a\r\n" UPGRADE VERSION WITH_KEY
		  "\r\n", NULL, NULL, 400, "not a path" },
		{ REQ_LINE UPGRADE VERSION "\r\n", "/chat", NULL, 400,
		  "Sec-WebSocket-Key missing" },
		{ REQ_LINE UPGRADE VERSION "Sec-WebSocket-Key: abc\r\n\r\n",
		  "/chat", NULL, 400, "not base64 of 16 bytes" },
		{ REQ_LINE UPGRADE VERSION WITH_KEY WITH_KEY "\r\n", "/chat",
		  NULL, 400, "Sec-WebSocket-Key given twice" },
		{ "GET /chat HTTP/1.1\r\nHost a\r\n\r\n", "/chat", NULL, 400,
		  "http: invalid character in a field name" },
		{ "GET /chat HTTP/1.1\r\nHost: a\r\n", "/chat", NULL, 400,
		  "incomplete request" },
		/* 426 */
		{ REQ_LINE "\r\n", "/chat", NULL, 426, "not a WebSocket" },
		{ REQ_LINE "Upgrade: h2c\r\nConnection: Upgrade\r\n" VERSION
		  WITH_KEY "\r\n", "/chat", NULL, 426, "not a WebSocket" },
		{ REQ_LINE "Upgrade: websocket\r\nConnection: keep-alive\r\n"
		  VERSION WITH_KEY "\r\n", "/chat", NULL, 426,
		  "not a WebSocket" },
		{ REQ_LINE UPGRADE "Sec-WebSocket-Version: 8\r\n" WITH_KEY
		  "\r\n", "/chat", NULL, 426, "Version 8, not 13" },
		{ REQ_LINE UPGRADE WITH_KEY "\r\n", "/chat", NULL, 426,
		  "Sec-WebSocket-Version missing" },
		{ REQ_LINE UPGRADE VERSION VERSION WITH_KEY "\r\n", "/chat",
		  NULL, 426, "Version given twice or more, not 13" },
	};
	static struct feeds	 f;
	struct ws_handshake_reply r, first;
	struct http_head	*h;
	char			 accept[WS_ACCEPT_LEN + 1];
	size_t			 i;
	const char		*why;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		feeds_start(&f, strlen(t[i].req), 1);
		feeds_next(&f);
		h = head_fed(REQ, t[i].req, &f);
		memset(&r, 0x5a, sizeof r);
		ws_handshake_check_request(h, t[i].path, t[i].sub, &r);
		while (feeds_next(&f) && !failing) {
			first = r;
			http_head_free(h);
			h = head_fed(REQ, t[i].req, &f);
			ws_handshake_check_request(h, t[i].path, t[i].sub, &r);
			check(r.status == first.status &&
			    strcmp(r.why, first.why) == 0 &&
			    strcmp(r.accept, first.accept) == 0 &&
			    r.subprotocol == first.subprotocol, "request %zu, "
			    "%s: %d %s, fed whole %d %s", i, f.mode, r.status,
			    r.why, first.status, first.why);
		}
		why = t[i].status == 101 ? NULL : t[i].why;
		check(r.status == t[i].status && (why == NULL ||
		    strstr(r.why, why) != NULL), "request %zu, path %s: %d "
		    "%s, expected %d %s", i, t[i].path ? t[i].path : "any",
		    r.status, r.why, t[i].status, why ? why : "");
		if (t[i].status == 101) {
			ws_handshake_accept(http_head_get(h,
			    "Sec-WebSocket-Key"), accept);
			check(strcmp(r.accept, accept) == 0, "request %zu: "
			    "accept %s", i, r.accept);
			check(t[i].why == NULL ? r.subprotocol == NULL :
			    r.subprotocol != NULL &&
			    strcmp(r.subprotocol, t[i].why) == 0,
			    "request %zu: subprotocol %s", i, r.subprotocol ?
			    r.subprotocol : "none");
		}
		http_head_free(h);
	}
	point("the server's decisions: 101, 400, 404, 426, the subprotocol "
	    "agreed (case-sensitive)");
}

static void
test_responses(void)
{
	static const struct {
		int		 status;
		const char	*sub;
		const char	*text;
	} t[] = {
		{ 101, NULL, "HTTP/1.1 101 Switching Protocols\r\n"
		  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n" },
		{ 101, "chat", "HTTP/1.1 101 Switching Protocols\r\n"
		  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: " ACCEPT "\r\n"
		  "Sec-WebSocket-Protocol: chat\r\n\r\n" },
		{ 400, NULL, "HTTP/1.1 400 Bad Request\r\n"
		  "Content-Type: text/plain\r\nContent-Length: 12\r\n"
		  "Connection: close\r\n\r\nBad Request\n" },
		{ 404, NULL, "HTTP/1.1 404 Not Found\r\n"
		  "Content-Type: text/plain\r\nContent-Length: 10\r\n"
		  "Connection: close\r\n\r\nNot Found\n" },
		{ 426, NULL, "HTTP/1.1 426 Upgrade Required\r\n"
		  "Content-Type: text/plain\r\nContent-Length: 17\r\n"
		  "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
		  "Connection: Upgrade, close\r\n\r\nUpgrade Required\n" },
	};
	struct ws_handshake_reply r;
	struct http_head	*h;
	char			*text;
	size_t			 i, len, used;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		memset(&r, 0, sizeof r);
		r.status = t[i].status;
		r.subprotocol = t[i].sub;
		memcpy(r.accept, ACCEPT, sizeof r.accept);
		text = ws_handshake_response(&r, &len);
		check(len == strlen(t[i].text) && strcmp(text, t[i].text) == 0,
		    "%d: %s", t[i].status, esc(text, len));
		h = http_head_new(RES, MAX);
		check(http_head_feed(h, text, len, &used) == HTTP_HEAD_DONE &&
		    http_head_code(h) == t[i].status && (t[i].status == 101 ?
		    used == len : len - used == strlen(text + used) &&
		    (size_t)atoi(http_head_get(h, "Content-Length")) ==
		    len - used), "%d does not parse as a response of that "
		    "length", t[i].status);
		http_head_free(h);
		free(text);
	}
	point("the server's responses: 101 (with the subprotocol), 400, 404, "
	    "426 (with Sec-WebSocket-Version: 13)");
}

/* Client requests: the Host line, the fields asked for, a fresh key. */
static void
test_build(void)
{
	static const char *const extra[] = {
		"Authorization: Bearer abc", "X-Trace:1"
	};
	static const char *const host[] = { "host: vhost.example" };
	static const struct {
		struct ws_handshake_req q;
		const char	*want;
	} t[] = {
		{ { "example.com", 80, 0, "/chat", NULL, NULL, NULL, 0 },
		  "GET /chat 11|Host:example.com|" },
		{ { "example.com", 8080, 0, NULL, NULL, NULL, NULL, 0 },
		  "GET / 11|Host:example.com:8080|" },
		{ { "example.com", 443, 1, "/", NULL, NULL, NULL, 0 },
		  "GET / 11|Host:example.com|" },
		{ { "example.com", 80, 1, "/", NULL, NULL, NULL, 0 },
		  "GET / 11|Host:example.com:80|" },
		{ { "example.com", 443, 0, "/", NULL, NULL, NULL, 0 },
		  "GET / 11|Host:example.com:443|" },
		{ { "::1", 8080, 0, "/a?b=c", NULL, NULL, NULL, 0 },
		  "GET /a?b=c 11|Host:[::1]:8080|" },
		{ { "127.0.0.1", 80, 0, "/", "http://example.com", "chat",
		  extra, 2 }, "GET / 11|Host:127.0.0.1|" },
		{ { "10.0.0.1", 8080, 0, "/", NULL, NULL, host, 1 },
		  "GET / 11|" },
	};
	struct http_head	*h;
	struct str		 s = { NULL, 0, 0 };
	char			 key[WS_KEY_LEN + 1], last[WS_KEY_LEN + 1] = "";
	char			 err[256], *text, *want;
	size_t			 i, used;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		err[0] = '\0';
		text = ws_handshake_request(&t[i].q, key, err, sizeof err);
		if (text == NULL) {
			check(0, "request %zu: %s", i, err);
			continue;
		}
		check(ws_handshake_key_valid(key) && strcmp(key, last) != 0,
		    "request %zu: key %s", i, key);
		memcpy(last, key, sizeof key);
		s.len = 0;
		str_fmt(&s, "%s", t[i].want);
		want = xalloc(NULL, 1024);
		snprintf(want, 1024, "Upgrade:websocket|Connection:Upgrade|"
		    "Sec-WebSocket-Key:%s|Sec-WebSocket-Version:13|%s%s%s%s%s",
		    key, t[i].q.origin ? "Origin:" : "", t[i].q.origin ?
		    t[i].q.origin : "", t[i].q.origin ? "|" : "",
		    t[i].q.subprotocol ? "Sec-WebSocket-Protocol:chat|" : "",
		    t[i].q.nheaders == 2 ? "Authorization:Bearer abc|"
		    "X-Trace:1|" : t[i].q.nheaders == 1 ?
		    "host:vhost.example|" : "");
		str_fmt(&s, "%s", want);
		free(want);
		h = http_head_new(REQ, MAX);
		if (http_head_feed(h, text, strlen(text), &used) ==
		    HTTP_HEAD_DONE && used == strlen(text)) {
			want = s.p;
			s.p = NULL;
			s.len = s.cap = 0;
			dump(&s, h);
			check(strcmp(s.p, want) == 0, "request %zu: %s, "
			    "expected %s", i, s.p, want);
			free(want);
		} else
			check(0, "request %zu does not parse: %s", i,
			    esc(text, strlen(text)));
		http_head_free(h);
		free(text);
	}
	free(s.p);
	point("the client's requests: Host with the port when not the "
	    "default, [IPv6], Origin, the subprotocol, extra fields, a key");
}

static void
test_build_errors(void)
{
	static const char *const cr[] = { "X-A: b\r\nX-Evil: 1" };
	static const char *const lf[] = { "X-A: b\nc" };
	static const char *const nocolon[] = { "X-A b" };
	static const char *const space[] = { "X A: b" };
	static const char *const empty[] = { ": b" };
	static const char *const upgrade[] = { "upgrade: h2c" };
	static const char *const ext[] = { "Sec-WebSocket-Extensions: x" };
	static const char *const origin[] = { "Origin: x" };
	static const char *const hosts[] = { "Host: a", "host: b" };
	static const struct {
		struct ws_handshake_req q;
		const char	*err;
	} t[] = {
		{ { "a", 80, 0, "/", NULL, NULL, cr, 1 }, "CR, LF" },
		{ { "a", 80, 0, "/", NULL, NULL, lf, 1 }, "CR, LF" },
		{ { "a", 80, 0, "/", NULL, NULL, nocolon, 1 }, "NAME: VALUE" },
		{ { "a", 80, 0, "/", NULL, NULL, space, 1 }, "NAME: VALUE" },
		{ { "a", 80, 0, "/", NULL, NULL, empty, 1 }, "NAME: VALUE" },
		{ { "a", 80, 0, "/", NULL, NULL, upgrade, 1 },
		  "\"upgrade\" is set by the handshake" },
		{ { "a", 80, 0, "/", NULL, NULL, ext, 1 }, "set by the" },
		{ { "a", 80, 0, "/", NULL, NULL, origin, 1 }, "set by the" },
		{ { "a", 80, 0, "chat", NULL, NULL, NULL, 0 }, "not a path" },
		{ { "a", 80, 0, "/a b", NULL, NULL, NULL, 0 }, "not a path" },
		{ { "a", 80, 0, "/a\r\n", NULL, NULL, NULL, 0 }, "not a path" },
		{ { "a", 80, 0, "/", NULL, NULL, hosts, 2 }, "given twice" },
		{ { "a", 80, 0, "/\xc3\xa9", NULL, NULL, NULL, 0 }, "not a path" },
		{ { "a b", 80, 0, "/", NULL, NULL, NULL, 0 }, "not a host" },
		{ { "\xc3\xa9", 80, 0, "/", NULL, NULL, NULL, 0 }, "not a host" },
		{ { "", 80, 0, "/", NULL, NULL, NULL, 0 }, "not a host" },
		{ { "a", 80, 0, "/", "x\r\ny", NULL, NULL, 0 }, "origin" },
		{ { "a", 80, 0, "/", NULL, "a,b", NULL, 0 }, "not a token" },
		{ { "a", 80, 0, "/", NULL, "", NULL, 0 }, "not a token" },
	};
	char	 key[WS_KEY_LEN + 1], err[256], *text;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		err[0] = '\0';
		text = ws_handshake_request(&t[i].q, key, err, sizeof err);
		check(text == NULL && strstr(err, t[i].err) != NULL &&
		    strchr(err, '\r') == NULL && strchr(err, '\n') == NULL,
		    "request %zu: %s, expected %s", i, text ? "built" : err,
		    t[i].err);
		free(text);
	}
	point("the client's request refused: CR or LF in a field, not "
	    "NAME: VALUE, fields of the handshake, a bad path, host, token");
}

#define R101	"HTTP/1.1 101 Switching Protocols\r\n" UPGRADE
#define RACCEPT	"Sec-WebSocket-Accept: " ACCEPT "\r\n"

/* The client's check of responses to the RFC's key. */
static void
test_checks(void)
{
	static const struct {
		const char	*res;
		const char	*sub;
		const char	*err;	/* NULL: accepted */
	} t[] = {
		{ R101 RACCEPT "\r\n", NULL, NULL },
		{ "HTTP/1.1 101 OK\nupgrade: WebSocket\nconnection: upgrade\n"
		  "sec-websocket-accept: " ACCEPT "\n\n", NULL, NULL },
		{ R101 RACCEPT "Sec-WebSocket-Protocol: chat\r\n\r\n", "chat",
		  NULL },
		{ R101 "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
		  NULL, "Sec-WebSocket-Accept does not match the key" },
		{ R101 RACCEPT RACCEPT "\r\n", NULL, "does not match" },
		{ R101 "\r\n", NULL, "no Sec-WebSocket-Accept" },
		{ "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", NULL,
		  "server answered 404 Not Found" },
		{ "HTTP/1.1 200 OK\r\n" UPGRADE RACCEPT "\r\n", NULL,
		  "server answered 200 OK" },
		{ "HTTP/1.1 403 \xff\xfe\r\n\r\n", NULL,
		  "server answered 403 \\xff\\xfe" },
		{ R101 RACCEPT "Sec-WebSocket-Protocol: chat\r\n\r\n", NULL,
		  "server chose subprotocol chat, none was asked for" },
		{ R101 RACCEPT "Sec-WebSocket-Protocol: superchat\r\n\r\n",
		  "chat", "server chose subprotocol superchat, not chat" },
		{ R101 RACCEPT "Sec-WebSocket-Protocol: Chat\r\n\r\n", "chat",
		  "not chat" },
		{ R101 RACCEPT "\r\n", "chat", "no subprotocol, not chat" },
		{ R101 RACCEPT "Sec-WebSocket-Extensions: x\r\n\r\n", NULL,
		  "extension" },
		{ "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		  RACCEPT "\r\n", NULL, "without Upgrade: websocket" },
		{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		  RACCEPT "\r\n", NULL, "without Connection: Upgrade" },
		{ "HTTP/1.1 101 Switching Protocols\r\n", NULL,
		  "incomplete response" },
		{ "HTTP/1.1 101 Switching\x01Protocols\r\n\r\n", NULL,
		  "http: invalid character in the reason phrase" },
	};
	static struct feeds	 f;
	struct http_head	*h;
	char			 err[256], first[256];
	size_t			 i;
	int			 rc, rc0;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		feeds_start(&f, strlen(t[i].res), 1);
		feeds_next(&f);
		h = head_fed(RES, t[i].res, &f);
		err[0] = '\0';
		rc = ws_handshake_check_response(h, KEY, t[i].sub, err,
		    sizeof err);
		check(t[i].err == NULL ? rc == 0 : rc == -1 &&
		    strstr(err, t[i].err) != NULL, "response %zu: %d %s, "
		    "expected %s", i, rc, err, t[i].err ? t[i].err :
		    "accepted");
		rc0 = rc;
		memcpy(first, err, sizeof first);
		while (feeds_next(&f) && !failing) {
			http_head_free(h);
			h = head_fed(RES, t[i].res, &f);
			err[0] = '\0';
			rc = ws_handshake_check_response(h, KEY, t[i].sub, err,
			    sizeof err);
			check(rc == rc0 && strcmp(err, first) == 0, "response "
			    "%zu, %s: %d %s, fed whole %d %s", i, f.mode, rc,
			    err, rc0, first);
		}
		http_head_free(h);
	}
	point("the client's checks: 101, Upgrade, Connection, the accept "
	    "key, the subprotocol, no extension; the status named");
}

/* A client's request through a server's check and back. */
static void
test_loop(void)
{
	static const char *const extra[] = { "Cookie: a=b" };
	struct ws_handshake_req	 q = { "localhost", 9000, 0, "/ws?x=1",
				     "http://localhost", "chat", extra, 1 };
	struct ws_handshake_reply r;
	struct http_head	*req, *res;
	char			 key[WS_KEY_LEN + 1], err[256], *text, *back;
	size_t			 used, len;

	text = ws_handshake_request(&q, key, err, sizeof err);
	req = http_head_new(REQ, MAX);
	res = http_head_new(RES, MAX);
	if (text != NULL &&
	    http_head_feed(req, text, strlen(text), &used) == HTTP_HEAD_DONE) {
		ws_handshake_check_request(req, "/ws", "chat", &r);
		check(r.status == 101 && r.subprotocol != NULL, "status %d %s",
		    r.status, r.why);
		back = ws_handshake_response(&r, &len);
		http_head_feed(res, back, len, &used);
		check(ws_handshake_check_response(res, key, "chat", err,
		    sizeof err) == 0, "the response: %s", err);
		free(back);
	} else
		check(0, "the request: %s", text ? text : err);
	http_head_free(req);
	http_head_free(res);
	free(text);
	point("a client's request, the server's 101, the client's check");
}

int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		test_vec(&vecs[i]);
	test_bound();
	test_tokens();
	test_accept();
	test_keys();
	test_requests();
	test_responses();
	test_build();
	test_build_errors();
	test_checks();
	test_loop();
	return tap_end();
}
