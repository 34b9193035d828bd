/*
 * Non-blocking connect over a list of targets, tried in order (the
 * engine's opening deadline bounds it all); the TCP, Unix and TLS
 * transports use it.  Also the plain accepted socket, and peer names.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "sock.h"
#include "transport-kind.h"
#include "util.h"

#define LISTEN_BACKLOG	1024
/* A Unix socket with a full backlog says EAGAIN: ask again this soon. */
#define UNIX_RETRY_S	0.01

struct connecting {
	struct sock_target	*targets;
	size_t			 n;
	size_t			 next;
	int			 fd;
	int			 last_err;
	struct event		*ev;
	struct event		*retry;
	sock_connected_fn	*then;
};

static void	try_next(struct transport *);
static void	connect_cb(evutil_socket_t, short, void *);
static void	retry_cb(evutil_socket_t, short, void *);
static void	done(struct transport *, int);
static int	loopback(const struct sock_target *);
static int	connected(int);

void
sock_connect(struct transport *t, struct sock_target *targets, size_t n,
    sock_connected_fn *then)
{
	struct connecting	*c;

	c = xcalloc(1, sizeof *c);
	c->targets = targets;
	c->n = n;
	c->fd = -1;
	c->last_err = ENOENT;
	c->retry = evtimer_new(t->base, retry_cb, t);
	c->then = then;
	t->conn = c;
	t->phase = "connect";
	try_next(t);
}

/* Free the connect state (closing a socket still connecting); may repeat. */
void
sock_connect_free(struct transport *t)
{
	struct connecting	*c = t->conn;

	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	event_free(c->retry);
	if (c->fd != -1)
		close(c->fd);
	free(c->targets);
	free(c);
	t->conn = NULL;
}

/* Connected: the stream is up, or the kind goes on (a TLS handshake). */
static void
done(struct transport *t, int fd)
{
	struct connecting	*c = t->conn;
	sock_connected_fn	*then = c->then;

	c->fd = -1;
	sock_connect_free(t);
	t->sock = t->connected = 1;
	if (then != NULL)
		then(t, fd);
	else
		transport_opened(t, fd, fd);
}

static void
accepted_open(struct transport *t)
{
	transport_opened(t, t->accepted, t->accepted);
}

/* A plain accepted socket: open at once. */
const struct transport_ops sock_accepted_ops = {
	.open = accepted_open
};

/* Whether a target is this host's loopback (127/8, ::1, ::ffff:127/104). */
static int
loopback(const struct sock_target *tg)
{
	const struct sockaddr_in	*in = (const void *)&tg->ss;
	const struct sockaddr_in6	*in6 = (const void *)&tg->ss;

	if (tg->ss.ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	if (tg->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		    in6->sin6_addr.s6_addr[12] == 127);
	return 0;
}

/* Whether a connect in progress has completed, without error (errno kept). */
static int
connected(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	int			 saved = errno, rv;

	rv = getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
	errno = saved;
	return rv;
}

static void
try_next(struct transport *t)
{
	struct connecting	*c = t->conn;
	struct sock_target	*tg;

	while (c->next < c->n) {
		tg = &c->targets[c->next];
		c->fd = socket(tg->ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd == -1) {
			c->last_err = errno;
			c->next++;
			continue;
		}
		if (connect(c->fd, (struct sockaddr *)&tg->ss, tg->len) == 0) {
			done(t, c->fd);
			return;
		}
		/*
		 * Over loopback the handshake is usually done by the time
		 * connect returns: then the stream is up at once, a turn of
		 * the loop sooner.
		 */
		if (errno == EINPROGRESS && loopback(tg) && connected(c->fd)) {
			done(t, c->fd);
			return;
		}
		if (errno == EINPROGRESS) {
			c->ev = event_new(t->base, c->fd, EV_WRITE, connect_cb,
			    t);
			event_add(c->ev, NULL);
			return;
		}
		c->last_err = errno;
		close(c->fd);
		c->fd = -1;
		if (c->last_err == EAGAIN && tg->ss.ss_family == AF_UNIX) {
			util_timer_add(c->retry, UNIX_RETRY_S);
			return;
		}
		c->next++;
	}
	errno = c->last_err;
	sock_connect_free(t);
	transport_fail(t, "connect: %s", strerror(errno));
}

static void
connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;
	struct connecting	*c = t->conn;
	socklen_t		 len = sizeof c->last_err;
	int			 err = 0;

	(void)what;
	event_free(c->ev);
	c->ev = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		done(t, (int)fd);
		return;
	}
	c->last_err = err;
	close(c->fd);
	c->fd = -1;
	c->next++;
	try_next(t);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	try_next(arg);
}

static int
ai_family(int family)
{
	return family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
}

/* Every address HOST:PORT resolves to, in order; -1 once it has failed. */
int
sock_tcp_resolve(struct transport *t, struct sock_target **out, size_t *np)
{
	struct addrinfo		 hints, *res, *ai;
	struct sock_target	*targets;
	size_t			 n = 0;
	int			 rv;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = ai_family(t->addr->family);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rv = getaddrinfo(t->addr->host, t->addr->port, &hints, &res))
	    != 0) {
		transport_fail(t, "%s", rv == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(rv));
		return -1;
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
	*out = targets;
	*np = n;
	return 0;
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
 * can connect to: SCHEME:HOST:PORT.
 */
int
sock_tcp_bind(const struct addr *a, const char *scheme, char **ready,
    char **err)
{
	struct addrinfo		 hints, *res, *ai;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	char			 host[INET6_ADDRSTRLEN];
	int			 fd = -1, rv, v6only, family = a->family;

	*err = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = ai_family(family);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
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
		*ready = xasprintf("%s:%s:%u", scheme, host,
		    ntohs(in->sin_port));
	} else if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
		/* IPv6 only: ::1; IPv4 too: 127.0.0.1, as other tools expect. */
		len = sizeof v6only;
		if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len)
		    == -1)
			v6only = 1;
		*ready = xasprintf(v6only ? "%s:[::1]:%u" :
		    "%s:127.0.0.1:%u", scheme, ntohs(in6->sin6_port));
	} else {
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		*ready = xasprintf("%s:[%s]:%u", scheme, host,
		    ntohs(in6->sin6_port));
	}
	return fd;
fail:
	if (*err == NULL)
		*err = xstrdup("no address to bind");
	return -1;
}

/* "127.0.0.1:5000", "[::1]:5000", or a Unix path ("" when unnamed). */
char *
sock_peer_name(const struct sockaddr *sa, socklen_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		return xasprintf("%s:%u", host, ntohs(in->sin_port));
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host,
			    sizeof host);
			return xasprintf("%s:%u", host, ntohs(in6->sin6_port));
		}
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		return xasprintf("[%s]:%u", host, ntohs(in6->sin6_port));
	}
	default:
		(void)len;
		return xstrdup("local");
	}
}
