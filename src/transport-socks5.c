/*
 * socks5-listen:[HOST:]PORT, a SOCKS5 server (RFC 1928, CONNECT; no
 * authentication, or user=/pass= for RFC 1929's).  Each accepted
 * connection's opening is the handshake up to the request, spoken by
 * socks5.c (sans-IO); the request names the address the connection is
 * paired with (the target op, a tcp: of its own), and the reply waits
 * until that partner has opened or failed (the partner op).
 *
 * The client's bytes are peeked and only the handshake's taken, so what
 * it sends after its request stays in the socket for the relay (and
 * splice) to read.  The replies are a few bytes each into a socket that
 * has sent nothing else, whose send buffer is empty: they are sent at
 * once, and a send that cannot take them whole has lost the client.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "log.h"
#include "sock.h"
#include "socks5.h"
#include "transport-kind.h"
#include "util.h"

/* The most peeked at once: more than a whole handshake. */
#define PEEK_MAX	1024

extern const struct kind kind_tcp;

struct socks5_addr {
	char		*user;
	char		*pass;
};

/* A connection in its handshake, then the destination it asked for. */
struct socks5_conn {
	struct socks5_server	*srv;
	struct event		*ev;
	int			 fd;		/* ours until open */
	char			*host;
	char			 port[8];
};

static int	socks5_parse(struct addr *, const char *, char **);
static int	socks5_option(struct addr *, const char *, const char *,
		    char **);
static int	socks5_check(struct addr *, char **);
static void	socks5_free(struct addr *);
static int	socks5_bind(const struct addr *, struct bound *, char **);
static void	conn_open(struct transport *);
static void	conn_step(struct transport *);
static void	conn_cb(evutil_socket_t, short, void *);
static int	conn_feed(struct transport *, const char *, size_t);
static int	conn_send(int, const void *, size_t);
static void	conn_fail(struct transport *, const char *);
static void	conn_done(struct transport *);
static int	conn_target(const struct transport *, const char **,
		    const char **);
static void	conn_partner(struct transport *, const struct transport *);
static void	conn_release(struct transport *);

static const struct transport_ops socks5_conn_ops = {
	.open = conn_open,
	.release = conn_release,
	.target = conn_target,
	.partner = conn_partner
};

static const struct kind_listen socks5_listen = {
	.bind = socks5_bind,
	.conn = &socks5_conn_ops,
	.dials = &kind_tcp,
	.mode = "socks5"
};

const struct kind kind_socks5_listen = {
	.name = "socks5-listen",
	.flags = KIND_READS | KIND_WRITES | KIND_LISTENS | KIND_INET,
	.help = "  socks5-listen:[HOST:]PORT\n"
	    "                         a SOCKS5 server, alone: each client's "
	    "CONNECT names\n"
	    "                         its own RIGHT\n",
	.help_opts = "  user=NAME, pass=WORD   socks5-listen: clients must give "
	    "these (RFC 1929)\n",
	.parse = socks5_parse,
	.option = socks5_option,
	.check = socks5_check,
	.free = socks5_free,
	.splices = kind_splices_always,
	.listen = &socks5_listen
};

static int
socks5_parse(struct addr *a, const char *arg, char **err)
{
	a->opts = xcalloc(1, sizeof(struct socks5_addr));
	return kind_arg_hostport(a, arg, 1, err);
}

static int
socks5_option(struct addr *a, const char *name, const char *val,
    char **err)
{
	struct socks5_addr	*sa = a->opts;
	char			**slot;

	if (strcmp(name, "user") == 0)
		slot = &sa->user;
	else if (strcmp(name, "pass") == 0)
		slot = &sa->pass;
	else
		return sock_option(a, SOCK_OPT_BUF | SOCK_OPT_TCP, name, val,
		    err);
	if (val == NULL) {
		*err = xasprintf("%s: %s= needs a value", a->name, name);
		return -1;
	}
	free(*slot);
	*slot = xstrdup(val);
	return 0;
}

/* Both or neither, each as RFC 1929 carries it (at most 255 bytes). */
static int
socks5_check(struct addr *a, char **err)
{
	struct socks5_addr	*sa = a->opts;
	struct socks5_server	*s;
	char			 why[128];

	if ((sa->user == NULL) != (sa->pass == NULL)) {
		*err = xstrdup("user= and pass= go together");
		return -1;
	}
	if ((s = socks5_server_new(sa->user, sa->pass, why, sizeof why)) ==
	    NULL) {
		*err = xstrdup(why);
		return -1;
	}
	socks5_server_free(s);
	return 0;
}

static void
socks5_free(struct addr *a)
{
	struct socks5_addr	*sa = a->opts;

	if (sa == NULL)
		return;
	free(sa->user);
	free(sa->pass);
	free(sa);
	a->opts = NULL;
}

/* The ready line is a proxy= value: socks5://127.0.0.1:PORT. */
static int
socks5_bind(const struct addr *a, struct bound *b, char **err)
{
	char	*ready;

	if ((b->fd = sock_bind(a, SOCK_STREAM, "socks5", &ready, err)) == -1)
		return -1;
	b->ready = xasprintf("socks5://%s", ready + strlen("socks5:"));
	free(ready);
	return b->fd;
}

static void
conn_open(struct transport *t)
{
	const struct socks5_addr *sa = t->addr->opts;
	struct socks5_conn	*sc;
	char			 why[128];

	sc = xcalloc(1, sizeof *sc);
	sc->fd = t->accepted;
	if ((sc->ev = event_new(t->base, sc->fd, EV_READ, conn_cb, t)) ==
	    NULL)
		xoom();
	t->kind = sc;
	t->phase = "handshake";
	/* The credentials were checked with the address. */
	if ((sc->srv = socks5_server_new(sa->user, sa->pass, why,
	    sizeof why)) == NULL)
		abort();
	conn_step(t);
}

/* Take what the client has sent, as far as the handshake goes now. */
static void
conn_step(struct transport *t)
{
	struct socks5_conn	*sc = t->kind;
	char			 buf[PEEK_MAX];
	ssize_t			 n;
	int			 r;

	for (;;) {
		n = recv(sc->fd, buf, sizeof buf, MSG_PEEK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(sc->ev, NULL);
			return;
		}
		if (n <= 0) {
			conn_fail(t, n == 0 ? "closed in the handshake" :
			    strerror(errno));
			return;
		}
		if ((r = conn_feed(t, buf, (size_t)n)) != 0) {
			if (r > 0)
				conn_done(t);
			return;
		}
	}
}

/*
 * The peeked bytes to the parser, those it used taken from the socket,
 * its answers sent: 0 to read on, 1 done, -1 failed (reported).
 */
static int
conn_feed(struct transport *t, const char *buf, size_t n)
{
	struct socks5_conn	*sc = t->kind;
	enum socks5_status	 st;
	const char		*out;
	char			 sink[PEEK_MAX];
	size_t			 used, len;

	st = socks5_server_feed(sc->srv, buf, n, &used);
	/* Peeked, so there: taken whole. */
	if (used > 0 && recv(sc->fd, sink, used, 0) != (ssize_t)used) {
		conn_fail(t, strerror(errno));
		return -1;
	}
	out = socks5_server_output(sc->srv, &len);
	if (len > 0 && conn_send(sc->fd, out, len) == -1) {
		conn_fail(t, strerror(errno));
		return -1;
	}
	if (st == SOCKS5_ERROR) {
		conn_fail(t, socks5_server_error(sc->srv));
		return -1;
	}
	return st == SOCKS5_DONE;
}

/* A reply, whole; -1 with errno otherwise. */
static int
conn_send(int fd, const void *p, size_t len)
{
	ssize_t	 n;

	do
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK)
		errno = EMSGSIZE;
	return -1;
}

/* A failed handshake: what was sent is left to be read, then closed. */
static void
conn_fail(struct transport *t, const char *why)
{
	struct socks5_conn	*sc = t->kind;

	shutdown(sc->fd, SHUT_WR);
	sock_drain(sc->fd);
	transport_fail(t, "%s", why);
	conn_release(t);
}

/* The request is in: the connection opens, its reply waits. */
static void
conn_done(struct transport *t)
{
	struct socks5_conn	*sc = t->kind;
	const char		*host = socks5_server_host(sc->srv);
	int			 fd = sc->fd;

	sc->host = xstrdup(host);
	snprintf(sc->port, sizeof sc->port, "%u",
	    socks5_server_port(sc->srv));
	log_debug("%s: CONNECT %s%s%s:%s", t->name,
	    socks5_server_atyp(sc->srv) == SOCKS5_ATYP_IPV6 ? "[" : "", host,
	    socks5_server_atyp(sc->srv) == SOCKS5_ATYP_IPV6 ? "]" : "",
	    sc->port);
	socks5_server_free(sc->srv);
	sc->srv = NULL;
	event_free(sc->ev);
	sc->ev = NULL;
	sc->fd = -1;
	transport_opened(t, fd, fd);
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_step(arg);
}

static int
conn_target(const struct transport *t, const char **host, const char **port)
{
	const struct socks5_conn *sc = t->kind;

	if (sc == NULL || sc->host == NULL)
		return -1;
	*host = sc->host;
	*port = sc->port;
	return 0;
}

/*
 * The reply: success with the address the partner's connection has on
 * this side, or the code for how it failed, after which the client is
 * closed (by the owner), having read what was said.
 */
static void
conn_partner(struct transport *t, const struct transport *p)
{
	struct sockaddr_storage	 ss;
	struct sockaddr		*bnd = NULL;
	socklen_t		 len = sizeof ss;
	unsigned char		 reply[SOCKS5_REPLY_MAX];
	int			 fd = t->wfd != -1 ? t->wfd : t->rfd;
	int			 pfd = p->wfd != -1 ? p->wfd : p->rfd;
	int			 code = SOCKS5_OK;

	/* A bound address not to be had is said as 0.0.0.0:0. */
	if (!p->opened)
		code = socks5_errno_code(p->errnum);
	else if (getsockname(pfd, (struct sockaddr *)&ss, &len) == 0)
		bnd = (struct sockaddr *)&ss;
	if (conn_send(fd, reply, socks5_reply(code, bnd, reply)) == -1)
		log_debug("%s: reply: %s", t->name, strerror(errno));
	if (code == SOCKS5_OK)
		return;
	log_debug("%s: replied %d, %s", t->name, code,
	    socks5_reply_text(code));
	shutdown(fd, SHUT_WR);
	sock_drain(fd);
}

static void
conn_release(struct transport *t)
{
	struct socks5_conn	*sc = t->kind;

	if (sc == NULL)
		return;
	socks5_server_free(sc->srv);
	if (sc->ev != NULL)
		event_free(sc->ev);
	if (sc->fd != -1)
		close(sc->fd);
	free(sc->host);
	free(sc);
	t->kind = NULL;
}
