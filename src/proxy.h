/*
 * proxy=: a connect through a SOCKS5 or HTTP CONNECT proxy.  sock.c
 * connects to the proxy instead of the address, and once connected
 * hands the socket here: the handshake (socks5.c, http-connect.c) asks
 * the proxy for the address by name, then the kind goes on as if it
 * had connected to the address itself (a TLS or WebSocket handshake,
 * or the stream).
 */
#ifndef WEIR_PROXY_H
#define WEIR_PROXY_H

#define PROXY_NONE	0
#define PROXY_SOCKS5	1
#define PROXY_HTTP	2

/* The longest user or password: what SOCKS5 can carry (RFC 1929). */
#define PROXY_CRED_MAX	255

struct addr;
struct proxy_conn;
struct transport;

/* A proxy= value, parsed; in the address, so it needs no freeing. */
struct proxy_url {
	int	 kind;			/* PROXY_* */
	char	 host[254];		/* a name or an address, no brackets */
	char	 port[6];
	int	 auth;			/* user and password were given */
	char	 user[PROXY_CRED_MAX + 1];
	char	 pass[PROXY_CRED_MAX + 1];
};

typedef void proxy_done_fn(struct transport *, int);

int	 proxy_parse(struct addr *, const char *, char **);
char	*proxy_shown(const struct proxy_url *);
void	 proxy_fail(struct transport *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
struct proxy_conn *proxy_start(struct transport *, int, proxy_done_fn *);
void	 proxy_free(struct proxy_conn *);

#endif
