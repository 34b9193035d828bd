/* TCP: connect to HOST:PORT (every address it resolves to, in order), listen. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sock.h"
#include "transport-kind.h"
#include "util.h"

#define LISTEN_BACKLOG	1024

static void	tcp_open(struct transport *);
static void	tcp_close(struct transport *);
static int	ai_family(int);

const struct transport_ops transport_tcp_ops = {
	tcp_open,
	tcp_close
};

static int
ai_family(int family)
{
	return family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
}

static void
tcp_open(struct transport *t)
{
	struct addrinfo		 hints, *res, *ai;
	struct sock_target	*targets;
	size_t			 n = 0;
	int			 rv;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = ai_family(t->cfg->family);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if ((rv = getaddrinfo(t->addr->host, t->addr->port, &hints, &res))
	    != 0) {
		transport_fail(t, "%s", rv == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(rv));
		return;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	targets = xcalloc(n, sizeof *targets);
	n = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof targets[n].ss)
			continue;
		memcpy(&targets[n].ss, ai->ai_addr, ai->ai_addrlen);
		targets[n].len = ai->ai_addrlen;
		n++;
	}
	freeaddrinfo(res);
	sock_connect(t, targets, n);
}

static void
tcp_close(struct transport *t)
{
	sock_connect_free(t);
	transport_closed(t);
}

static int
bind_one(int family, const struct sockaddr *sa, socklen_t len, int v6only,
    char **err)
{
	int	 fd, on = 1;

	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		*err = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof v6only);
	if (bind(fd, sa, len) == -1) {
		*err = xasprintf("bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		*err = xasprintf("listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Bind and listen.  With no HOST, every interface: IPv6 and IPv4 on one
 * socket where the system allows it.  *ready is an address another weir
 * can connect to.
 */
int
transport_tcp_bind(const struct addr *a, int family, char **ready, char **err)
{
	struct addrinfo		 hints, *res, *ai;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	char			 host[INET6_ADDRSTRLEN];
	int			 fd = -1, rv, v6only;

	*err = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = ai_family(family);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (a->host == NULL && family != 4) {
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
		rv = getaddrinfo("::", a->port, &hints, &res);
		if (rv == 0) {
			fd = bind_one(AF_INET6, res->ai_addr, res->ai_addrlen,
			    family == 6, err);
			freeaddrinfo(res);
		}
		if (fd == -1 && family == 6)
			goto fail;
		hints.ai_family = AF_INET;
	}
	if (fd == -1) {
		free(*err);
		*err = NULL;
		rv = getaddrinfo(a->host != NULL ? a->host : "0.0.0.0",
		    a->port, &hints, &res);
		if (rv != 0) {
			*err = xstrdup(rv == EAI_SYSTEM ? strerror(errno) :
			    gai_strerror(rv));
			return -1;
		}
		for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
			free(*err);
			*err = NULL;
			fd = bind_one(ai->ai_family, ai->ai_addr,
			    ai->ai_addrlen, 1, err);
		}
		freeaddrinfo(res);
		if (fd == -1)
			goto fail;
	}
	free(*err);
	*err = NULL;
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		*err = xasprintf("getsockname: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		*ready = xasprintf("tcp:%s:%u", host, ntohs(in->sin_port));
	} else if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
		/* IPv6 only: ::1; IPv4 too: 127.0.0.1, as other tools expect. */
		len = sizeof v6only;
		if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len)
		    == -1)
			v6only = 1;
		*ready = xasprintf(v6only ? "tcp:[::1]:%u" :
		    "tcp:127.0.0.1:%u", ntohs(in6->sin6_port));
	} else {
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		*ready = xasprintf("tcp:[%s]:%u", host, ntohs(in6->sin6_port));
	}
	return fd;
fail:
	if (*err == NULL)
		*err = xstrdup("no address to bind");
	return -1;
}
