/*
 * The proxy handshake, between sock.c's connect and the kind's own
 * opening.  The proxy's bytes are peeked (MSG_PEEK) and only those the
 * handshake takes are read: whatever the proxy sent after its reply
 * (a server that speaks first, behind an HTTP CONNECT) stays in the
 * socket for the kind, whether it reads it, OpenSSL does, or splice(2).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cli.h"
#include "http-connect.h"
#include "kind.h"
#include "log.h"
#include "proxy.h"
#include "sock.h"
#include "socks5.h"
#include "transport-kind.h"
#include "util.h"

/* One connection's handshake with its proxy. */
struct proxy_conn {
	struct transport	*t;
	int			 fd;		/* sock.c's, until done */
	struct socks5_client	*socks;		/* one of these two */
	struct http_connect	*http;
	struct evbuffer		*out;		/* to send */
	struct event		*ev;		/* the wait */
	proxy_done_fn		*done;
};

static int	scheme(const char *, struct proxy_url *, const char **,
		    char **);
static int	credentials(const char *, size_t, struct proxy_url *, char **);
static int	unescape(const char *, size_t, char *, const char *, char **);
static int	hs_new(struct proxy_conn *, const struct addr *,
		    const struct proxy_url *, char *, size_t);
static int	hs_feed(struct proxy_conn *, const char *, size_t, size_t *);
static const char *hs_error(const struct proxy_conn *);
static void	hs_output(struct proxy_conn *);
static void	step(struct proxy_conn *);
static void	step_cb(evutil_socket_t, short, void *);
static void	wait_for(struct proxy_conn *, short);
static void	tunnelled(struct proxy_conn *);
static void	failed(struct proxy_conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * SCHEME://[USER[:PASS]@]HOST:PORT for address a (its host and port
 * already parsed: the handshake it will make is tried here, so what
 * cannot be asked is a usage error, not a failure per connection).
 */
int
proxy_parse(struct addr *a, const char *val, char **err)
{
	struct proxy_url	 u;
	struct proxy_conn	 pc;
	const char		*rest, *at, *bad;
	char			*host, *port, why[256];

	memset(&u, 0, sizeof u);
	if (scheme(val, &u, &rest, err) == -1)
		return -1;
	/* No path, query or fragment; in a password they are escaped. */
	if ((bad = strpbrk(rest, "/?#")) != NULL) {
		*err = xasprintf("proxy: '%c' is not taken (in a user or "
		    "password: %%%02X)", *bad, (unsigned char)*bad);
		return -1;
	}
	if ((at = strrchr(rest, '@')) != NULL) {
		if (credentials(rest, (size_t)(at - rest), &u, err) == -1)
			return -1;
		rest = at + 1;
	}
	if (kind_hostport("proxy", rest, HOSTPORT_CONNECT, &host, &port,
	    err) == -1)
		return -1;
	/* kind_hostport bounds both: a DNS name, a number to 65535. */
	snprintf(u.host, sizeof u.host, "%s", host);
	snprintf(u.port, sizeof u.port, "%s", port);
	free(host);
	free(port);
	memset(&pc, 0, sizeof pc);
	if (hs_new(&pc, a, &u, why, sizeof why) == -1) {
		*err = xasprintf("proxy: %s", why);
		return -1;
	}
	socks5_client_free(pc.socks);
	http_connect_free(pc.http);
	a->sock.proxy = u;
	return 0;
}

/* socks5:// or http://, in any case; *rest: what follows. */
static int
scheme(const char *val, struct proxy_url *u, const char **rest, char **err)
{
	const char	*sep = strstr(val, "://");
	char		 buf[64];
	size_t		 n;

	if (sep == NULL) {
		*err = xstrdup("proxy: expected socks5://HOST:PORT or "
		    "http://HOST:PORT");
		return -1;
	}
	n = (size_t)(sep - val);
	if (n == 6 && strncasecmp(val, "socks5", n) == 0)
		u->kind = PROXY_SOCKS5;
	else if (n == 4 && strncasecmp(val, "http", n) == 0)
		u->kind = PROXY_HTTP;
	else {
		*err = xasprintf("proxy: unknown scheme '%s' (socks5 or http)",
		    util_escape(val, n, buf, sizeof buf));
		return -1;
	}
	*rest = sep + 3;
	return 0;
}

/* USER[:PASS], percent-escapes decoded; no PASS is an empty one. */
static int
credentials(const char *s, size_t n, struct proxy_url *u, char **err)
{
	const char	*colon = memchr(s, ':', n);
	size_t		 ulen = colon != NULL ? (size_t)(colon - s) : n;

	if (ulen == 0) {
		*err = xstrdup("proxy: empty user");
		return -1;
	}
	if (unescape(s, ulen, u->user, "user", err) == -1 ||
	    (colon != NULL && unescape(colon + 1, n - ulen - 1, u->pass,
	    "password", err) == -1))
		return -1;
	u->auth = 1;
	return 0;
}

/* n bytes of s into out (PROXY_CRED_MAX + 1 bytes), %XX decoded. */
static int
unescape(const char *s, size_t n, char *out, const char *what, char **err)
{
	size_t	 i, len = 0;
	int	 hi, lo, c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || (hi = util_hexval(s[i + 1])) < 0 ||
			    (lo = util_hexval(s[i + 2])) < 0) {
				*err = xasprintf("proxy: %s: '%%' without two "
				    "hex digits after it", what);
				return -1;
			}
			c = hi << 4 | lo;
			i += 2;
		}
		if (c == 0) {
			*err = xasprintf("proxy: %s holds a NUL byte", what);
			return -1;
		}
		if (len == PROXY_CRED_MAX) {
			*err = xasprintf("proxy: %s longer than %d bytes", what,
			    PROXY_CRED_MAX);
			return -1;
		}
		out[len++] = (char)c;
	}
	out[len] = '\0';
	return 0;
}

/* The handshake to reach a through u, or -1 with why it cannot be made. */
static int
hs_new(struct proxy_conn *pc, const struct addr *a, const struct proxy_url *u,
    char *why, size_t len)
{
	unsigned	 port = (unsigned)strtoul(a->port, NULL, 10);
	const char	*user = u->auth ? u->user : NULL;

	if (u->kind == PROXY_SOCKS5)
		pc->socks = socks5_client_new(a->host, port, user, u->pass, why,
		    len);
	else
		pc->http = http_connect_new(a->host, port, user, u->pass, why,
		    len);
	return pc->socks != NULL || pc->http != NULL ? 0 : -1;
}

/* The proxy's bytes: 1 once the tunnel is open, 0 for more, -1. */
static int
hs_feed(struct proxy_conn *pc, const char *p, size_t n, size_t *used)
{
	enum socks5_status	s;
	enum http_head_status	h;

	if (pc->socks != NULL) {
		s = socks5_client_feed(pc->socks, p, n, used);
		return s == SOCKS5_DONE ? 1 : s == SOCKS5_MORE ? 0 : -1;
	}
	h = http_connect_feed(pc->http, p, n, used);
	return h == HTTP_HEAD_DONE ? 1 : h == HTTP_HEAD_MORE ? 0 : -1;
}

static const char *
hs_error(const struct proxy_conn *pc)
{
	return pc->socks != NULL ? socks5_client_error(pc->socks) :
	    http_connect_error(pc->http);
}

/* Queue what the handshake has to say now. */
static void
hs_output(struct proxy_conn *pc)
{
	const char	*p;
	size_t		 n;

	if (pc->socks != NULL)
		p = socks5_client_output(pc->socks, &n);
	else
		p = http_connect_output(pc->http, &n);
	evbuffer_add(pc->out, p, n);
}

/* "socks5://user:***@host:port": the password never shown. */
char *
proxy_shown(const struct proxy_url *u)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 user[3 * PROXY_CRED_MAX + 1], *p = user;
	const unsigned char	*s;
	int			 v6 = strchr(u->host, ':') != NULL;

	for (s = (const unsigned char *)u->user; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
			*p++ = (char)*s;
		else {
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 0xf];
		}
	}
	*p = '\0';
	return xasprintf("%s://%s%s%s%s%s:%s", u->kind == PROXY_SOCKS5 ?
	    "socks5" : "http", user, u->auth ? ":***@" : "", v6 ? "[" : "",
	    u->host, v6 ? "]" : "", u->port);
}

/* Fail t's connect, said of its proxy when it has one. */
void
proxy_fail(struct transport *t, const char *fmt, ...)
{
	va_list	 ap;
	char	 why[512], *shown;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (t->addr->sock.proxy.kind == PROXY_NONE) {
		transport_fail(t, "%s", why);
		return;
	}
	shown = proxy_shown(&t->addr->sock.proxy);
	transport_fail(t, "proxy %s: %s", shown, why);
	free(shown);
}

/*
 * Connected to the proxy on fd: the handshake, then done(t, fd) as the
 * last thing it does (sock.c frees this there, and on a failure).
 */
struct proxy_conn *
proxy_start(struct transport *t, int fd, proxy_done_fn *done)
{
	struct proxy_conn	*pc;

	pc = xcalloc(1, sizeof *pc);
	pc->t = t;
	pc->fd = fd;
	pc->done = done;
	if ((pc->out = evbuffer_new()) == NULL)
		xoom();
	t->phase = "proxy handshake";
	/* From the loop: sock.c keeps pc before anything can fail. */
	wait_for(pc, EV_WRITE);
	return pc;
}

void
proxy_free(struct proxy_conn *pc)
{
	if (pc == NULL)
		return;
	if (pc->ev != NULL)
		event_free(pc->ev);
	socks5_client_free(pc->socks);
	http_connect_free(pc->http);
	evbuffer_free(pc->out);
	free(pc);
}

/*
 * Send what the handshake says, take what the proxy answers, until the
 * tunnel is open or refused, or the socket must be waited for.
 */
static void
step(struct proxy_conn *pc)
{
	char	 buf[HTTP_CONNECT_MAX_HEAD], why[256];
	ssize_t	 n;
	size_t	 used;
	int	 r;

	if (pc->socks == NULL && pc->http == NULL &&
	    hs_new(pc, pc->t->addr, &pc->t->addr->sock.proxy, why,
	    sizeof why) == -1) {
		failed(pc, "%s", why);
		return;
	}
	for (;;) {
		hs_output(pc);
		if (evbuffer_write(pc->out, pc->fd) == -1 && errno != EAGAIN &&
		    errno != EINTR) {
			failed(pc, "send: %s", strerror(errno));
			return;
		}
		if (evbuffer_get_length(pc->out) > 0) {
			wait_for(pc, EV_WRITE);
			return;
		}
		if ((n = recv(pc->fd, buf, sizeof buf, MSG_PEEK)) <= 0) {
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				wait_for(pc, EV_READ);
			else if (n == -1)
				failed(pc, "recv: %s", strerror(errno));
			else
				failed(pc, "closed before its reply");
			return;
		}
		r = hs_feed(pc, buf, (size_t)n, &used);
		/* Read what the handshake took; the rest is the tunnel's. */
		if (used > 0 && recv(pc->fd, buf, used, 0) != (ssize_t)used) {
			failed(pc, "recv: %s", strerror(errno));
			return;
		}
		if (r == -1) {
			failed(pc, "%s", hs_error(pc));
			return;
		}
		if (r == 1) {
			tunnelled(pc);
			return;
		}
	}
}

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	step(arg);
}

static void
wait_for(struct proxy_conn *pc, short what)
{
	if (pc->ev != NULL)
		event_free(pc->ev);
	pc->ev = event_new(pc->t->base, pc->fd, what, step_cb, pc);
	event_add(pc->ev, NULL);
}

/* The tunnel is open: on as if connected to the address itself. */
static void
tunnelled(struct proxy_conn *pc)
{
	struct transport	*t = pc->t;
	char			*shown;

	shown = proxy_shown(&t->addr->sock.proxy);
	log_debug("%s: through proxy %s", t->name, shown);
	free(shown);
	pc->done(t, pc->fd);
}

/* The connect fails; sock.c's state, this included, goes with it. */
static void
failed(struct proxy_conn *pc, const char *fmt, ...)
{
	struct transport	*t = pc->t;
	va_list			 ap;
	char			 why[512];

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	proxy_fail(t, "%s", why);
	sock_connect_free(t);
}
