/*
 * An HTTP/1.1 message head (RFC 9112), sans-IO: fed bytes until the
 * blank line that ends the head, bounded, then asked for its start line
 * and header fields.  Bytes after the head are not taken (after a
 * WebSocket handshake they are the first frames).  Serves the WebSocket
 * handshake and the HTTP CONNECT proxy client.
 */
#ifndef WEIR_HTTP_HEAD_H
#define WEIR_HTTP_HEAD_H

#include <stddef.h>

enum http_head_kind {
	HTTP_HEAD_REQUEST,	/* method SP target SP version */
	HTTP_HEAD_RESPONSE	/* version SP code SP reason */
};

enum http_head_status {
	HTTP_HEAD_MORE,		/* all input used, the head goes on */
	HTTP_HEAD_DONE,		/* the head is whole; sticky */
	HTTP_HEAD_ERROR		/* sticky; http_head_error() says why */
};

struct http_head;

/* A parser for a head of at most max bytes, blank line included. */
struct http_head *http_head_new(enum http_head_kind, size_t);
void		 http_head_free(struct http_head *);
/* Takes bytes of the head; *used says how many belong to it. */
enum http_head_status http_head_feed(struct http_head *, const char *,
		    size_t, size_t *);
/* "http: <what>, got 'c', at byte N", or NULL. */
const char	*http_head_error(const struct http_head *);

/* Once done (else NULL, or 0): the start line's parts. */
const char	*http_head_method(const struct http_head *);
const char	*http_head_target(const struct http_head *);
int		 http_head_version(const struct http_head *);	/* 11: 1.1 */
int		 http_head_code(const struct http_head *);
const char	*http_head_reason(const struct http_head *);

/* Header fields, by name in any case; values without surrounding OWS. */
int		 http_head_field(const struct http_head *, size_t,
		    const char **, const char **);
const char	*http_head_get(const struct http_head *, const char *);
size_t		 http_head_count(const struct http_head *, const char *);
/* Whether a comma-separated list field holds token, in any case... */
int		 http_head_has_token(const struct http_head *, const char *,
		    const char *);
/* ... or exactly (a WebSocket subprotocol is case-sensitive). */
int		 http_head_has_exact(const struct http_head *, const char *,
		    const char *);
/* Whether n bytes are a token (RFC 9110 5.6.2: a name, a method). */
int		 http_head_token(const char *, size_t);

#endif
