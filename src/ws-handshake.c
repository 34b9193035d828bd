/*
 * The opening handshake.  A server answers 400 for what is not a sound
 * request, 404 for another path, 426 for a request that is not a
 * WebSocket upgrade (or not version 13), else 101; a client's request
 * asks for version 13, maybe a subprotocol, and no extension, and the
 * answer must agree to exactly that.  Whatever came from the network is
 * escaped before it goes into a message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "http-head.h"
#include "util.h"
#include "ws-handshake.h"

#define GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* A growing string. */
struct str {
	char	*p;
	size_t	 len, cap;
};

static void	 str_add(struct str *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 refuse(struct ws_handshake_reply *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 request_sound(const struct http_head *,
		    struct ws_handshake_reply *);
static int	 request_upgrade(const struct http_head *,
		    struct ws_handshake_reply *);
static const char *status_text(int);
static int	 visible(const char *);
static int	 bad_text(const char *);
static int	 header_ok(const char *, int *, char *, size_t);
static int	 request_ok(const struct ws_handshake_req *, int *, char *,
		    size_t);
static int	 accept_ok(const struct http_head *, const char *, char *,
		    size_t);
static int	 subprotocol_ok(const struct http_head *, const char *, char *,
		    size_t);

static void
str_add(struct str *s, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (s->p == NULL) {
		s->cap = 256;
		s->p = xmalloc(s->cap);
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			xoom();
		if (s->len + (size_t)n < s->cap)
			break;
		s->cap = (s->len + (size_t)n + 1) * 2;
		s->p = xrealloc(s->p, s->cap);
	}
	s->len += (size_t)n;
}

int
ws_handshake_accept(const char *key, char *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n;
	char		*s;
	int		 ok;

	s = xasprintf("%s%s", key, GUID);
	ok = EVP_Digest(s, strlen(s), md, &n, EVP_sha1(), NULL) == 1;
	free(s);
	if (!ok || n != 20)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, md, 20);
	return 0;
}

/* 22 base64 characters then "==", the last of them with no bits left. */
int
ws_handshake_key_valid(const char *key)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i;

	if (strlen(key) != WS_KEY_LEN || strcmp(key + 22, "==") != 0)
		return 0;
	for (i = 0; i < 22; i++)
		if (key[i] == '\0' || strchr(b64, key[i]) == NULL)
			return 0;
	return strchr("AQgw", key[21]) != NULL;
}

static void
refuse(struct ws_handshake_reply *r, int status, const char *fmt, ...)
{
	va_list	 ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
}

/* A whole GET request, HTTP/1.1 or later, with one Host and a path. */
static int
request_sound(const struct http_head *req, struct ws_handshake_reply *r)
{
	const char	*e;
	int		 v;

	if (http_head_method(req) == NULL) {
		e = http_head_error(req);
		refuse(r, 400, "%s", e != NULL ? e : "incomplete request");
		return 0;
	}
	if ((v = http_head_version(req)) < 11)
		refuse(r, 400, "HTTP/%d.%d, not 1.1", v / 10, v % 10);
	else if (strcmp(http_head_method(req), "GET") != 0)
		refuse(r, 400, "method %s, not GET", http_head_method(req));
	else if (http_head_count(req, "Host") != 1)
		refuse(r, 400, "%zu Host fields, not one",
		    http_head_count(req, "Host"));
	else if (http_head_target(req)[0] != '/')
		refuse(r, 400, "request target not a path");
	else
		return 1;
	return 0;
}

/* Upgrade to websocket, version 13, one valid key. */
static int
request_upgrade(const struct http_head *req, struct ws_handshake_reply *r)
{
	const char	*v, *key;
	char		 buf[64];
	size_t		 n;

	if (!http_head_has_token(req, "Upgrade", "websocket") ||
	    !http_head_has_token(req, "Connection", "upgrade")) {
		refuse(r, 426, "not a WebSocket upgrade");
		return 0;
	}
	v = http_head_get(req, "Sec-WebSocket-Version");
	n = http_head_count(req, "Sec-WebSocket-Version");
	if (v == NULL || n != 1 || strcmp(v, "13") != 0) {
		refuse(r, 426, "Sec-WebSocket-Version %s, not 13", v == NULL ?
		    "missing" : n != 1 ? "given twice or more" : util_escape(v,
		    strlen(v), buf, sizeof buf));
		return 0;
	}
	key = http_head_get(req, "Sec-WebSocket-Key");
	n = http_head_count(req, "Sec-WebSocket-Key");
	if (key == NULL || n != 1 || !ws_handshake_key_valid(key)) {
		refuse(r, 400, "Sec-WebSocket-Key %s", key == NULL ?
		    "missing" : n != 1 ? "given twice or more" :
		    "not base64 of 16 bytes");
		return 0;
	}
	return 1;
}

/*
 * A server's decision on a request: its target's path (the query left
 * out) must be path unless that is NULL, and subprotocol (or NULL) is
 * agreed when the client offers it.
 */
void
ws_handshake_check_request(const struct http_head *req, const char *path,
    const char *subprotocol, struct ws_handshake_reply *r)
{
	const char	*target;
	char		 buf[64];
	size_t		 len;

	memset(r, 0, sizeof *r);
	if (!request_sound(req, r))
		return;
	target = http_head_target(req);
	len = strcspn(target, "?");
	if (path != NULL && (strlen(path) != len ||
	    strncmp(target, path, len) != 0)) {
		refuse(r, 404, "path %s", util_escape(target, len, buf,
		    sizeof buf));
		return;
	}
	if (!request_upgrade(req, r))
		return;
	if (ws_handshake_accept(http_head_get(req, "Sec-WebSocket-Key"),
	    r->accept) == -1) {
		refuse(r, 500, "no SHA-1 for Sec-WebSocket-Accept");
		return;
	}
	r->status = 101;
	if (subprotocol != NULL &&
	    http_head_has_exact(req, "Sec-WebSocket-Protocol", subprotocol))
		r->subprotocol = subprotocol;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 426:
		return "Upgrade Required";
	default:
		return "Internal Server Error";
	}
}

/*
 * The response to send: 101 with the accept key (and the subprotocol
 * agreed), or the error status with a short body, closing.  A 426 says
 * what to upgrade to.  *len is its length.
 */
char *
ws_handshake_response(const struct ws_handshake_reply *r, size_t *len)
{
	struct str	 s = { NULL, 0, 0 };
	const char	*text = status_text(r->status);

	str_add(&s, "HTTP/1.1 %d %s\r\n", r->status, text);
	if (r->status == 101) {
		str_add(&s, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n", r->accept);
		if (r->subprotocol != NULL)
			str_add(&s, "Sec-WebSocket-Protocol: %s\r\n",
			    r->subprotocol);
		str_add(&s, "\r\n");
	} else {
		str_add(&s, "Content-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n", strlen(text) + 1);
		if (r->status == 426)
			str_add(&s, "Upgrade: websocket\r\n"
			    "Sec-WebSocket-Version: 13\r\n"
			    "Connection: Upgrade, close\r\n");
		else
			str_add(&s, "Connection: close\r\n");
		str_add(&s, "\r\n%s\n", text);
	}
	*len = s.len;
	return s.p;
}

/* Whether s is visible ASCII, as a request target must be, and not "". */
static int
visible(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Whether s holds a byte a head cannot carry (CR, LF, other controls). */
static int
bad_text(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * An extra "Name: Value" line: a token, a colon, text.  The fields the
 * handshake sets itself may not be given, but for Host, once (*host
 * counts it: ours is left out).
 */
static int
header_ok(const char *line, int *host, char *err, size_t errlen)
{
	static const char *const own[] = {
		"Upgrade", "Connection", "Origin", "Sec-WebSocket-"
	};
	char	 buf[64];
	size_t	 n, i, len;

	if (bad_text(line)) {
		snprintf(err, errlen, "header \"%s\": CR, LF or a control "
		    "character", util_escape(line, strlen(line), buf,
		    sizeof buf));
		return 0;
	}
	n = strcspn(line, ":");
	if (line[n] != ':' || !http_head_token(line, n)) {
		snprintf(err, errlen, "header \"%s\": not NAME: VALUE",
		    util_escape(line, strlen(line), buf, sizeof buf));
		return 0;
	}
	for (i = 0; i < sizeof own / sizeof own[0]; i++) {
		len = strlen(own[i]);
		if (strncasecmp(line, own[i], len) != 0 ||
		    (n != len && own[i][len - 1] != '-'))
			continue;
		snprintf(err, errlen, "header \"%.*s\" is set by the "
		    "handshake", (int)n, line);
		return 0;
	}
	if (n == 4 && strncasecmp(line, "Host", 4) == 0 && (*host)++) {
		snprintf(err, errlen, "header \"Host\" given twice");
		return 0;
	}
	return 1;
}

/* What a request is built from, checked; *host: a header gives Host. */
static int
request_ok(const struct ws_handshake_req *q, int *host, char *err,
    size_t errlen)
{
	char	 buf[64];
	size_t	 i;

	*host = 0;
	if (!visible(q->host) || strchr(q->host, '/') != NULL) {
		snprintf(err, errlen, "host \"%s\": not a host",
		    util_escape(q->host, strlen(q->host), buf, sizeof buf));
		return 0;
	}
	if (q->path != NULL && (q->path[0] != '/' || !visible(q->path))) {
		snprintf(err, errlen, "path \"%s\": not a path",
		    util_escape(q->path, strlen(q->path), buf, sizeof buf));
		return 0;
	}
	if (q->origin != NULL && bad_text(q->origin)) {
		snprintf(err, errlen, "origin: CR, LF or a control character");
		return 0;
	}
	if (q->subprotocol != NULL &&
	    !http_head_token(q->subprotocol, strlen(q->subprotocol))) {
		snprintf(err, errlen, "subprotocol \"%s\": not a token",
		    util_escape(q->subprotocol, strlen(q->subprotocol), buf,
		    sizeof buf));
		return 0;
	}
	for (i = 0; i < q->nheaders; i++)
		if (!header_ok(q->headers[i], host, err, errlen))
			return 0;
	return 1;
}

/*
 * A client's request head, with a fresh random key written to key
 * (WS_KEY_LEN + 1 bytes); NULL with err when a part is not fit for it.
 */
char *
ws_handshake_request(const struct ws_handshake_req *q, char *key, char *err,
    size_t errlen)
{
	struct str	 s = { NULL, 0, 0 };
	unsigned char	 nonce[16];
	size_t		 i;
	int		 host, v6;

	if (!request_ok(q, &host, err, errlen))
		return NULL;
	if (RAND_bytes(nonce, sizeof nonce) != 1) {
		snprintf(err, errlen, "no random bytes for the key");
		return NULL;
	}
	EVP_EncodeBlock((unsigned char *)key, nonce, sizeof nonce);
	str_add(&s, "GET %s HTTP/1.1\r\n", q->path != NULL ? q->path : "/");
	if (!host) {
		v6 = strchr(q->host, ':') != NULL;
		str_add(&s, "Host: %s%s%s", v6 ? "[" : "", q->host,
		    v6 ? "]" : "");
		if (q->port != (q->tls ? 443u : 80u))
			str_add(&s, ":%u", q->port);
		str_add(&s, "\r\n");
	}
	str_add(&s, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key);
	if (q->origin != NULL)
		str_add(&s, "Origin: %s\r\n", q->origin);
	if (q->subprotocol != NULL)
		str_add(&s, "Sec-WebSocket-Protocol: %s\r\n", q->subprotocol);
	for (i = 0; i < q->nheaders; i++)
		str_add(&s, "%s\r\n", q->headers[i]);
	str_add(&s, "\r\n");
	return s.p;
}

static int
accept_ok(const struct http_head *res, const char *key, char *err,
    size_t errlen)
{
	const char	*got = http_head_get(res, "Sec-WebSocket-Accept");
	char		 want[WS_ACCEPT_LEN + 1];

	if (got == NULL) {
		snprintf(err, errlen, "no Sec-WebSocket-Accept");
		return 0;
	}
	if (ws_handshake_accept(key, want) == -1) {
		snprintf(err, errlen, "no SHA-1 for Sec-WebSocket-Accept");
		return 0;
	}
	if (http_head_count(res, "Sec-WebSocket-Accept") != 1 ||
	    strcmp(got, want) != 0) {
		snprintf(err, errlen, "Sec-WebSocket-Accept does not match "
		    "the key");
		return 0;
	}
	return 1;
}

/* The subprotocol agreed: the one asked for, or none when none was. */
static int
subprotocol_ok(const struct http_head *res, const char *asked, char *err,
    size_t errlen)
{
	const char	*got = http_head_get(res, "Sec-WebSocket-Protocol");
	char		 buf[64];

	if (got == NULL && asked == NULL)
		return 1;
	if (got == NULL)
		snprintf(err, errlen, "server agreed to no subprotocol, not "
		    "%s", asked);
	else if (asked == NULL)
		snprintf(err, errlen, "server chose subprotocol %s, none was "
		    "asked for", util_escape(got, strlen(got), buf,
		    sizeof buf));
	else if (strcmp(got, asked) != 0 ||
	    http_head_count(res, "Sec-WebSocket-Protocol") != 1)
		snprintf(err, errlen, "server chose subprotocol %s, not %s",
		    util_escape(got, strlen(got), buf, sizeof buf), asked);
	else
		return 1;
	return 0;
}

/*
 * Whether a server's response (done, failed or cut short) completes the
 * handshake for key, agreeing to subprotocol (or NULL) and nothing else.
 */
int
ws_handshake_check_response(const struct http_head *res, const char *key,
    const char *subprotocol, char *err, size_t errlen)
{
	const char	*e;
	char		 buf[64];

	if (http_head_reason(res) == NULL) {
		e = http_head_error(res);
		snprintf(err, errlen, "%s", e != NULL ? e :
		    "incomplete response");
		return -1;
	}
	if (http_head_code(res) != 101)
		snprintf(err, errlen, "server answered %d %s",
		    http_head_code(res), util_escape(http_head_reason(res),
		    strlen(http_head_reason(res)), buf, sizeof buf));
	else if (!http_head_has_token(res, "Upgrade", "websocket"))
		snprintf(err, errlen, "response without Upgrade: websocket");
	else if (!http_head_has_token(res, "Connection", "upgrade"))
		snprintf(err, errlen, "response without Connection: Upgrade");
	else if (http_head_get(res, "Sec-WebSocket-Extensions") != NULL)
		snprintf(err, errlen, "server agreed to an extension, none "
		    "was asked for");
	else if (!accept_ok(res, key, err, errlen) ||
	    !subprotocol_ok(res, subprotocol, err, errlen))
		return -1;
	else
		return 0;
	return -1;
}
