/*
 * An HTTP CONNECT proxy's client (RFC 9110 9.3.6), sans-IO: the request
 * to send, with Basic credentials (RFC 7617) when there are some, then
 * the proxy's response head, parsed by http-head.  Any 2xx opens the
 * tunnel; bytes after the head are not taken, they are the tunnel's.
 */
#ifndef WEIR_HTTP_CONNECT_H
#define WEIR_HTTP_CONNECT_H

#include <stddef.h>

#include "http-head.h"

#define HTTP_CONNECT_MAX_HEAD	8192	/* the response head's bound */

struct http_connect;

/*
 * A client to reach host (a name or a bare IPv4 or IPv6 address) and
 * port, with user and password (user NULL: none); NULL with err when
 * they cannot go into a request.
 */
struct http_connect *http_connect_new(const char *, unsigned, const char *,
		    const char *, char *, size_t);
void		 http_connect_free(struct http_connect *);
/* The bytes to send now (the request, once), taken. */
const char	*http_connect_output(struct http_connect *, size_t *);
/* Takes the proxy's bytes; *used says how many belong to its head. */
enum http_head_status http_connect_feed(struct http_connect *, const char *,
		    size_t, size_t *);
/*
 * Why it failed: http-head's message for a broken head, else the status
 * that refused, "407 Proxy Authentication Required", escaped; or NULL.
 */
const char	*http_connect_error(const struct http_connect *);
/* The response's status code once its head was read, else 0. */
int		 http_connect_code(const struct http_connect *);

#endif
