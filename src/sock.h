/* Socket plumbing shared by the socket kinds: TCP, Unix, TLS, UDP. */
#ifndef WEIR_SOCK_H
#define WEIR_SOCK_H

#include <sys/types.h>
#include <sys/socket.h>

struct addr;
struct sock_opts;
struct transport;
struct transport_ops;

struct sock_target {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct sockaddr_storage	 from;	/* bind=: a source of ss's family */
	socklen_t		 fromlen;	/* 0: none */
	int			 type;	/* SOCK_STREAM, SOCK_DGRAM */
};

/* Which socket options a kind takes (sock_option). */
#define SOCK_OPT_BUF	0x1	/* sndbuf=, rcvbuf= */
#define SOCK_OPT_TCP	0x2	/* nodelay=, keepalive= */
#define SOCK_OPT_BIND	0x4	/* bind=, a connect's source address */
#define SOCK_OPT_PROXY	0x8	/* proxy=, a connect through a proxy */

/* Called with the connected socket instead of opening the stream. */
typedef void sock_connected_fn(struct transport *, int);

extern const struct transport_ops sock_accepted_ops;

void	 sock_connect(struct transport *, struct sock_target *, size_t,
	     sock_connected_fn *);
void	 sock_dial(struct transport *, int, sock_connected_fn *);
void	 sock_lookups_end(void);
void	 sock_connect_free(struct transport *);
char	*sock_peer_name(const struct sockaddr *, socklen_t);
void	 sock_unmap_v4(struct sockaddr_storage *, socklen_t *);
int	 sock_bind(const struct addr *, int, const char *, char **,
	     char **);
int	 sock_option(struct addr *, int, const char *, const char *,
	     char **);
int	 sock_opts_apply(int, const struct sock_opts *, char **);
void	 sock_drain(int);

#endif
