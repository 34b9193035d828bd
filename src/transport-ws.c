/*
 * ws://HOST[:PORT][/PATH] and ws-listen:[HOST:]PORT[/PATH]: WebSocket
 * (RFC 6455), a message transport on a TCP stream: one message is one
 * frame (KIND_MESSAGES); wss:// and wss-listen: the same on TLS (tls.c
 * makes the contexts and words the outcomes).  The TLS handshake, then
 * the opening handshake (ws-handshake.c), run between connect, or
 * accept, and open.  Then a read decodes frames
 * (ws-codec.c) into one message, in parts when it is bigger than the
 * read; pings are answered and the peer's close frame is answered and
 * is the end of its input.  A write sends one frame as one message,
 * masked by a client; the other side's end is a close frame (1000).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "http-head.h"
#include "log.h"
#include "sock.h"
#include "tls.h"
#include "transport-kind.h"
#include "utf8.h"
#include "util.h"
#include "ws-codec.h"
#include "ws-handshake.h"

/* The longest request or response head. */
#define HEAD_MAX	8192
/* Bytes read from the socket and not yet decoded (held while any are). */
#define RBUF_SIZE	(64 * 1024)
/* A client masks its payload in pieces of this size. */
#define MASK_CHUNK	(16 * 1024)

enum ws_msg {
	MSG_AUTO,
	MSG_TEXT,
	MSG_BINARY
};

/* An address's own options. */
struct ws_addr {
	char		*path;		/* listen: NULL serves any */
	enum ws_msg	 msg;
	char		**headers;	/* client: "Name: Value" */
	size_t		 nheaders;
	char		*origin;
	char		*subprotocol;
	double		 ping;		/* 0: none */
	int		 secure;	/* wss: on TLS */
	struct tls_addr	 tls;
};

/* One WebSocket. */
struct ws_conn {
	enum ws_role	 role;
	int		 fd;		/* ours until open */
	SSL		*ssl;		/* wss */
	int		 tls_up;	/* its handshake is done */
	int		 tls_bye;	/* close_notify sent */
	struct event	*ev;		/* the handshake's wait, then a
					   control frame's */
	struct http_head *head;
	char		*hs;		/* handshake bytes to send */
	size_t		 hs_len;
	size_t		 hs_off;
	int		 refused;	/* server: the status was not 101 */
	char		*why;		/* its reason */
	char		 key[WS_KEY_LEN + 1];
	struct ws_dec	*dec;
	char		*rbuf;
	size_t		 roff;
	size_t		 rlen;
	const char	*chunk;		/* of a message, still to hand out */
	size_t		 chunk_len;
	int		 chunk_last;	/* the message ends with it */
	int		 in_message;	/* a message's parts were handed out */
	struct evbuffer	*ctl;		/* control frames to send */
	char		 hdr[WS_HEADER_MAX];
	size_t		 hdr_len;	/* of the data frame being sent */
	size_t		 frame_off;	/* its bytes sent, header included */
	unsigned char	 mask[4];
	int		 sending;	/* a data frame is half sent */
	int		 bad;		/* closed for a protocol error */
	int		 close_sent;
	int		 close_got;
	struct event	*ping_ev;
	double		 pong_last;
	int		 ping_late;	/* no pong in time: fail the read */
};

static int	ws_parse(struct addr *, const char *, char **);
static int	ws_listen_parse(struct addr *, const char *, char **);
extern const struct kind kind_wss, kind_wss_listen;
static int	ws_option(struct addr *, const char *, const char *, char **);
static int	ws_check(struct addr *, char **);
static void	request_of(const struct addr *, struct ws_handshake_req *);
static void	ws_free(struct addr *);
static void	ws_open(struct transport *);
static void	ws_connected(struct transport *, int);
static void	accepted_open(struct transport *);
static ssize_t	ws_read(struct transport *, const struct iovec *, int);
static ssize_t	ws_write(struct transport *, const struct iovec *, int);
static int	ws_shutdown(struct transport *);
static size_t	ws_buffered(const struct transport *);
static void	ws_release(struct transport *);
static int	ws_bind(const struct addr *, struct bound *, char **);
static struct ws_conn *conn_new(struct transport *, enum ws_role, int);
static void	hs_step(struct transport *);
static void	hs_cb(evutil_socket_t, short, void *);
static int	hs_send(struct transport *);
static int	hs_recv(struct transport *);
static void	hs_done(struct transport *);
static void	hs_wait(struct transport *, short);
static ssize_t	fill(struct transport *);
static int	decode(struct transport *);
static size_t	take(struct ws_conn *, const struct iovec *, int, size_t);
static void	control(struct transport *, const struct ws_event *);
static void	queue_control(struct ws_conn *, enum ws_opcode, const char *,
		    size_t);
static int	send_control(struct transport *);
static void	ctl_cb(evutil_socket_t, short, void *);
static int	frame_start(struct transport *, const struct iovec *, int,
		    size_t);
static ssize_t	ended(struct transport *, size_t);
static ssize_t	eof(struct transport *, size_t);
static ssize_t	frame_send(struct transport *, const struct iovec *, int,
		    size_t);
static int	bad_input(struct transport *, const char *, int);
static int	hs_io(struct transport *, int (*)(struct transport *));
static int	tls_step(struct transport *);
static ssize_t	low_recv(struct transport *, int, void *, size_t);
static ssize_t	low_send(struct transport *, int, const struct iovec *, int);
static ssize_t	tls_io_error(struct transport *, int);
static int	frame_piece(struct ws_conn *, const struct iovec *, int,
		    struct iovec *);
static int	hs_check_response(struct transport *);
static int	hs_answer(struct transport *);
static int	want_write(struct transport *);
static void	ping_start(struct transport *);
static void	ping_cb(evutil_socket_t, short, void *);

static const struct transport_ops ws_ops = {
	.open = ws_open,
	.read = ws_read,
	.write = ws_write,
	.shutdown = ws_shutdown,
	.buffered = ws_buffered,
	.release = ws_release,
	.linger = 1,
	.parts = 1
};

static const struct transport_ops ws_accepted_ops = {
	.open = accepted_open,
	.read = ws_read,
	.write = ws_write,
	.shutdown = ws_shutdown,
	.buffered = ws_buffered,
	.release = ws_release,
	.linger = 1,
	.parts = 1
};

static const struct kind_listen ws_listen = {
	.bind = ws_bind,
	.conn = &ws_accepted_ops
};

#define WS_HELP_OPTS \
	"  msg=auto|text|binary   ws, wss: the type of messages sent (auto: " \
	"UTF-8 as\n" \
	"                         text); ping=SEC: a ping every SEC, closed " \
	"unanswered\n" \
	"                         for 2 x SEC\n" \
	"  header=NAME: VALUE, origin=URL, subprotocol=NAME\n" \
	"                         ws://, wss://: the request's (header= " \
	"repeats);\n" \
	"                         ws-listen: the subprotocol agreed\n"

const struct kind kind_ws = {
	.name = "ws",
	.flags = KIND_READS | KIND_WRITES | KIND_REOPENS | KIND_MESSAGES,
	.help = "  ws://HOST[:PORT][/PATH] a WebSocket client: one message, "
	    "one frame\n"
	    "  wss://HOST[:PORT][/PATH]\n"
	    "                         the same over TLS, verified as tls:\n",
	.help_opts = WS_HELP_OPTS,
	.parse = ws_parse,
	.option = ws_option,
	.check = ws_check,
	.free = ws_free,
	.ops = &ws_ops
};

const struct kind kind_wss = {
	.name = "wss",
	.flags = KIND_READS | KIND_WRITES | KIND_REOPENS | KIND_MESSAGES,
	.parse = ws_parse,
	.option = ws_option,
	.check = ws_check,
	.free = ws_free,
	.ops = &ws_ops
};

const struct kind kind_ws_listen = {
	.name = "ws-listen",
	.flags = KIND_READS | KIND_WRITES | KIND_LISTENS | KIND_INET |
	    KIND_MESSAGES,
	.help = "  ws-listen:[HOST:]PORT[/PATH], wss-listen:[HOST:]PORT[/PATH]"
	    "\n"
	    "                         a WebSocket server, on TLS for wss "
	    "(upgrades on PATH;\n"
	    "                         any without one)\n",
	.parse = ws_listen_parse,
	.option = ws_option,
	.check = ws_check,
	.free = ws_free,
	.listen = &ws_listen
};

const struct kind kind_wss_listen = {
	.name = "wss-listen",
	.flags = KIND_READS | KIND_WRITES | KIND_LISTENS | KIND_INET |
	    KIND_MESSAGES,
	.parse = ws_listen_parse,
	.option = ws_option,
	.check = ws_check,
	.free = ws_free,
	.listen = &ws_listen
};

/* Cut the path (from the first '/') off an authority; a copy, or NULL. */
static char *
cut_path(char *arg)
{
	char	*slash = strchr(arg, '/');
	char	*path;

	if (slash == NULL)
		return NULL;
	path = xstrdup(slash);
	*slash = '\0';
	return path;
}

/* An address's options; wss and wss-listen: on TLS. */
static struct ws_addr *
addr_new(struct addr *a, int server)
{
	struct ws_addr	*wa;

	wa = xcalloc(1, sizeof *wa);
	wa->secure = a->kind == &kind_wss || a->kind == &kind_wss_listen;
	tls_opts_init(&wa->tls.opts, server);
	a->opts = wa;
	return wa;
}

/* //HOST[:PORT][/PATH]: port 80 (443 for wss) and path "/" unless given. */
static int
ws_parse(struct addr *a, const char *arg, char **err)
{
	struct ws_addr	*wa = addr_new(a, 0);
	char		*auth, *hostport, *colon, *bracket;
	int		 r;

	if (strncmp(arg, "//", 2) != 0) {
		*err = xasprintf("expected %s://HOST[:PORT][/PATH]",
		    a->kind->name);
		return -1;
	}
	auth = xstrdup(arg + 2);
	if ((wa->path = cut_path(auth)) == NULL)
		wa->path = xstrdup("/");
	colon = strrchr(auth, ':');
	bracket = strrchr(auth, ']');
	if (colon != NULL && (bracket == NULL || bracket < colon))
		hostport = xstrdup(auth);
	else
		hostport = xasprintf("%s:%s", auth, wa->secure ? "443" : "80");
	r = kind_arg_hostport(a, hostport, 0, err);
	free(hostport);
	free(auth);
	return r;
}

/* [HOST:]PORT[/PATH] */
static int
ws_listen_parse(struct addr *a, const char *arg, char **err)
{
	struct ws_addr	*wa = addr_new(a, 1);
	char		*auth;
	int		 r;

	auth = xstrdup(arg);
	wa->path = cut_path(auth);
	r = kind_arg_hostport(a, auth, 1, err);
	free(auth);
	return r;
}

static int
msg_option(struct ws_addr *wa, const char *val, char **err)
{
	if (strcmp(val, "auto") == 0)
		wa->msg = MSG_AUTO;
	else if (strcmp(val, "text") == 0)
		wa->msg = MSG_TEXT;
	else if (strcmp(val, "binary") == 0)
		wa->msg = MSG_BINARY;
	else {
		*err = xasprintf("msg: '%s' is not auto, text or binary", val);
		return -1;
	}
	return 0;
}

static int
ping_option(struct ws_addr *wa, const char *val, char **err)
{
	char	 why[128];

	if (util_parse_seconds(val, &wa->ping, why, sizeof why) == -1) {
		*err = xasprintf("ping: %s", why);
		return -1;
	}
	return 0;
}

/* A client's own: its request's headers. */
static int
client_option(struct ws_addr *wa, const char *name, const char *val)
{
	if (strcmp(name, "header") == 0) {
		wa->headers = xrealloc(wa->headers, (wa->nheaders + 1) *
		    sizeof *wa->headers);
		wa->headers[wa->nheaders++] = xstrdup(val);
		return 0;
	}
	if (strcmp(name, "origin") == 0) {
		free(wa->origin);
		wa->origin = xstrdup(val);
		return 0;
	}
	return 1;
}

static int
ws_option(struct addr *a, const char *name, const char *val, char **err)
{
	struct ws_addr	*wa = a->opts;
	int		 server = (a->kind->flags & KIND_LISTENS) != 0, r;

	if (strcmp(name, "msg") == 0)
		return msg_option(wa, val, err);
	if (strcmp(name, "ping") == 0)
		return ping_option(wa, val, err);
	if (strcmp(name, "subprotocol") == 0) {
		free(wa->subprotocol);
		wa->subprotocol = xstrdup(val);
		if (http_head_token(val, strlen(val)))
			return 0;
		*err = xasprintf("subprotocol: '%s' is not a token", val);
		return -1;
	}
	if (!server && (r = client_option(wa, name, val)) != 1)
		return r;
	if (wa->secure && (r = tls_opts_set(&wa->tls.opts, name, val,
	    err)) != 1)
		return r;
	return sock_option(a, SOCK_OPT_BUF | SOCK_OPT_TCP |
	    (server ? 0 : SOCK_OPT_BIND | SOCK_OPT_PROXY), name, val, err);
}

/*
 * wss: the TLS options agree; a client: its request can be made (the
 * headers are well formed and none is the handshake's own).
 */
static int
ws_check(struct addr *a, char **err)
{
	struct ws_addr		*wa = a->opts;
	struct ws_handshake_req	 req;
	char			 key[WS_KEY_LEN + 1], why[256], *text;

	if (wa->secure && tls_opts_check(&wa->tls.opts, err) == -1)
		return -1;
	if (a->kind->flags & KIND_LISTENS)
		return 0;
	request_of(a, &req);
	if ((text = ws_handshake_request(&req, key, why, sizeof why)) == NULL) {
		*err = xstrdup(why);
		return -1;
	}
	free(text);
	return 0;
}

/* What a client's request is made of. */
static void
request_of(const struct addr *a, struct ws_handshake_req *req)
{
	const struct ws_addr	*wa = a->opts;

	memset(req, 0, sizeof *req);
	req->host = a->host;
	req->port = (unsigned)strtoul(a->port, NULL, 10);
	req->tls = wa->secure;
	req->path = wa->path;
	req->origin = wa->origin;
	req->subprotocol = wa->subprotocol;
	req->headers = (const char *const *)wa->headers;
	req->nheaders = wa->nheaders;
}

static void
ws_free(struct addr *a)
{
	struct ws_addr	*wa = a->opts;
	size_t		 i;

	if (wa == NULL)
		return;
	for (i = 0; i < wa->nheaders; i++)
		free(wa->headers[i]);
	free(wa->headers);
	free(wa->path);
	free(wa->origin);
	free(wa->subprotocol);
	tls_opts_free(&wa->tls.opts);
	SSL_CTX_free(wa->tls.ctx);
	free(wa);
	a->opts = NULL;
}

/*
 * The listening socket (wss: the context first, so a bad certificate
 * binds nothing); the ready line is a URL a client can open, with the
 * certificate's pin for wss.
 */
static int
ws_bind(const struct addr *a, struct bound *b, char **err)
{
	struct ws_addr	*wa = a->opts;
	char		*ready, *pin = NULL;

	if (wa->secure && wa->tls.ctx == NULL &&
	    (wa->tls.ctx = tls_ctx_server(&wa->tls.opts, err)) == NULL)
		return -1;
	if ((b->fd = sock_bind(a, SOCK_STREAM, "ws", &ready, err)) == -1)
		return -1;
	if (wa->secure) {
		pin = tls_ctx_pin(wa->tls.ctx);
		if (wa->tls.opts.cert == NULL)
			log_debug("%s: a fresh self-signed certificate, %s",
			    a->name, pin);
	}
	b->ready = xasprintf("%s://%s%s%s%s", wa->secure ? "wss" : "ws",
	    ready + 3, wa->path != NULL ? wa->path : "/", pin != NULL ?
	    ",pin=" : "", pin != NULL ? pin : "");
	free(ready);
	free(pin);
	return b->fd;
}

/* wss: one context for every connection (the trust store loads once). */
static void
ws_open(struct transport *t)
{
	struct ws_addr		*wa = t->addr->opts;
	char			*err = NULL;

	if (wa->secure && wa->tls.ctx == NULL &&
	    (wa->tls.ctx = tls_ctx_client(&wa->tls.opts, &err)) == NULL) {
		transport_fail(t, "%s", err);
		free(err);
		return;
	}
	sock_dial(t, SOCK_STREAM, ws_connected);
}

static struct ws_conn *
conn_new(struct transport *t, enum ws_role role, int fd)
{
	struct ws_addr	*wa = t->addr->opts;
	struct ws_conn	*wc;

	wc = xcalloc(1, sizeof *wc);
	wc->role = role;
	wc->fd = fd;
	if (wa->secure)
		wc->ssl = role == WS_CLIENT ? tls_client(wa->tls.ctx,
		    &wa->tls.opts, t->addr->host, fd) :
		    tls_server(wa->tls.ctx, fd);
	wc->rbuf = xmalloc(RBUF_SIZE);
	wc->head = http_head_new(role == WS_CLIENT ? HTTP_HEAD_RESPONSE :
	    HTTP_HEAD_REQUEST, HEAD_MAX);
	t->kind = wc;
	t->phase = "handshake";
	return wc;
}

/* Connected: send the request, then read the answer. */
static void
ws_connected(struct transport *t, int fd)
{
	struct ws_handshake_req		 req;
	struct ws_conn			*wc;
	char				 err[256];

	wc = conn_new(t, WS_CLIENT, fd);
	request_of(t->addr, &req);
	if ((wc->hs = ws_handshake_request(&req, wc->key, err,
	    sizeof err)) == NULL) {
		transport_fail(t, "handshake: %s", err);
		return;
	}
	wc->hs_len = strlen(wc->hs);
	hs_step(t);
}

/* Accepted: read the request, then answer it. */
static void
accepted_open(struct transport *t)
{
	conn_new(t, WS_SERVER, t->accepted);
	hs_step(t);
}

/*
 * Take the handshakes as far as they go now: TLS first (wss); then a
 * client sends, then reads; a server reads, then sends.  Then open, or
 * fail.
 */
static void
hs_step(struct transport *t)
{
	struct ws_conn	*wc = t->kind;

	if (wc->ssl != NULL && !wc->tls_up && tls_step(t) <= 0)
		return;
	if (wc->role == WS_CLIENT && hs_io(t, hs_send) <= 0)
		return;
	if ((wc->hs == NULL || wc->role == WS_CLIENT) && hs_io(t, hs_recv) <= 0)
		return;
	if (wc->role == WS_SERVER && hs_io(t, hs_send) <= 0)
		return;
	hs_done(t);
}

/* One part of the handshake: 1 done, 0 waiting (for what it wants). */
static int
hs_io(struct transport *t, int (*part)(struct transport *))
{
	int	 r;

	t->want = 0;
	if ((r = part(t)) == 0)
		hs_wait(t, t->want == TRANSPORT_WANT_WRITE ||
		    (t->want == 0 && part == hs_send) ? EV_WRITE : EV_READ);
	return r;
}

/* The TLS handshake: 1 done, 0 waiting, -1 failed (reported). */
static int
tls_step(struct transport *t)
{
	struct ws_conn	*wc = t->kind;
	char		*why, *about;
	int		 want, r;

	if ((r = tls_handshake(wc->ssl, &want, &why)) == 0) {
		hs_wait(t, want == TLS_WANT_WRITE ? EV_WRITE : EV_READ);
		return 0;
	}
	if (r == -1) {
		transport_fail(t, "%s", why);
		free(why);
		ws_release(t);
		return -1;
	}
	wc->tls_up = 1;
	about = tls_describe(wc->ssl);
	log_debug("%s: %s", t->name, about);
	free(about);
	return 1;
}

static void
hs_wait(struct transport *t, short what)
{
	struct ws_conn	*wc = t->kind;

	if (wc->ev != NULL)
		event_free(wc->ev);
	if ((wc->ev = event_new(t->base, wc->fd, what, hs_cb, t)) == NULL)
		xoom();
	event_add(wc->ev, NULL);
}

static void
hs_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hs_step(arg);
}

/* Send what is left of the head: 1 sent, 0 to wait, -1 failed. */
static int
hs_send(struct transport *t)
{
	struct ws_conn	*wc = t->kind;
	struct iovec	 v;
	ssize_t		 n;

	while (wc->hs_off < wc->hs_len) {
		v.iov_base = wc->hs + wc->hs_off;
		v.iov_len = wc->hs_len - wc->hs_off;
		if ((n = low_send(t, wc->fd, &v, 1)) == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			transport_fail(t, "handshake: %s", n == 0 ? "closed" :
			    t->err != NULL ? t->err : strerror(errno));
			ws_release(t);
			return -1;
		}
		wc->hs_off += (size_t)n;
	}
	return 1;
}

/*
 * Read the other's head: 1 when whole (and checked), 0 to wait, -1
 * failed.  Bytes after it stay in rbuf: the first frames.
 */
static int
hs_recv(struct transport *t)
{
	struct ws_conn	*wc = t->kind;
	ssize_t		 n;
	size_t		 used;
	enum http_head_status st = HTTP_HEAD_MORE;

	while (st == HTTP_HEAD_MORE) {
		if ((n = low_recv(t, wc->fd, wc->rbuf, RBUF_SIZE)) == -1 &&
		    errno == EAGAIN)
			return 0;
		if (n <= 0) {
			transport_fail(t, "handshake: %s", n == 0 ?
			    "closed before the head's end" : t->err != NULL ?
			    t->err : strerror(errno));
			ws_release(t);
			return -1;
		}
		st = http_head_feed(wc->head, wc->rbuf, (size_t)n, &used);
		wc->roff = used;
		wc->rlen = (size_t)n;
	}
	return wc->role == WS_CLIENT ? hs_check_response(t) :
	    hs_answer(t);
}

/* Client: the server's answer must accept our key. */
static int
hs_check_response(struct transport *t)
{
	const struct ws_addr	*wa = t->addr->opts;
	struct ws_conn		*wc = t->kind;
	char			 err[256];

	if (ws_handshake_check_response(wc->head, wc->key, wa->subprotocol,
	    err, sizeof err) == -1) {
		transport_fail(t, "handshake: %s", err);
		ws_release(t);
		return -1;
	}
	return 1;
}

/* Server: the answer to the request, 101 or an error status. */
static int
hs_answer(struct transport *t)
{
	const struct ws_addr		*wa = t->addr->opts;
	struct ws_conn			*wc = t->kind;
	struct ws_handshake_reply	 r;

	ws_handshake_check_request(wc->head, wa->path, wa->subprotocol, &r);
	wc->hs = ws_handshake_response(&r, &wc->hs_len);
	if (r.status != 101) {
		wc->refused = 1;
		wc->why = xasprintf("answered %d: %s", r.status, r.why);
	}
	return 1;
}

/* The handshake is over: open, with what came after the head, or fail. */
static void
hs_done(struct transport *t)
{
	const struct ws_addr	*wa = t->addr->opts;
	struct ws_conn		*wc = t->kind;
	int			 fd = wc->fd;

	if (wc->ev != NULL)
		event_free(wc->ev);
	wc->ev = NULL;
	if (wc->refused) {
		transport_fail(t, "handshake: %s", wc->why);
		ws_release(t);
		return;
	}
	http_head_free(wc->head);
	wc->head = NULL;
	free(wc->hs);
	wc->hs = NULL;
	wc->dec = ws_dec_new(wc->role, t->addr->proto.max_frame);
	if ((wc->ctl = evbuffer_new()) == NULL)
		xoom();
	wc->fd = -1;
	log_debug("%s: WebSocket open%s%s", t->name,
	    wa->subprotocol != NULL ? ", subprotocol " : "",
	    wa->subprotocol != NULL ? wa->subprotocol : "");
	transport_opened(t, fd, fd);
	if (wa->ping > 0)
		ping_start(t);
}

/* The bytes of the message in hand that fit after got; got + them. */
static size_t
take(struct ws_conn *wc, const struct iovec *iov, int n, size_t got)
{
	size_t	 skip = got, k;
	int	 i;

	for (i = 0; i < n && wc->chunk_len > 0; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		k = iov[i].iov_len - skip;
		if (k > wc->chunk_len)
			k = wc->chunk_len;
		memcpy((char *)iov[i].iov_base + skip, wc->chunk, k);
		wc->chunk += k;
		wc->chunk_len -= k;
		got += k;
		skip = 0;
	}
	return got;
}

/*
 * One message into iov, or as much of it as fits (t->msg_more); pings
 * and the close frame are answered on the way.  The peer's close frame
 * ends the input.
 */
static ssize_t
ws_read(struct transport *t, const struct iovec *iov, int n)
{
	struct ws_conn	*wc = t->kind;
	size_t		 got = 0;
	ssize_t		 r;

	t->msg_more = 0;
	t->want = 0;
	if (wc->ping_late) {
		/* A peer that does not answer is gone both ways. */
		transport_end_output(t);
		free(t->err);
		t->err = xstrdup("no pong to a ping in time");
		errno = ETIMEDOUT;
		return -1;
	}
	for (;;) {
		if (wc->chunk != NULL) {
			got = take(wc, iov, n, got);
			if (wc->chunk_len > 0) {
				t->msg_more = wc->in_message = 1;
				return (ssize_t)got;
			}
			wc->chunk = NULL;
			wc->in_message = !wc->chunk_last;
			if (wc->chunk_last)
				return (ssize_t)got;
			continue;
		}
		/* Whatever follows the peer's close frame is not read. */
		if (wc->close_got)
			return ended(t, got);
		if ((r = decode(t)) != 0) {
			if (r == -1)
				return -1;
			continue;
		}
		if ((r = fill(t)) > 0)
			continue;
		if (r == 0)
			return eof(t, got);
		if (errno == EAGAIN && got > 0) {
			t->msg_more = wc->in_message = 1;
			return (ssize_t)got;
		}
		return -1;
	}
}

/* Bytes from the socket, for the decoder: what recv says. */
static ssize_t
fill(struct transport *t)
{
	struct ws_conn	*wc = t->kind;
	ssize_t		 n;

	wc->roff = wc->rlen = 0;
	if (wc->rbuf == NULL)
		wc->rbuf = xmalloc(RBUF_SIZE);
	if ((n = low_recv(t, t->rfd, wc->rbuf, RBUF_SIZE)) > 0)
		wc->rlen = (size_t)n;
	else if (n == -1 && errno == EAGAIN && wc->chunk == NULL) {
		/* Idle: an idle connection holds no buffer. */
		free(wc->rbuf);
		wc->rbuf = NULL;
	}
	return n;
}

/*
 * The stream's bytes in, as recv says: through TLS for wss (EAGAIN with
 * t->want; the peer's end without close_notify is an end too).
 */
static ssize_t
low_recv(struct transport *t, int fd, void *buf, size_t len)
{
	struct ws_conn	*wc = t->kind;
	ssize_t		 n;
	size_t		 k;
	int		 r;

	if (wc->ssl == NULL) {
		do
			n = recv(fd, buf, len, 0);
		while (n == -1 && errno == EINTR);
		if (n == -1 && errno == EWOULDBLOCK)
			errno = EAGAIN;
		return n;
	}
	ERR_clear_error();
	if ((r = SSL_read_ex(wc->ssl, buf, len, &k)) == 1)
		return (ssize_t)k;
	return tls_io_error(t, r);
}

/* The stream's bytes out, as sendmsg says (TLS: the first extent's). */
static ssize_t
low_send(struct transport *t, int fd, const struct iovec *v, int n)
{
	struct ws_conn	*wc = t->kind;
	struct msghdr	 m;
	ssize_t		 w;
	size_t		 k;
	int		 r;

	if (wc->ssl == NULL) {
		memset(&m, 0, sizeof m);
		m.msg_iov = (struct iovec *)(uintptr_t)v;
		m.msg_iovlen = (size_t)n;
		do
			w = sendmsg(fd, &m, MSG_NOSIGNAL);
		while (w == -1 && errno == EINTR);
		if (w == -1 && errno == EWOULDBLOCK)
			errno = EAGAIN;
		return w;
	}
	ERR_clear_error();
	if ((r = SSL_write_ex(wc->ssl, v[0].iov_base, v[0].iov_len, &k)) == 1)
		return (ssize_t)k;
	return tls_io_error(t, r);
}

/* What SSL_get_error says, as recv or send would. */
static ssize_t
tls_io_error(struct transport *t, int r)
{
	struct ws_conn	*wc = t->kind;

	switch (SSL_get_error(wc->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		t->want = TRANSPORT_WANT_READ;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		t->want = TRANSPORT_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	}
	if (tls_truncated(wc->ssl, r))
		return 0;
	free(t->err);
	t->err = tls_why(wc->ssl, r);
	errno = EPROTO;
	return -1;
}

/*
 * Decode what was read: 1 when an event came (a part of a message to
 * hand out, or a control frame, answered), 0 when more bytes are
 * needed, -1 when they broke the protocol.
 */
static int
decode(struct transport *t)
{
	struct ws_conn	*wc = t->kind;
	struct ws_event	 ev;
	enum ws_status	 st;
	size_t		 used = 0;

	if (wc->roff == wc->rlen)
		return 0;
	st = ws_dec_feed(wc->dec, wc->rbuf + wc->roff, wc->rlen - wc->roff,
	    &used, &ev);
	wc->roff += used;
	if (st == WS_MORE)
		return 0;
	if (st == WS_ERROR)
		return bad_input(t, ws_dec_error(wc->dec),
		    ws_dec_code(wc->dec));
	if (ev.type == WS_EV_DATA) {
		wc->chunk = ev.data;
		wc->chunk_len = ev.len;
		wc->chunk_last = (ev.flags & WS_LAST) != 0;
		return 1;
	}
	control(t, &ev);
	return 1;
}

/* A ping is answered, a pong noted, a close answered (the input ends). */
static void
control(struct transport *t, const struct ws_event *ev)
{
	struct ws_conn	*wc = t->kind;
	char		 payload[WS_CONTROL_MAX];
	size_t		 len;

	switch (ev->type) {
	case WS_EV_PING:
		queue_control(wc, WS_OP_PONG, ev->data, ev->len);
		break;
	case WS_EV_PONG:
		wc->pong_last = util_now();
		return;
	case WS_EV_CLOSE:
		wc->close_got = 1;
		log_debug("%s: the peer closed the WebSocket (%d%s%.*s)",
		    t->name, ev->code, ev->len > 0 ? ": " : "", (int)ev->len,
		    ev->data);
		len = ws_close_payload(payload, ev->code == WS_CLOSE_NO_STATUS ?
		    WS_CLOSE_NORMAL : ev->code, "");
		queue_control(wc, WS_OP_CLOSE, payload, len);
		/* Nothing can be sent after it. */
		send_control(t);
		transport_end_output(t);
		return;
	default:
		return;
	}
	send_control(t);
}

/* The peer's close frame came: its input is over. */
static ssize_t
ended(struct transport *t, size_t got)
{
	struct ws_conn	*wc = t->kind;
	size_t		 part = evbuffer_get_length(t->in);

	(void)got;
	/* A one-way writer reading until the peer is done: done. */
	if (t->lingering)
		return 0;
	/* What came of a message cut short by the close is no message. */
	if (wc->in_message && part > 0) {
		log_debug("%s: a message cut short by the close: %zu bytes "
		    "dropped", t->name, part);
		t->stats.discarded += part;
		evbuffer_drain(t->in, part);
	}
	wc->in_message = 0;
	transport_end_input(t);
	errno = EAGAIN;
	return -1;
}

/* The socket ended: after a close frame, or inside a message, an error. */
static ssize_t
eof(struct transport *t, size_t got)
{
	struct ws_conn	*wc = t->kind;

	if (wc->in_message || got > 0)
		return bad_input(t, "ws: the connection ended inside a "
		    "message", 0);
	log_debug("%s: the connection ended without a close frame", t->name);
	wc->close_got = 1;
	return ended(t, got);
}

/* The input broke the protocol: the close frame says why; an error. */
static int
bad_input(struct transport *t, const char *why, int code)
{
	struct ws_conn	*wc = t->kind;
	char		 payload[WS_CONTROL_MAX];
	size_t		 len;

	if (code != 0 && code != WS_CLOSE_ABNORMAL) {
		len = ws_close_payload(payload, code, "");
		queue_control(wc, WS_OP_CLOSE, payload, len);
		send_control(t);
		wc->bad = 1;
	}
	free(t->err);
	t->err = xstrdup(why);
	errno = EBADMSG;
	return -1;
}

/*
 * A control frame to send, after those queued; nothing after the close
 * frame, and a pong only while few wait (a flood of pings is not
 * answered in full).
 */
static void
queue_control(struct ws_conn *wc, enum ws_opcode op, const char *data,
    size_t len)
{
	char		 frame[WS_HEADER_MAX + WS_CONTROL_MAX];
	unsigned char	 key[4];
	size_t		 h;

	if (wc->close_sent || (op == WS_OP_PONG &&
	    evbuffer_get_length(wc->ctl) > 4 * sizeof frame))
		return;
	if (wc->role == WS_CLIENT && RAND_bytes(key, sizeof key) != 1)
		xoom();
	h = ws_header_write(frame, op, 1, len, wc->role == WS_CLIENT ?
	    key : NULL);
	memcpy(frame + h, data, len);
	if (wc->role == WS_CLIENT)
		ws_mask(frame + h, len, key, 0);
	evbuffer_add(wc->ctl, frame, h + len);
	wc->close_sent |= op == WS_OP_CLOSE;
}

/*
 * Send the control frames queued, unless a data frame is being sent: 1
 * when all are sent, 0 when the socket is full (sent when it drains),
 * -1 when it failed.
 */
static int
send_control(struct transport *t)
{
	struct ws_conn	*wc = t->kind;
	struct iovec	 v;
	ssize_t		 n;

	if (wc->sending || t->wfd == -1)
		return wc->sending ? 0 : 1;
	while ((v.iov_len = evbuffer_get_length(wc->ctl)) > 0) {
		v.iov_base = evbuffer_pullup(wc->ctl, -1);
		if ((n = low_send(t, t->wfd, &v, 1)) == -1 &&
		    errno == EAGAIN) {
			if (wc->ev == NULL && (wc->ev = event_new(t->base,
			    t->wfd, EV_WRITE, ctl_cb, t)) == NULL)
				xoom();
			event_add(wc->ev, NULL);
			return 0;
		}
		if (n <= 0)
			return -1;
		evbuffer_drain(wc->ctl, (size_t)n);
	}
	return 1;
}

static void
ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_control(arg);
}

/* Wait for writability: what the engine does for EAGAIN. */
static int
want_write(struct transport *t)
{
	t->want = TRANSPORT_WANT_WRITE;
	errno = EAGAIN;
	return -1;
}

static size_t
iov_len(const struct iovec *iov, int n)
{
	size_t	 len = 0;
	int	 i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

/* Whether a message in extents is UTF-8. */
static int
iov_utf8(const struct iovec *iov, int n)
{
	struct utf8	 u;
	int		 i;

	utf8_init(&u);
	for (i = 0; i < n; i++)
		if (utf8_feed(&u, iov[i].iov_base, iov[i].iov_len) !=
		    iov[i].iov_len)
			return 0;
	return utf8_done(&u);
}

/*
 * One frame, one message, whole: its length once sent, or -1 (EAGAIN:
 * the engine calls again with the same frame, which goes on where it
 * stopped).  Control frames go between messages.
 */
static ssize_t
ws_write(struct transport *t, const struct iovec *iov, int n)
{
	struct ws_conn	*wc = t->kind;
	size_t		 len = iov_len(iov, n);
	ssize_t		 r;

	if (!wc->sending) {
		if ((r = send_control(t)) == 0)
			return want_write(t);
		if (r == -1)
			return -1;
		if (wc->close_sent) {
			free(t->err);
			t->err = xstrdup(wc->close_got ? "the peer closed "
			    "the WebSocket" : "the WebSocket is closed");
			errno = EPIPE;
			return -1;
		}
		if (frame_start(t, iov, n, len) == -1)
			return -1;
	}
	if ((r = frame_send(t, iov, n, len)) <= 0)
		return r == 0 ? want_write(t) : -1;
	wc->frame_off = wc->hdr_len = 0;
	send_control(t);
	return (ssize_t)len;
}

/* The frame's header: its type as msg= says, masked by a client. */
static int
frame_start(struct transport *t, const struct iovec *iov, int n, size_t len)
{
	const struct ws_addr	*wa = t->addr->opts;
	struct ws_conn		*wc = t->kind;
	int			 text;

	text = wa->msg == MSG_TEXT || (wa->msg == MSG_AUTO &&
	    iov_utf8(iov, n));
	if (wa->msg == MSG_TEXT && !iov_utf8(iov, n)) {
		free(t->err);
		t->err = xstrdup("msg=text: a message that is not UTF-8 "
		    "(the peer would close with 1007)");
		errno = EBADMSG;
		return -1;
	}
	if (wc->role == WS_CLIENT && RAND_bytes(wc->mask,
	    sizeof wc->mask) != 1)
		xoom();
	wc->hdr_len = ws_header_write(wc->hdr, text ? WS_OP_TEXT :
	    WS_OP_BINARY, 1, len, wc->role == WS_CLIENT ? wc->mask : NULL);
	return 0;
}

/*
 * The payload's extents from off on, at most max of them, and at most
 * limit bytes; how many.
 */
static int
iov_from(const struct iovec *iov, int n, size_t off, struct iovec *out,
    int max, size_t limit)
{
	int	 i, k = 0;

	for (i = 0; i < n && k < max && limit > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		out[k].iov_base = (char *)iov[i].iov_base + off;
		out[k].iov_len = iov[i].iov_len - off;
		if (out[k].iov_len > limit)
			out[k].iov_len = limit;
		limit -= out[k].iov_len;
		off = 0;
		k++;
	}
	return k;
}

/*
 * Send the rest of the frame: the header, then the payload; a client
 * masks the payload, and TLS takes header and payload in one record,
 * so both go through a buffer in pieces.  1 when all is sent, 0 to
 * wait, -1 failed.
 */
static ssize_t
frame_send(struct transport *t, const struct iovec *iov, int n, size_t len)
{
	struct ws_conn	*wc = t->kind;
	struct iovec	 v[17];
	ssize_t		 r;
	int		 nv;

	wc->sending = 1;
	while (wc->frame_off < wc->hdr_len + len) {
		if (wc->role == WS_CLIENT || wc->ssl != NULL)
			nv = frame_piece(wc, iov, n, v);
		else {
			nv = 0;
			if (wc->frame_off < wc->hdr_len) {
				v[nv].iov_base = wc->hdr + wc->frame_off;
				v[nv++].iov_len = wc->hdr_len - wc->frame_off;
			}
			nv += iov_from(iov, n, wc->frame_off < wc->hdr_len ?
			    0 : wc->frame_off - wc->hdr_len, v + nv, 16,
			    SIZE_MAX);
		}
		if ((r = low_send(t, t->wfd, v, nv)) <= 0)
			return r == -1 && errno == EAGAIN ? 0 : -1;
		wc->frame_off += (size_t)r;
	}
	wc->sending = 0;
	return 1;
}

/*
 * The frame from where it stopped, as the bytes one write sends: what is
 * left of the header and a piece of the payload, masked by a client.
 * The same each time from the same place (TLS retries a write with the
 * same bytes).
 */
static int
frame_piece(struct ws_conn *wc, const struct iovec *iov, int n,
    struct iovec *v)
{
	static char	 piece[WS_HEADER_MAX + MASK_CHUNK];
	struct iovec	 src[16];
	size_t		 used = 0, off;
	int		 i, k;

	if (wc->frame_off < wc->hdr_len) {
		used = wc->hdr_len - wc->frame_off;
		memcpy(piece, wc->hdr + wc->frame_off, used);
	}
	off = wc->frame_off < wc->hdr_len ? 0 : wc->frame_off - wc->hdr_len;
	k = iov_from(iov, n, off, src, 16, MASK_CHUNK);
	for (i = 0; i < k; i++) {
		memcpy(piece + used, src[i].iov_base, src[i].iov_len);
		if (wc->role == WS_CLIENT)
			ws_mask(piece + used, src[i].iov_len, wc->mask, off);
		off += src[i].iov_len;
		used += src[i].iov_len;
	}
	v[0].iov_base = piece;
	v[0].iov_len = used;
	return 1;
}

/* The other side ended: the close frame (1000), once. */
static int
ws_shutdown(struct transport *t)
{
	struct ws_conn	*wc = t->kind;
	char		 payload[WS_CONTROL_MAX];
	size_t		 len;
	int		 r;

	if (!wc->close_sent) {
		len = ws_close_payload(payload, WS_CLOSE_NORMAL, "");
		queue_control(wc, WS_OP_CLOSE, payload, len);
	}
	if ((r = send_control(t)) == 0)
		return want_write(t);
	/* wss: close_notify, once, after it (a broken stream has none). */
	if (r == 1 && wc->ssl != NULL && !wc->tls_bye) {
		wc->tls_bye = 1;
		ERR_clear_error();
		SSL_shutdown(wc->ssl);
		ERR_clear_error();
	}
	return r == -1 ? -1 : 0;
}

/* Bytes read and not decoded, or a message part not handed out. */
static size_t
ws_buffered(const struct transport *t)
{
	const struct ws_conn	*wc = t->kind;

	if (wc == NULL || wc->dec == NULL)
		return 0;
	return wc->rlen - wc->roff + (wc->chunk != NULL) +
	    (wc->close_got && !t->read_eof) +
	    (wc->ssl != NULL ? (size_t)SSL_has_pending(wc->ssl) : 0);
}

/* A ping every ping=; a peer silent for twice that is closed. */
static void
ping_start(struct transport *t)
{
	const struct ws_addr	*wa = t->addr->opts;
	struct ws_conn		*wc = t->kind;

	wc->pong_last = util_now();
	if ((wc->ping_ev = event_new(t->base, -1, EV_PERSIST, ping_cb,
	    t)) == NULL)
		xoom();
	util_timer_add(wc->ping_ev, wa->ping);
}

static void
ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;
	const struct ws_addr	*wa = t->addr->opts;
	struct ws_conn		*wc = t->kind;

	(void)fd;
	(void)what;
	if (util_now() - wc->pong_last > 2 * wa->ping) {
		wc->ping_late = 1;
		transport_wake(t);
		return;
	}
	queue_control(wc, WS_OP_PING, "weir", 4);
	send_control(t);
}

/*
 * Free the connection; an open one not closed yet says so first (1001,
 * going away), once, without waiting.
 */
static void
ws_release(struct transport *t)
{
	struct ws_conn	*wc = t->kind;
	char		 payload[WS_CONTROL_MAX];
	size_t		 len;

	sock_connect_free(t);
	if (wc == NULL)
		return;
	if (t->opened && !t->aborted && !wc->close_sent && wc->ctl != NULL) {
		len = ws_close_payload(payload, 1001, "");
		queue_control(wc, WS_OP_CLOSE, payload, len);
		send_control(t);
	}
	if (wc->bad && t->rfd != -1)
		sock_drain(t->rfd);
	if (wc->ev != NULL)
		event_free(wc->ev);
	if (wc->ping_ev != NULL)
		event_free(wc->ping_ev);
	if (wc->ctl != NULL)
		evbuffer_free(wc->ctl);
	if (wc->ssl != NULL) {
		ERR_clear_error();
		if (t->opened && !t->aborted && !wc->tls_bye)
			SSL_shutdown(wc->ssl);
		ERR_clear_error();
		SSL_free(wc->ssl);
	}
	http_head_free(wc->head);
	ws_dec_free(wc->dec);
	free(wc->hs);
	free(wc->why);
	free(wc->rbuf);
	if (wc->fd != -1)
		close(wc->fd);
	free(wc);
	t->kind = NULL;
}
