/*
 * tls:HOST:PORT, a TLS client over TCP, and the TLS stream both it and
 * tls-listen:'s connections are: a handshake between connect (or
 * accept) and open, then reads, writes and close_notify through
 * OpenSSL on the one socket.  tls.c makes the contexts and words the
 * outcomes.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cli.h"
#include "log.h"
#include "sock.h"
#include "tls.h"
#include "transport-kind.h"
#include "util.h"

/* One TLS stream. */
struct tls_stream {
	SSL		*ssl;
	int		 fd;		/* ours until the stream is open */
	struct event	*ev;		/* the handshake's wait */
	int		 bye;		/* close_notify said or failed */
	int		 late;		/* an end to report at the next read */
	char		*late_err;	/* its words, if a failure */
};

static int	tls_parse(struct addr *, const char *, char **);
static void	tls_open(struct transport *);
static void	tls_connected(struct transport *, int);
static void	accepted_open(struct transport *);
static void	start(struct transport *, SSL *, int);
static void	step(struct transport *);
static void	step_cb(evutil_socket_t, short, void *);
static ssize_t	tls_read(struct transport *, const struct iovec *, int);
static ssize_t	tls_write(struct transport *, const struct iovec *, int);
static int	tls_shutdown(struct transport *);
static size_t	tls_buffered(const struct transport *);
static void	tls_release(struct transport *);
static int	io_error(struct transport *, int);

static const struct transport_ops tls_ops = {
	.open = tls_open,
	.read = tls_read,
	.write = tls_write,
	.shutdown = tls_shutdown,
	.buffered = tls_buffered,
	.release = tls_release,
	.linger = 1
};

/* A connection tls-listen: accepted: the same stream, its handshake a server's. */
const struct transport_ops transport_tls_accepted_ops = {
	.open = accepted_open,
	.read = tls_read,
	.write = tls_write,
	.shutdown = tls_shutdown,
	.buffered = tls_buffered,
	.release = tls_release,
	.linger = 1
};

const struct kind kind_tls = {
	.name = "tls",
	.flags = KIND_READS | KIND_WRITES | KIND_REOPENS,
	.help = "  tls:HOST:PORT          connect over TLS, verifying the "
	    "server\n",
	.help_opts = "  verify=yes|no, ca=PATH, sni=NAME, pin=sha256:HEX, "
	    "cert=PATH, key=PATH\n"
	    "                         tls: how the server is checked; a "
	    "client certificate\n",
	.parse = tls_parse,
	.option = tls_addr_option,
	.check = tls_addr_check,
	.free = tls_addr_free,
	.ops = &tls_ops
};

static int
tls_parse(struct addr *a, const char *arg, char **err)
{
	return tls_addr_parse(a, arg, 0, err);
}

static void
tls_open(struct transport *t)
{
	struct tls_addr		*ta = t->addr->opts;
	char			*err = NULL;

	/* One context for every connection: the trust store loads once. */
	if (ta->ctx == NULL && (ta->ctx = tls_ctx_client(&ta->opts, &err)) ==
	    NULL) {
		transport_fail(t, "%s", err);
		free(err);
		return;
	}
	sock_dial(t, SOCK_STREAM, tls_connected);
}

static void
tls_connected(struct transport *t, int fd)
{
	struct tls_addr	*ta = t->addr->opts;

	start(t, tls_client(ta->ctx, &ta->opts, t->addr->host, fd), fd);
}

static void
accepted_open(struct transport *t)
{
	struct tls_addr	*ta = t->addr->opts;

	start(t, tls_server(ta->ctx, t->accepted), t->accepted);
}

static void
start(struct transport *t, SSL *ssl, int fd)
{
	struct tls_stream	*ts;

	ts = xcalloc(1, sizeof *ts);
	ts->ssl = ssl;
	ts->fd = fd;
	t->kind = ts;
	t->phase = "handshake";
	step(t);
}

/* Take the handshake as far as it goes now; wait for what it needs. */
static void
step(struct transport *t)
{
	struct tls_stream	*ts = t->kind;
	char			*why, *about;
	int			 r, want, fd = ts->fd;

	if ((r = tls_handshake(ts->ssl, &want, &why)) == 1) {
		if (ts->ev != NULL)
			event_free(ts->ev);
		ts->ev = NULL;
		ts->fd = -1;
		about = tls_describe(ts->ssl);
		log_debug("%s: %s", t->name, about);
		free(about);
		transport_opened(t, fd, fd);
		return;
	}
	if (r == 0) {
		if (ts->ev != NULL)
			event_free(ts->ev);
		ts->ev = event_new(t->base, fd, want == TLS_WANT_WRITE ?
		    EV_WRITE : EV_READ, step_cb, t);
		event_add(ts->ev, NULL);
		return;
	}
	transport_fail(t, "%s", why);
	free(why);
	ts->bye = 1;
	tls_release(t);
}

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	step(arg);
}

/*
 * Fill the buffers record after record, until OpenSSL has nothing more
 * without reading the socket again.  An end met after some data is kept
 * for the next call.
 */
static ssize_t
tls_read(struct transport *t, const struct iovec *iov, int n)
{
	struct tls_stream	*ts = t->kind;
	size_t			 got = 0, off = 0, k;
	int			 i = 0, r;

	if (ts->late)
		return io_error(t, 0);
	while (i < n) {
		ERR_clear_error();
		r = SSL_read_ex(ts->ssl, (char *)iov[i].iov_base + off,
		    iov[i].iov_len - off, &k);
		if (r == 1) {
			got += k;
			if ((off += k) == iov[i].iov_len) {
				i++;
				off = 0;
			}
			continue;
		}
		r = SSL_get_error(ts->ssl, r);
		if (got == 0)
			return io_error(t, r);
		if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE) {
			/* Report it once what came before it is taken. */
			io_error(t, r);
			ts->late = 1;
			ts->late_err = t->err;
			t->err = NULL;
		}
		break;
	}
	return (ssize_t)got;
}

/*
 * What SSL_get_error said, as the engine wants it: EAGAIN with what to
 * wait for, 0 for the peer's end, or -1 with t->err.
 */
static int
io_error(struct transport *t, int e)
{
	struct tls_stream	*ts = t->kind;

	if (ts->late) {
		ts->late = 0;
		free(t->err);
		t->err = ts->late_err;
		ts->late_err = NULL;
		errno = EPROTO;
		return t->err != NULL ? -1 : 0;
	}
	switch (e) {
	case SSL_ERROR_WANT_READ:
		/* Idle until the peer sends: hold no record buffers. */
		SSL_free_buffers(ts->ssl);
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
	if (tls_truncated(ts->ssl, -1)) {
		log_debug("%s: end of input without close_notify (truncated)",
		    t->name);
		ts->bye = 1;
		return 0;
	}
	free(t->err);
	t->err = tls_why(ts->ssl, -1);
	ts->bye = 1;
	errno = EPROTO;
	return -1;
}

static ssize_t
tls_write(struct transport *t, const struct iovec *iov, int n)
{
	struct tls_stream	*ts = t->kind;
	size_t			 put = 0, off = 0, k;
	int			 i = 0, r;

	while (i < n) {
		ERR_clear_error();
		r = SSL_write_ex(ts->ssl, (const char *)iov[i].iov_base + off,
		    iov[i].iov_len - off, &k);
		if (r == 1) {
			/* A record at a time: on until the socket is full. */
			put += k;
			if ((off += k) == iov[i].iov_len) {
				i++;
				off = 0;
			}
			continue;
		}
		if (put > 0)
			break;
		return io_error(t, SSL_get_error(ts->ssl, r));
	}
	return (ssize_t)put;
}

/* close_notify, before the engine's shutdown(SHUT_WR). */
static int
tls_shutdown(struct transport *t)
{
	struct tls_stream	*ts = t->kind;
	int			 r;

	if (ts->bye)
		return 0;
	ERR_clear_error();
	if ((r = SSL_shutdown(ts->ssl)) >= 0) {
		ts->bye = 1;
		return 0;
	}
	r = SSL_get_error(ts->ssl, r);
	if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
		return io_error(t, r);
	/* A broken stream cannot say goodbye: the socket's FIN is all. */
	ERR_clear_error();
	ts->bye = 1;
	return 0;
}

static size_t
tls_buffered(const struct transport *t)
{
	struct tls_stream	*ts = t->kind;

	if (ts == NULL || ts->ssl == NULL)
		return 0;
	/* Read ahead, whole records wait undecrypted: SSL_pending misses them. */
	return (size_t)SSL_has_pending(ts->ssl) + (size_t)ts->late;
}

/*
 * Free the stream; a graceful close that has not said close_notify
 * says it now, once, without waiting (an abort does not: the peer must
 * see that the stream was cut).
 */
static void
tls_release(struct transport *t)
{
	struct tls_stream	*ts = t->kind;

	sock_connect_free(t);
	if (ts == NULL)
		return;
	if (ts->ev != NULL)
		event_free(ts->ev);
	if (t->opened && !t->aborted && !ts->bye) {
		ERR_clear_error();
		SSL_shutdown(ts->ssl);
	}
	ERR_clear_error();
	SSL_free(ts->ssl);
	if (ts->fd != -1)
		close(ts->fd);
	free(ts->late_err);
	free(ts);
	t->kind = NULL;
}
