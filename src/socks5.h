/*
 * SOCKS5 (RFC 1928) with user/password authentication (RFC 1929),
 * sans-IO: a client's handshake through a proxy, and a server's side of
 * it up to the CONNECT request.  Each is fed the peer's bytes in any
 * chunks and gives the bytes to send; bytes after the last message of
 * the handshake are not taken, they are the tunnel's.
 *
 * Errors are sticky.  A peer breaking the protocol, or a client that a
 * server turns away, gives "socks5: <what>[, got 'c'], at byte N" (N
 * counts the peer's bytes from 0; that byte is not in *used); a proxy's
 * refusal gives its words alone, for "proxy URL: <words>": "connection
 * refused by destination (5)", "authentication failed", "no acceptable
 * methods (offered: ...)".
 */
#ifndef WEIR_SOCKS5_H
#define WEIR_SOCKS5_H

#include <stddef.h>

struct sockaddr;

#define SOCKS5_MAX_NAME		255	/* a name, user, password */
#define SOCKS5_REPLY_MAX	22	/* a reply with an IPv6 address */

/* Address types, as on the wire. */
#define SOCKS5_ATYP_IPV4	1
#define SOCKS5_ATYP_NAME	3
#define SOCKS5_ATYP_IPV6	4

/* Reply codes (RFC 1928 section 6). */
#define SOCKS5_OK		0
#define SOCKS5_FAILURE		1
#define SOCKS5_NOT_ALLOWED	2
#define SOCKS5_NET_UNREACH	3
#define SOCKS5_HOST_UNREACH	4
#define SOCKS5_REFUSED		5
#define SOCKS5_TTL_EXPIRED	6
#define SOCKS5_BAD_COMMAND	7
#define SOCKS5_BAD_ATYP		8

enum socks5_status {
	SOCKS5_MORE,		/* all input used, the handshake goes on */
	SOCKS5_DONE,		/* the handshake is over; sticky */
	SOCKS5_ERROR		/* sticky; the _error function says why */
};

struct socks5_client;
struct socks5_server;

/* RFC 1928's words for a reply code ("unassigned" past 8). */
const char	*socks5_reply_text(int);
/* The reply code for a failed connect's errno. */
int		 socks5_errno_code(int);
/* A reply in out (SOCKS5_REPLY_MAX bytes); bnd NULL: 0.0.0.0:0.  Length. */
size_t		 socks5_reply(int, const struct sockaddr *,
		    unsigned char *);

/*
 * A client to reach host (a name, sent for the proxy to resolve, or a
 * bare IPv4 or IPv6 address) and port, with user and password (user
 * NULL: none); NULL with err when they do not fit the protocol.
 */
struct socks5_client *socks5_client_new(const char *, unsigned,
		    const char *, const char *, char *, size_t);
void		 socks5_client_free(struct socks5_client *);
/* Takes the proxy's bytes; *used says how many belong to the handshake. */
enum socks5_status socks5_client_feed(struct socks5_client *, const char *,
		    size_t, size_t *);
/* The bytes to send now, taken; valid until the next call with c. */
const char	*socks5_client_output(struct socks5_client *, size_t *);
const char	*socks5_client_error(const struct socks5_client *);
/* The proxy's reply code once its reply was read, else -1. */
int		 socks5_client_reply(const struct socks5_client *);

/* A server asking for user and password, or nothing (user NULL). */
struct socks5_server *socks5_server_new(const char *, const char *, char *,
		    size_t);
void		 socks5_server_free(struct socks5_server *);
/* Takes the client's bytes; *used says how many belong to the handshake. */
enum socks5_status socks5_server_feed(struct socks5_server *, const char *,
		    size_t, size_t *);
/* The bytes to send now (on an error, before closing), taken. */
const char	*socks5_server_output(struct socks5_server *, size_t *);
const char	*socks5_server_error(const struct socks5_server *);
/* Once done (else NULL, 0): the destination asked for. */
const char	*socks5_server_host(const struct socks5_server *);
unsigned	 socks5_server_port(const struct socks5_server *);
int		 socks5_server_atyp(const struct socks5_server *);

#endif
