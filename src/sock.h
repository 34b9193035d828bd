/* Socket plumbing shared by the socket kinds: TCP, Unix, TLS. */
#ifndef WEIR_SOCK_H
#define WEIR_SOCK_H

#include <sys/types.h>
#include <sys/socket.h>

struct addr;
struct transport;
struct transport_ops;

struct sock_target {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

/* Called with the connected socket instead of opening the stream. */
typedef void sock_connected_fn(struct transport *, int);

extern const struct transport_ops sock_accepted_ops;

void	 sock_connect(struct transport *, struct sock_target *, size_t,
	     sock_connected_fn *);
void	 sock_connect_free(struct transport *);
char	*sock_peer_name(const struct sockaddr *, socklen_t);
int	 sock_tcp_resolve(struct transport *, struct sock_target **,
	     size_t *);
int	 sock_tcp_bind(const struct addr *, const char *, char **,
	     char **);

#endif
