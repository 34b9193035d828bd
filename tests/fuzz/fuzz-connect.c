/*
 * libFuzzer target for the HTTP CONNECT client.
 *
 * An input is three option bytes, then the bytes:
 *   [0]  bit 0: the bytes are instead a request's parts (below); bit 1:
 *        with user and password
 *   [1]  seed of the chunk sizes; in build mode, the port (times 257)
 *   [2]  unused
 * A proxy's response is fed whole, byte by byte and in chunks, which
 * must agree, every call keeping the API's rules: a 2xx ends it, and
 * anything else fails with http-head's message or the status.
 * Build mode: host, user and password, NUL-separated (no user: none);
 * a request made of them must parse as CONNECT to host and port with
 * those credentials.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuzz-common.h"
#include "http-connect.h"
#include "http-head.h"

/* What feeding gave. */
struct connect_run {
	enum http_head_status st;
	size_t		 used;
	int		 code;
	char		 err[300];
};

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	 check_error(const struct http_connect *, size_t);
static void	 run(const uint8_t *, const char *, size_t, int, uint32_t,
		    struct connect_run *);
static void	 connect_same(const struct connect_run *,
		    const struct connect_run *);
static void	 check_auth(const struct http_head *, const char *,
		    const char *);
static void	 check_request(const char *, size_t, const char *, unsigned,
		    const char *, const char *);
static void	 build(const uint8_t *, const char *, size_t);

/* http-head's "http: ..., at byte N", or the status that is not 2xx. */
static void
check_error(const struct http_connect *h, size_t at)
{
	const char	*e = http_connect_error(h);
	char		 want[8];
	int		 code = http_connect_code(h);

	if (e == NULL)
		fz_bug("an error without a message");
	if (strncmp(e, "http: ", 6) == 0) {
		if (fz_at(e) != at || code != 0)
			fz_bug("an error not at the byte it stopped at");
		return;
	}
	snprintf(want, sizeof want, "%03d", code);
	if ((code >= 200 && code <= 299) || strncmp(e, want, 3) != 0 ||
	    (e[3] != '\0' && e[3] != ' ') || strpbrk(e, "\r\n") != NULL)
		fz_bug("a refusal not its status");
}

/* Feeds as a transport does, whole, byte by byte or in chunks. */
static void
run(const uint8_t *opts, const char *in, size_t len, int how, uint32_t seed,
    struct connect_run *r)
{
	struct http_connect	*h;
	size_t			 off = 0, end, used;
	uint32_t		 x = seed * 2654435761u + 1;
	char			 err[256];

	h = http_connect_new("example.com", 443, opts[0] & 2 ? "user" : NULL,
	    "pass", err, sizeof err);
	if (h == NULL)
		fz_bug("a client not made");
	r->err[0] = '\0';
	r->st = HTTP_HEAD_MORE;
	while (off < len && r->st == HTTP_HEAD_MORE) {
		end = fz_end(how, off, len, &x);
		used = (size_t)-1;
		r->st = http_connect_feed(h, in + off, end - off, &used);
		if (used > end - off ||
		    (r->st == HTTP_HEAD_MORE && used != end - off))
			fz_bug("used more or fewer bytes than it may");
		if (r->st == HTTP_HEAD_ERROR) {
			check_error(h, off + used);
			snprintf(r->err, sizeof r->err, "%s",
			    http_connect_error(h));
		} else if (http_connect_error(h) != NULL)
			fz_bug("an error message without an error");
		off += used;
	}
	r->used = off;
	r->code = http_connect_code(h);
	if (r->st == HTTP_HEAD_DONE && (r->code < 200 || r->code > 299 ||
	    off > HTTP_CONNECT_MAX_HEAD || in[off - 1] != '\n'))
		fz_bug("a tunnel opened by a status not 2xx, or no head");
	if (r->st != HTTP_HEAD_MORE && (http_connect_feed(h, in, len, &used) !=
	    r->st || used != 0))
		fz_bug("a feed after the end took bytes or changed status");
	if (r->st == HTTP_HEAD_ERROR &&
	    strcmp(http_connect_error(h), r->err) != 0)
		fz_bug("an error is not sticky");
	http_connect_free(h);
}

static void
connect_same(const struct connect_run *a, const struct connect_run *b)
{
	if (a->st != b->st || a->used != b->used || a->code != b->code ||
	    strcmp(a->err, b->err) != 0)
		fz_bug("different responses");
}

/* Proxy-Authorization: Basic base64("user:pass"), once, or none. */
static void
check_auth(const struct http_head *req, const char *user, const char *pass)
{
	const char	*v = http_head_get(req, "Proxy-Authorization");
	unsigned char	*plain;
	size_t		 n, want;
	int		 k;

	if (user == NULL) {
		if (v != NULL)
			fz_bug("credentials sent, none given");
		return;
	}
	if (v == NULL || strncmp(v, "Basic ", 6) != 0 ||
	    http_head_count(req, "Proxy-Authorization") != 1)
		fz_bug("no Basic credentials");
	v += 6;
	n = strlen(v);
	if ((plain = malloc(n + 1)) == NULL)
		abort();
	k = EVP_DecodeBlock(plain, (const unsigned char *)v, (int)n);
	want = strlen(user) + 1 + strlen(pass);
	/* EVP_DecodeBlock keeps the padding's zero bytes. */
	if (k < 0 || (size_t)k < want || (size_t)k > want + 2 ||
	    memcmp(plain, user, strlen(user)) != 0 || plain[strlen(user)] !=
	    ':' || memcmp(plain + strlen(user) + 1, pass, strlen(pass)) != 0)
		fz_bug("credentials that do not decode to user:pass");
	free(plain);
}

/* The request: CONNECT host:port, the same Host, the credentials. */
static void
check_request(const char *text, size_t len, const char *host, unsigned port,
    const char *user, const char *pass)
{
	struct http_head	*req;
	char			*want;
	size_t			 used, n = strlen(host) + 16;

	if ((want = malloc(n)) == NULL)
		abort();
	snprintf(want, n, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, port);
	req = http_head_new(HTTP_HEAD_REQUEST, len + 1);
	if (http_head_feed(req, text, len, &used) != HTTP_HEAD_DONE ||
	    used != len)
		fz_bug("a request that does not parse");
	if (strcmp(http_head_method(req), "CONNECT") != 0 ||
	    strcmp(http_head_target(req), want) != 0 ||
	    http_head_version(req) != 11 ||
	    http_head_count(req, "Host") != 1 ||
	    strcmp(http_head_get(req, "Host"), want) != 0)
		fz_bug("a request not CONNECT to host:port");
	check_auth(req, user, pass);
	http_head_free(req);
	free(want);
}

/* A request from NUL-separated parts. */
static void
build(const uint8_t *opts, const char *in, size_t len)
{
	struct http_connect	*h;
	const char		*part[3] = { NULL, NULL, NULL }, *text;
	char			*copy, err[256];
	size_t			 n;
	unsigned		 port = (unsigned)opts[1] * 257;

	fz_parts(in, len, part, 3, &copy);
	err[0] = '\0';
	h = http_connect_new(part[0], port, part[1], part[2], err,
	    sizeof err);
	if (h == NULL && (err[0] == '\0' || strpbrk(err, "\r\n") != NULL))
		fz_bug("a request refused without a clean message");
	if (h != NULL) {
		text = http_connect_output(h, &n);
		check_request(text, n, part[0], port, part[1],
		    part[2] != NULL ? part[2] : "");
		http_connect_output(h, &n);
		if (n != 0)
			fz_bug("the request given twice");
	}
	http_connect_free(h);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct connect_run	 whole, bytes, chunks;
	const char			*in;
	size_t				 len;

	if (size < 3)
		return 0;
	in = (const char *)data + 3;
	len = size - 3;
	if (data[0] & 1) {
		build(data, in, len);
		return 0;
	}
	run(data, in, len, FZ_CHUNKS, data[1], &chunks);
	if (len <= 16384) {
		run(data, in, len, FZ_BYTES, 0, &bytes);
		connect_same(&chunks, &bytes);
	}
	run(data, in, len, FZ_WHOLE, 0, &whole);
	connect_same(&whole, &chunks);
	return 0;
}
