/*
 * The WebSocket opening handshake (RFC 6455 section 4), sans-IO: heads
 * parsed by http-head in, decisions and head text out.  A server checks
 * a request and answers 101 or an error status; a client builds its
 * request and checks the answer.  No extensions are agreed.
 */
#ifndef WEIR_WS_HANDSHAKE_H
#define WEIR_WS_HANDSHAKE_H

#include <stddef.h>

#include "http-head.h"

#define WS_KEY_LEN	24	/* Sec-WebSocket-Key: base64 of 16 bytes */
#define WS_ACCEPT_LEN	28	/* Sec-WebSocket-Accept: base64 of SHA-1 */

/* A server's answer to a request. */
struct ws_handshake_reply {
	int		 status;	/* 101, 400, 404, 426 or 500 */
	char		 why[160];	/* not 101: what was wrong, for a log */
	char		 accept[WS_ACCEPT_LEN + 1];	/* 101 */
	const char	*subprotocol;	/* 101: the one agreed, or NULL */
};

/* What a client asks for. */
struct ws_handshake_req {
	const char	*host;		/* a name or an address, IPv6 bare */
	unsigned	 port;
	int		 tls;		/* wss: the default port is 443 */
	const char	*path;		/* with the query; NULL: "/" */
	const char	*origin;	/* NULL: none */
	const char	*subprotocol;	/* NULL: none */
	const char *const *headers;	/* "Name: Value", Host replacing ours */
	size_t		 nheaders;
};

/* base64(SHA-1(key GUID)) in out (WS_ACCEPT_LEN + 1 bytes); -1: no SHA-1. */
int	 ws_handshake_accept(const char *, char *);
/* Whether a Sec-WebSocket-Key is base64 of 16 bytes. */
int	 ws_handshake_key_valid(const char *);

/* Server: a request (done, failed or cut short) against path (NULL: any). */
void	 ws_handshake_check_request(const struct http_head *, const char *,
	     const char *, struct ws_handshake_reply *);
/* Server: the response head, and body for an error; to free. */
char	*ws_handshake_response(const struct ws_handshake_reply *, size_t *);

/* Client: the request with a fresh key (out, WS_KEY_LEN + 1); NULL: err. */
char	*ws_handshake_request(const struct ws_handshake_req *, char *,
	     char *, size_t);
/* Client: whether the response accepts key and subprotocol; -1: err. */
int	 ws_handshake_check_response(const struct http_head *, const char *,
	     const char *, char *, size_t);

#endif
