/*
 * Non-blocking connect over a list of targets, tried in order (the
 * engine's opening deadline bounds it all); the TCP, Unix and TLS
 * transports use it.  A host name is resolved without blocking the
 * loop: getaddrinfo(3) runs on a thread of its own, one per lookup, which
 * writes the finished lookup to a pipe the loop watches and is joined
 * there, so /etc/hosts and nsswitch rule as for any lookup and nothing
 * of the thread outlives it.  (getaddrinfo_a's helper threads linger
 * after their work, and what they hold would be in use at exit.)  Also
 * the socket options of those kinds, the plain accepted socket, and
 * peer names.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "proxy.h"
#include "sock.h"
#include "transport-kind.h"
#include "util.h"

#define LISTEN_BACKLOG	1024
/* A Unix socket with a full backlog says EAGAIN: ask again this soon. */
#define UNIX_RETRY_S	0.01
/* Unread bytes dropped before a socket closed for an error is closed. */
#define DRAIN_MAX	(4 * 1024 * 1024)
/* sndbuf=, rcvbuf=: below 1k is a slip (the kernel has its own floor). */
#define SOCK_BUF_MIN	1024
#define SOCK_BUF_MAX	(1024 * 1024 * 1024)

/*
 * A name being resolved, on its thread; abandoned (t NULL) when its
 * transport goes first.  Its own copies of host and port: an abandoned
 * transport's address may be gone.
 */
struct lookup {
	pthread_t		 thread;
	char			*host;
	char			*port;
	struct addrinfo		 hints;
	struct addrinfo		*res;
	int			 rv;
	int			 err;		/* errno, for EAI_SYSTEM */
	struct transport	*t;
};

struct connecting {
	struct lookup		*lookup;	/* resolving, if not NULL */
	struct sock_target	*targets;
	size_t			 n;
	size_t			 next;
	int			 fd;
	char			*why;		/* the last target's failure */
	int			 err;		/* its errno, 0: not a connect's */
	struct event		*ev;
	struct event		*retry;
	sock_connected_fn	*then;
	struct proxy_conn	*tunnel;	/* proxy=: its handshake */
};

static int	resolved(struct transport *, struct addrinfo *, int);
static int	lookup_start(struct lookup *);
static void	*lookup_run(void *);
static void	lookups_cb(evutil_socket_t, short, void *);
static void	lookup_finish(struct lookup *);
static void	try_next(struct transport *);
static int	prepare(struct transport *, const struct sock_target *);
static void	target_failed(struct connecting *, char *);
static char	*connect_words(const struct sock_target *, int);
static int	bind_source(int, const struct sock_target *, char **);
static char	*source_name(const struct sock_target *);
static void	connect_cb(evutil_socket_t, short, void *);
static void	retry_cb(evutil_socket_t, short, void *);
static void	done(struct transport *, int);
static int	loopback(const struct sock_target *);
static int	connected(int);
static int	has_bind(const struct sock_opts *);
static const char *bind_host_shown(const struct sock_opts *);
static int	choose_sources(struct transport *, struct sock_target *,
		    size_t);
static int	ai_family(int);
static int	set_int(int, int, int, int, const char *, char **);
static int	yes_no(const char *, const char *, int *, char **);
static int	buf_size(const char *, const char *, int *, char **);

/* Where finished lookups are told, written by their threads. */
static int		 lookup_pipe[2] = { -1, -1 };
static struct event	*lookup_ev;
static size_t		 lookups_running;

static struct connecting *
connecting_new(struct transport *t, sock_connected_fn *then)
{
	struct connecting	*c;

	c = xcalloc(1, sizeof *c);
	c->fd = -1;
	c->retry = evtimer_new(t->base, retry_cb, t);
	c->then = then;
	t->conn = c;
	return c;
}

void
sock_connect(struct transport *t, struct sock_target *targets, size_t n,
    sock_connected_fn *then)
{
	struct connecting	*c;

	c = t->conn != NULL ? t->conn : connecting_new(t, then);
	c->targets = targets;
	c->n = n;
	/* Through a proxy, what may time out is the connect to the proxy. */
	t->phase = t->addr->sock.proxy.kind != PROXY_NONE ? "proxy connect" :
	    "connect";
	try_next(t);
}

/*
 * Resolve HOST:PORT, then connect to every address in turn.  A numeric
 * host is taken at once; a name is looked up off the loop (on the loop
 * only when no thread can be had).
 */
void
sock_dial(struct transport *t, int type, sock_connected_fn *then)
{
	struct connecting	*c = connecting_new(t, then);
	const struct proxy_url	*via = &t->addr->sock.proxy;
	/* Through a proxy it is the proxy's name: the proxy resolves HOST. */
	const char		*host = via->kind != PROXY_NONE ? via->host :
				    t->addr->host;
	const char		*port = via->kind != PROXY_NONE ? via->port :
				    t->addr->port;
	struct lookup		*lk;
	struct addrinfo		*res;
	int			 rv, err;

	lk = xcalloc(1, sizeof *lk);
	lk->hints.ai_family = ai_family(t->addr->family);
	lk->hints.ai_socktype = type;
	lk->hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
	if (getaddrinfo(host, port, &lk->hints, &res) == 0) {
		free(lk);
		if (resolved(t, res, type) == 0)
			sock_connect(t, c->targets, c->n, then);
		return;
	}
	lk->hints.ai_flags = AI_NUMERICSERV;
	lk->host = xstrdup(host);
	lk->port = xstrdup(port);
	lk->t = t;
	if (lookup_start(lk) == 0) {
		c->lookup = lk;
		t->phase = via->kind != PROXY_NONE ? "proxy resolve" :
		    "resolve";
		return;
	}
	rv = getaddrinfo(lk->host, lk->port, &lk->hints, &res);
	err = errno;
	free(lk->host);
	free(lk->port);
	free(lk);
	if (rv != 0) {
		sock_connect_free(t);
		t->errnum = EHOSTUNREACH;
		proxy_fail(t, "%s", rv == EAI_SYSTEM ? strerror(err) :
		    gai_strerror(rv));
	} else if (resolved(t, res, type) == 0)
		sock_connect(t, c->targets, c->n, then);
}

/* The lookup's thread, signals blocked (the loop takes them); 0, -1. */
static int
lookup_start(struct lookup *lk)
{
	sigset_t	 all, old;
	int		 rv;

	if (lookup_pipe[0] == -1) {
		if (pipe2(lookup_pipe, O_CLOEXEC) == -1)
			return -1;
		/* The loop's end must not block; a thread's may. */
		fcntl(lookup_pipe[0], F_SETFL, O_NONBLOCK);
		lookup_ev = event_new(lk->t->base, lookup_pipe[0],
		    EV_READ | EV_PERSIST, lookups_cb, NULL);
		event_add(lookup_ev, NULL);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&lk->thread, NULL, lookup_run, lk);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0)
		return -1;
	lookups_running++;
	return 0;
}

/* On the lookup's thread: resolve, then hand the lookup to the loop. */
static void *
lookup_run(void *arg)
{
	struct lookup	*lk = arg;
	ssize_t		 n;

	lk->rv = getaddrinfo(lk->host, lk->port, &lk->hints, &lk->res);
	lk->err = errno;
	/* A pointer is far below PIPE_BUF: written whole or not at all. */
	do
		n = write(lookup_pipe[1], &lk, sizeof lk);
	while (n == -1 && errno == EINTR);
	return NULL;
}

/*
 * At the end, before the loop goes: stop watching for lookups.  One
 * still running is left to its thread, and the pipe to it (exit ends
 * both).
 */
void
sock_lookups_end(void)
{
	if (lookup_ev == NULL)
		return;
	event_free(lookup_ev);
	lookup_ev = NULL;
	if (lookups_running > 0)
		return;
	close(lookup_pipe[0]);
	close(lookup_pipe[1]);
	lookup_pipe[0] = lookup_pipe[1] = -1;
}

static void
lookups_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lookup	*lk;

	(void)what;
	(void)arg;
	while (read(fd, &lk, sizeof lk) == (ssize_t)sizeof lk)
		lookup_finish(lk);
}

/*
 * A finished lookup, its thread joined (it has only to return): its
 * transport connects, or it was abandoned.
 */
static void
lookup_finish(struct lookup *lk)
{
	struct transport	*t = lk->t;
	struct connecting	*c;
	struct addrinfo		*res = lk->res;
	int			 rv = lk->rv, err = lk->err;
	int			 type = lk->hints.ai_socktype;

	pthread_join(lk->thread, NULL);
	lookups_running--;
	free(lk->host);
	free(lk->port);
	free(lk);
	if (t == NULL) {
		if (rv == 0)
			freeaddrinfo(res);
		return;
	}
	c = t->conn;
	c->lookup = NULL;
	if (rv != 0) {
		sock_connect_free(t);
		t->errnum = EHOSTUNREACH;
		proxy_fail(t, "%s", rv == EAI_SYSTEM ? strerror(err) :
		    gai_strerror(rv));
		return;
	}
	if (resolved(t, res, type) == 0)
		sock_connect(t, c->targets, c->n, c->then);
}

/* Free the connect state (closing a socket still connecting); may repeat. */
void
sock_connect_free(struct transport *t)
{
	struct connecting	*c = t->conn;

	if (c == NULL)
		return;
	/* Its thread still owns it: freed when it is done. */
	if (c->lookup != NULL)
		c->lookup->t = NULL;
	if (c->ev != NULL)
		event_free(c->ev);
	event_free(c->retry);
	proxy_free(c->tunnel);
	if (c->fd != -1)
		close(c->fd);
	free(c->targets);
	free(c->why);
	free(c);
	t->conn = NULL;
}

/*
 * Connected: through the proxy first, if there is one (then here again);
 * then the stream is up, or the kind goes on (a TLS handshake).
 */
static void
done(struct transport *t, int fd)
{
	struct connecting	*c = t->conn;
	sock_connected_fn	*then = c->then;

	if (t->addr->sock.proxy.kind != PROXY_NONE && c->tunnel == NULL) {
		c->fd = fd;
		c->tunnel = proxy_start(t, fd, done);
		return;
	}
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
	char			*why;
	int			 err;

	while (c->next < c->n) {
		tg = &c->targets[c->next];
		if ((c->fd = prepare(t, tg)) == -1) {
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
		err = errno;
		close(c->fd);
		c->fd = -1;
		target_failed(c, connect_words(tg, err));
		c->err = err;
		if (err == EAGAIN && tg->ss.ss_family == AF_UNIX) {
			util_timer_add(c->retry, UNIX_RETRY_S);
			return;
		}
		c->next++;
	}
	why = c->why != NULL ? c->why : xasprintf("connect: %s",
	    strerror(ENOENT));
	c->why = NULL;
	t->errnum = c->err;
	sock_connect_free(t);
	proxy_fail(t, "%s", why);
	free(why);
}

/*
 * A socket for tg, with the address's options set and its source bound,
 * or -1 with the reason kept.
 */
static int
prepare(struct transport *t, const struct sock_target *tg)
{
	struct connecting	*c = t->conn;
	const struct sock_opts	*o = &t->addr->sock;
	char			*err = NULL;
	int			 fd;

	if (has_bind(o) && tg->fromlen == 0) {
		target_failed(c, xasprintf("bind: no IPv%d address for %s",
		    tg->ss.ss_family == AF_INET6 ? 6 : 4, bind_host_shown(o)));
		return -1;
	}
	fd = socket(tg->ss.ss_family, tg->type | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		target_failed(c, xasprintf("socket: %s", strerror(errno)));
		return -1;
	}
	/* Before connect: the window scale a SYN offers follows rcvbuf. */
	if (sock_opts_apply(fd, o, &err) == -1 ||
	    (tg->fromlen != 0 && bind_source(fd, tg, &err) == -1)) {
		target_failed(c, err);
		close(fd);
		return -1;
	}
	return fd;
}

/* Keep why a target failed: the message, if it is the last one tried. */
static void
target_failed(struct connecting *c, char *why)
{
	free(c->why);
	c->why = why;
	c->err = 0;
}

static char *
connect_words(const struct sock_target *tg, int err)
{
	char	*src, *why;

	/* The source's address and port are taken, or it has no port left. */
	if (tg->fromlen != 0 && (err == EADDRINUSE || err == EADDRNOTAVAIL)) {
		src = source_name(tg);
		why = xasprintf("connect: %s (bind %s)", strerror(err), src);
		free(src);
		return why;
	}
	return xasprintf("connect: %s", strerror(err));
}

static int
bind_source(int fd, const struct sock_target *tg, char **err)
{
	const struct sockaddr_in	*in = (const void *)&tg->from;
	const struct sockaddr_in6	*in6 = (const void *)&tg->from;
	char				*src;

#ifdef IP_BIND_ADDRESS_NO_PORT
	/*
	 * Any port: chosen by connect for this destination, so connections
	 * from one source to many places do not each hold a port of their
	 * own from bind on.
	 */
	if ((tg->from.ss_family == AF_INET ? in->sin_port : in6->sin6_port)
	    == 0 && set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1,
	    "bind", err) == -1)
		return -1;
#else
	(void)in;
	(void)in6;
#endif
	if (bind(fd, (const struct sockaddr *)&tg->from, tg->fromlen) == 0)
		return 0;
	src = source_name(tg);
	*err = xasprintf("bind %s: %s", src, strerror(errno));
	free(src);
	return -1;
}

/* The source address, and its port unless any would do. */
static char *
source_name(const struct sock_target *tg)
{
	char	*name;
	size_t	 n;

	name = sock_peer_name((const struct sockaddr *)&tg->from, tg->fromlen);
	if ((n = strlen(name)) > 2 && strcmp(name + n - 2, ":0") == 0)
		name[n - 2] = '\0';
	return name;
}

static void
connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;
	struct connecting	*c = t->conn;
	int			 err = 0;
	socklen_t		 len = sizeof err;

	(void)what;
	event_free(c->ev);
	c->ev = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		done(t, (int)fd);
		return;
	}
	target_failed(c, connect_words(&c->targets[c->next], err));
	c->err = err;
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

/*
 * The addresses a lookup gave, in order, as the targets to connect to;
 * -1 once it has failed.
 */
static int
resolved(struct transport *t, struct addrinfo *res, int type)
{
	struct connecting	*c = t->conn;
	struct sock_target	*targets;
	struct addrinfo		*ai;
	size_t			 n = 0;

	for (ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	targets = xcalloc(n, sizeof *targets);
	n = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof targets[n].ss)
			continue;
		memcpy(&targets[n].ss, ai->ai_addr, ai->ai_addrlen);
		targets[n].len = ai->ai_addrlen;
		targets[n].type = type;
		n++;
	}
	freeaddrinfo(res);
	c->targets = targets;
	c->n = n;
	if (has_bind(&t->addr->sock) && choose_sources(t, targets, n) == -1) {
		sock_connect_free(t);
		return -1;
	}
	return 0;
}

static int
has_bind(const struct sock_opts *o)
{
	return o->bind_host != NULL || o->bind_port != NULL;
}

static const char *
bind_host_shown(const struct sock_opts *o)
{
	return o->bind_host != NULL ? o->bind_host : "(any address)";
}

/*
 * bind=: resolved as the target is, and for each target the first
 * source address of its family (none: that target fails).
 */
static int
choose_sources(struct transport *t, struct sock_target *tg, size_t n)
{
	const struct sock_opts	*o = &t->addr->sock;
	struct addrinfo		 hints, *res, *ai;
	size_t			 i;
	int			 rv;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = ai_family(t->addr->family);
	hints.ai_socktype = tg->type;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rv = getaddrinfo(o->bind_host, o->bind_port != NULL ?
	    o->bind_port : "0", &hints, &res)) != 0) {
		transport_fail(t, "bind %s: %s", bind_host_shown(o),
		    rv == EAI_SYSTEM ? strerror(errno) : gai_strerror(rv));
		return -1;
	}
	for (i = 0; i < n; i++)
		for (ai = res; ai != NULL; ai = ai->ai_next)
			if (ai->ai_family == tg[i].ss.ss_family &&
			    ai->ai_addrlen <= sizeof tg[i].from) {
				memcpy(&tg[i].from, ai->ai_addr,
				    ai->ai_addrlen);
				tg[i].fromlen = ai->ai_addrlen;
				break;
			}
	freeaddrinfo(res);
	return 0;
}

static int
bind_one(const struct addr *a, int type, int family, const struct sockaddr *sa,
    socklen_t len, int v6only, char **err)
{
	int	 fd, on = 1;

	if ((fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) ==
	    -1) {
		*err = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof v6only);
	/*
	 * Before listen: accepted connections start with these (their
	 * window scale too), though listener.c sets them on each again.
	 */
	if (sock_opts_apply(fd, &a->sock, err) == -1) {
		close(fd);
		return -1;
	}
	if (bind(fd, sa, len) == -1) {
		*err = xasprintf("bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (type == SOCK_STREAM && listen(fd, LISTEN_BACKLOG) == -1) {
		*err = xasprintf("listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Bind, and for a stream listen.  With no HOST, every interface: IPv6
 * and IPv4 on one socket where the system allows it.  *ready is an
 * address another weir can connect to: SCHEME:HOST:PORT.
 */
int
sock_bind(const struct addr *a, int type, const char *scheme, char **ready,
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
	hints.ai_socktype = type;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (a->host == NULL && family != 4) {
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
		rv = getaddrinfo("::", a->port, &hints, &res);
		if (rv == 0) {
			fd = bind_one(a, type, AF_INET6, res->ai_addr,
			    res->ai_addrlen, family == 6, err);
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
			fd = bind_one(a, type, ai->ai_family, ai->ai_addr,
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

/*
 * A socket option of an address whose kind takes the options in which
 * (SOCK_OPT_*): 0, 1 when name is none, -1 with a message.
 */
int
sock_option(struct addr *a, int which, const char *name, const char *val,
    char **err)
{
	struct sock_opts	*o = &a->sock;
	int			 is;

	if (strcmp(name, "sndbuf") == 0 || strcmp(name, "rcvbuf") == 0)
		is = SOCK_OPT_BUF;
	else if (strcmp(name, "nodelay") == 0 ||
	    strcmp(name, "keepalive") == 0)
		is = SOCK_OPT_TCP;
	else if (strcmp(name, "bind") == 0)
		is = SOCK_OPT_BIND;
	else if (strcmp(name, "proxy") == 0)
		is = SOCK_OPT_PROXY;
	else
		return 1;
	/* Only where a connect can go through one: else unknown. */
	if (is == SOCK_OPT_PROXY)
		return which & is ? proxy_parse(a, val, err) : 1;
	if (!(which & is)) {
		if (is == SOCK_OPT_BIND)
			*err = xstrdup("bind= is the source address of a "
			    "connect (tcp:, tls:, udp:), not for this address");
		else
			*err = xasprintf("%s= is for TCP and TLS addresses",
			    name);
		return -1;
	}
	if (is == SOCK_OPT_BIND) {
		free(o->bind_host);
		free(o->bind_port);
		o->bind_host = o->bind_port = NULL;
		return kind_hostport("bind", val, HOSTPORT_SOURCE,
		    &o->bind_host, &o->bind_port, err);
	}
	if (is == SOCK_OPT_TCP)
		return yes_no(name, val, strcmp(name, "nodelay") == 0 ?
		    &o->nodelay : &o->keepalive, err);
	return buf_size(name, val, strcmp(name, "sndbuf") == 0 ?
	    &o->sndbuf : &o->rcvbuf, err);
}

static int
buf_size(const char *name, const char *val, int *out, char **err)
{
	char		 why[128];
	uint64_t	 v;

	if (util_parse_size(val, SOCK_BUF_MIN, SOCK_BUF_MAX, &v, why,
	    sizeof why) == -1) {
		*err = xasprintf("%s: %s", name, why);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* yes or no, as verify= takes them. */
static int
yes_no(const char *name, const char *val, int *out, char **err)
{
	if (strcmp(val, "yes") == 0)
		*out = 1;
	else if (strcmp(val, "no") == 0)
		*out = 0;
	else {
		*err = xasprintf("%s: expected yes or no", name);
		return -1;
	}
	return 0;
}

/*
 * Set an address's socket options on fd: 0, or -1 with a message.  A
 * fresh socket has TCP_NODELAY and SO_KEEPALIVE off: "no" needs nothing.
 */
int
sock_opts_apply(int fd, const struct sock_opts *o, char **err)
{
	if ((o->sndbuf != 0 && set_int(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf,
	    "sndbuf", err) == -1) ||
	    (o->rcvbuf != 0 && set_int(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf,
	    "rcvbuf", err) == -1) ||
	    (o->nodelay && set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1,
	    "nodelay", err) == -1) ||
	    (o->keepalive && set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1,
	    "keepalive", err) == -1))
		return -1;
	return 0;
}

static int
set_int(int fd, int level, int name, int val, const char *what, char **err)
{
	if (setsockopt(fd, level, name, &val, sizeof val) == 0)
		return 0;
	*err = xasprintf("%s: %s", what, strerror(errno));
	return -1;
}

/* An IPv4 peer of a dual-stack listener, as IPv4 (as the logs show it). */
void
sock_unmap_v4(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in	 in;

	if (ss->ss_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return;
	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	in.sin_port = in6->sin6_port;
	memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], sizeof in.sin_addr);
	memcpy(ss, &in, sizeof in);
	*len = sizeof in;
}

/* "127.0.0.1:5000", "[::1]:5000", or "local" for any other family. */
char *
sock_peer_name(const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)&ss;
	char			 host[INET6_ADDRSTRLEN];

	if (len > sizeof ss)
		return xstrdup("local");
	memcpy(&ss, sa, len);
	sock_unmap_v4(&ss, &len);
	switch (ss.ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		return xasprintf("%s:%u", host, ntohs(in->sin_port));
	case AF_INET6:
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		return xasprintf("[%s]:%u", host, ntohs(in6->sin6_port));
	default:
		return xstrdup("local");
	}
}

/*
 * What the peer sent that is still unread, taken and dropped (some of
 * it, without waiting): closing a socket with unread bytes resets the
 * connection, and the peer might then never read the last words that
 * say why (a WebSocket close frame, a SOCKS reply).
 */
void
sock_drain(int fd)
{
	char	 buf[16384];
	int	 i;

	for (i = 0; i < DRAIN_MAX / (int)sizeof buf; i++)
		if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0)
			break;
}
