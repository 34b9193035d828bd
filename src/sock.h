/* Socket plumbing shared by the TCP and Unix transports and the listener. */
#ifndef WEIR_SOCK_H
#define WEIR_SOCK_H

#include <sys/types.h>
#include <sys/socket.h>

struct addr;
struct stat;
struct transport;

struct sock_target {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

void	 sock_connect(struct transport *, struct sock_target *, size_t);
void	 sock_connect_free(struct transport *);
char	*sock_peer_name(const struct sockaddr *, socklen_t);

int	 transport_tcp_bind(const struct addr *, int, char **, char **);
int	 transport_unix_bind(const struct addr *, char **, char **);
void	 transport_unix_unbind(const struct addr *, const struct stat *);

#endif
