/*
 * libFuzzer target for the HTTP head parser and the WebSocket handshake.
 *
 * An input is three option bytes, then the bytes:
 *   [0]  bit 0: a request (0) or a response (1) head; bit 1: the bytes
 *        are instead a client's request parts (below); bit 2: wss
 *   [1]  the bound: bit 7 set, 8 KiB; else (low 7 bits) * 8 + 1; the port
 *   [2]  seed of the chunk sizes
 * A head is parsed whole, byte by byte and in chunks, which must agree,
 * every call keeping the API's rules; then a request goes through the
 * server's check and its response through the client's, which must
 * accept a 101; a response goes through the client's check.
 * The parts of a client's request are NUL-separated: host, path, origin,
 * subprotocol (empty: none), then up to 4 extra fields.  The request
 * built from them, if any, must pass the server's check with 101.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "http-head.h"
#include "ws-handshake.h"

#define MAX	8192
#define KEY	"dGhlIHNhbXBsZSBub25jZQ=="

/* What parsing gave. */
struct http_run {
	struct fz_buf	 dump;		/* the start line and fields */
	enum http_head_status st;
	size_t		 head;
	char		 err[256];
};

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	 dump(struct fz_buf *, const struct http_head *);
static void	 check_fields(const struct http_head *);
static struct http_head *parse(enum http_head_kind, size_t, const char *,
		    size_t, int, uint32_t, struct http_run *);
static void	 http_same(const struct http_run *, const struct http_run *);
static void	 serve(const struct http_head *, const char *, const char *);
static void	 build(const uint8_t *, const char *, size_t);

static struct http_run	 whole, bytes, chunks;

/* The start line and the fields, each part ended by NUL. */
static void
dump(struct fz_buf *b, const struct http_head *h)
{
	const char	*name, *value;
	char		 num[16];
	size_t		 i;

	if (http_head_method(h) != NULL) {
		fz_buf_add(b, http_head_method(h),
		    strlen(http_head_method(h)) + 1);
		fz_buf_add(b, http_head_target(h),
		    strlen(http_head_target(h)) + 1);
	} else {
		snprintf(num, sizeof num, "%d", http_head_code(h));
		fz_buf_add(b, num, strlen(num) + 1);
		fz_buf_add(b, http_head_reason(h),
		    strlen(http_head_reason(h)) + 1);
	}
	snprintf(num, sizeof num, "%d", http_head_version(h));
	fz_buf_add(b, num, strlen(num) + 1);
	for (i = 0; http_head_field(h, i, &name, &value) == 0; i++) {
		fz_buf_add(b, name, strlen(name) + 1);
		fz_buf_add(b, value, strlen(value) + 1);
	}
}

/* What a head's parts may hold. */
static void
check_fields(const struct http_head *h)
{
	const char	*name, *value, *t;
	size_t		 i, n;

	if (http_head_method(h) != NULL) {
		t = http_head_target(h);
		if (!http_head_token(http_head_method(h),
		    strlen(http_head_method(h))) || *t == '\0' ||
		    strpbrk(t, " \t\r\n") != NULL)
			fz_bug("a method or target out of its grammar");
	} else if (http_head_code(h) < 0 || http_head_code(h) > 999 ||
	    strpbrk(http_head_reason(h), "\r\n") != NULL)
		fz_bug("a status out of its grammar");
	for (i = 0; http_head_field(h, i, &name, &value) == 0; i++) {
		n = strlen(value);
		if (!http_head_token(name, strlen(name)) ||
		    strpbrk(value, "\r\n") != NULL || (n > 0 &&
		    (value[0] == ' ' || value[0] == '\t' ||
		    value[n - 1] == ' ' || value[n - 1] == '\t')))
			fz_bug("a field out of its grammar");
		if (http_head_get(h, name) == NULL ||
		    http_head_count(h, name) == 0)
			fz_bug("a field not found by its name");
	}
}

/*
 * Parses in as a transport does, fed whole, byte by byte or in chunks of
 * 1..64 bytes drawn from seed; returns the head.
 */
static struct http_head *
parse(enum http_head_kind kind, size_t max, const char *in, size_t len,
    int how, uint32_t seed, struct http_run *r)
{
	struct http_head	*h;
	size_t			 off = 0, end, used;
	uint32_t		 x = seed * 2654435761u + 1;

	r->dump.len = 0;
	r->head = 0;
	r->err[0] = '\0';
	r->st = HTTP_HEAD_MORE;
	h = http_head_new(kind, max);
	while (off < len && r->st == HTTP_HEAD_MORE) {
		end = fz_end(how, off, len, &x);
		used = (size_t)-1;
		r->st = http_head_feed(h, in + off, end - off, &used);
		if (used > end - off ||
		    (r->st == HTTP_HEAD_MORE && used != end - off))
			fz_bug("used more or fewer bytes than it may");
		if (r->st == HTTP_HEAD_ERROR) {
			if (http_head_error(h) == NULL ||
			    strncmp(http_head_error(h), "http: ", 6) != 0 ||
			    fz_at(http_head_error(h)) != off + used)
				fz_bug("an error not at the byte it stopped at");
			snprintf(r->err, sizeof r->err, "%s",
			    http_head_error(h));
		}
		off += used;
	}
	if (r->st == HTTP_HEAD_DONE) {
		r->head = off;
		if (off > max || in[off - 1] != '\n')
			fz_bug("a head over the bound, or not ending in LF");
		if (http_head_feed(h, in, len, &used) != HTTP_HEAD_DONE ||
		    used != 0)
			fz_bug("a feed after the head took bytes");
		dump(&r->dump, h);
		check_fields(h);
	} else if (r->st == HTTP_HEAD_ERROR) {
		if (http_head_feed(h, "\n\n", 2, &used) != HTTP_HEAD_ERROR ||
		    used != 0 || http_head_method(h) != NULL ||
		    http_head_reason(h) != NULL ||
		    strcmp(http_head_error(h), r->err) != 0)
			fz_bug("an error is not sticky");
	} else if (http_head_method(h) != NULL || http_head_reason(h) != NULL)
		fz_bug("parts of a head not done");
	return h;
}

static void
http_same(const struct http_run *a, const struct http_run *b)
{
	if (a->st != b->st || a->head != b->head ||
	    strcmp(a->err, b->err) != 0 || a->dump.len != b->dump.len ||
	    (a->dump.len > 0 && memcmp(a->dump.p, b->dump.p, a->dump.len) !=
	    0))
		fz_bug("different heads");
}

/*
 * A server's answer to a request (done or not) on path, with
 * subprotocol; a 101 must satisfy the client that sent the request.
 */
static void
serve(const struct http_head *req, const char *path, const char *sub)
{
	struct ws_handshake_reply r;
	struct http_head	*res;
	char			*text, err[256];
	size_t			 len, used;

	ws_handshake_check_request(req, path, sub, &r);
	if (r.status != 101 && r.status != 400 && r.status != 404 &&
	    r.status != 426 && r.status != 500)
		fz_bug("a status the server may not answer");
	if ((r.status == 101) != (r.why[0] == '\0'))
		fz_bug("a refusal without a reason, or 101 with one");
	if (r.status == 101 && http_head_method(req) == NULL)
		fz_bug("101 to no request");
	text = ws_handshake_response(&r, &len);
	res = http_head_new(HTTP_HEAD_RESPONSE, MAX);
	if (strlen(text) != len ||
	    http_head_feed(res, text, len, &used) != HTTP_HEAD_DONE ||
	    http_head_code(res) != r.status)
		fz_bug("the server's response does not parse");
	if (r.status == 101 && ws_handshake_check_response(res,
	    http_head_get(req, "Sec-WebSocket-Key"), r.subprotocol, err,
	    sizeof err) != 0)
		fz_bug("the client refuses the server's 101");
	http_head_free(res);
	free(text);
}

/* A client's request from NUL-separated parts; a server must take it. */
static void
build(const uint8_t *opts, const char *in, size_t len)
{
	struct ws_handshake_req	 q;
	struct ws_handshake_reply r;
	struct http_head	*req;
	const char		*part[8];
	char			*copy, *text, *path, key[WS_KEY_LEN + 1];
	char			 err[256];
	size_t			 k, used;

	k = fz_parts(in, len, part, 8, &copy);
	while (k < 4)
		part[k++] = "";
	memset(&q, 0, sizeof q);
	q.host = part[0];
	q.port = (unsigned)opts[1] * 257;
	q.tls = (opts[0] & 4) != 0;
	q.path = part[1][0] != '\0' ? part[1] : NULL;
	q.origin = part[2][0] != '\0' ? part[2] : NULL;
	q.subprotocol = part[3][0] != '\0' ? part[3] : NULL;
	q.headers = part + 4;
	q.nheaders = k - 4;
	err[0] = '\0';
	if ((text = ws_handshake_request(&q, key, err, sizeof err)) == NULL) {
		if (err[0] == '\0' || strpbrk(err, "\r\n") != NULL)
			fz_bug("a request refused without a clean message");
		free(copy);
		return;
	}
	if (!ws_handshake_key_valid(key))
		fz_bug("a key not valid");
	req = http_head_new(HTTP_HEAD_REQUEST, strlen(text) + 1);
	if (http_head_feed(req, text, strlen(text), &used) != HTTP_HEAD_DONE ||
	    used != strlen(text))
		fz_bug("a client's request does not parse");
	path = strdup(q.path != NULL ? q.path : "/");
	path[strcspn(path, "?")] = '\0';
	serve(req, path, q.subprotocol);
	ws_handshake_check_request(req, path, q.subprotocol, &r);
	if (r.status != 101 || (q.subprotocol != NULL && r.subprotocol == NULL))
		fz_bug("the server refuses a client's request");
	http_head_free(req);
	free(path);
	free(text);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum http_head_kind	 kind;
	struct http_head	*h;
	size_t			 max, len;
	const char		*in;
	char			 err[256];

	if (size < 3)
		return 0;
	in = (const char *)data + 3;
	len = size - 3;
	if (data[0] & 2) {
		build(data, in, len);
		return 0;
	}
	kind = data[0] & 1 ? HTTP_HEAD_RESPONSE : HTTP_HEAD_REQUEST;
	max = data[1] & 0x80 ? MAX : (size_t)(data[1] & 0x7f) * 8 + 1;

	http_head_free(parse(kind, max, in, len, FZ_CHUNKS, data[2], &chunks));
	if (len <= 16384) {
		http_head_free(parse(kind, max, in, len, FZ_BYTES, 0, &bytes));
		http_same(&chunks, &bytes);
	}
	h = parse(kind, max, in, len, FZ_WHOLE, 0, &whole);
	http_same(&whole, &chunks);
	if (kind == HTTP_HEAD_REQUEST) {
		serve(h, "/chat", "chat");
		serve(h, NULL, NULL);
	} else if (ws_handshake_check_response(h, KEY, data[2] & 1 ? "chat" :
	    NULL, err, sizeof err) == 0 && http_head_code(h) != 101)
		fz_bug("the client accepts a status not 101");
	http_head_free(h);
	return 0;
}
