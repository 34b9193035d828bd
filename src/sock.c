/*
 * Non-blocking connect over a list of targets, tried in order, under one
 * connect timeout; the TCP and Unix transports both use it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

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
	struct event		*timeout;
};

static void	try_next(struct transport *);
static void	connect_cb(evutil_socket_t, short, void *);
static void	retry_cb(evutil_socket_t, short, void *);
static void	timeout_cb(evutil_socket_t, short, void *);
static void	done(struct transport *, int);
static int	loopback(const struct sock_target *);
static int	connected(int);

void
sock_connect(struct transport *t, struct sock_target *targets, size_t n)
{
	struct connecting	*c;
	double			 s = t->cfg->connect_timeout;

	c = xcalloc(1, sizeof *c);
	c->targets = targets;
	c->n = n;
	c->fd = -1;
	c->last_err = ENOENT;
	c->retry = evtimer_new(t->base, retry_cb, t);
	c->timeout = evtimer_new(t->base, timeout_cb, t);
	t->kind = c;
	if (s > 0)
		util_timer_add(c->timeout, s);
	try_next(t);
}

void
sock_connect_free(struct transport *t)
{
	struct connecting	*c = t->kind;

	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	event_free(c->retry);
	event_free(c->timeout);
	if (c->fd != -1)
		close(c->fd);
	free(c->targets);
	free(c);
	t->kind = NULL;
}

static void
done(struct transport *t, int fd)
{
	struct connecting	*c = t->kind;

	c->fd = -1;
	sock_connect_free(t);
	t->sock = t->connected = 1;
	transport_opened(t, fd, fd);
}

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
	struct connecting	*c = t->kind;
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
	struct connecting	*c = t->kind;
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

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;

	(void)fd;
	(void)what;
	sock_connect_free(t);
	transport_fail(t, "connect: timed out after %g s",
	    t->cfg->connect_timeout);
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
