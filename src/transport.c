/*
 * The I/O every kind shares: large reads into reserved buffer space,
 * scatter/gather writes, pacing, half-close.  Descriptors the event backend
 * cannot watch (regular files, /dev/null) never block and are driven by
 * activating their events by hand.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cli.h"
#include "log.h"
#include "transport-kind.h"
#include "util.h"

/*
 * One read: up to 128 KiB, as cat reads (libevent's own evbuffer_read
 * stops at 4).  A stream that sends little gets small reads, so many
 * quiet connections do not each hold a large buffer: the size doubles
 * while reads fill it and halves while they use under a quarter.
 * Sizes leave room for the chain header libevent puts in front.
 */
#define READ_MAX	(128 * 1024 - 128)
#define READ_MIN	(4 * 1024 - 128)
/* A write the backend cannot watch failed with EAGAIN: try again soon. */
#define RETRY_S		0.01

static void	read_cb(evutil_socket_t, short, void *);
static void	write_cb(evutil_socket_t, short, void *);
static void	timer_cb(evutil_socket_t, short, void *);
static void	flush(struct transport *);
static void	half_close(struct transport *);
static void	release_fd(int);
static void	arm_timer(struct transport *, double);
static void	fail_op(struct transport *, enum transport_op, const char *,
		    va_list) __attribute__((format(printf, 3, 0)));
static void	io_fail(struct transport *, enum transport_op, const char *,
		    ...) __attribute__((format(printf, 3, 4)));

/* Inherited descriptors whose flags weir changed, put back at exit. */
static struct {
	int	 fd;
	int	 flags;
} saved[8];
static size_t nsaved;

static const struct transport_ops *
ops_for(enum addr_type type)
{
	switch (type) {
	case ADDR_STDIO:
		return &transport_stdio_ops;
	case ADDR_FD:
		return &transport_fd_ops;
	case ADDR_FILE:
	case ADDR_WRITE:
	case ADDR_APPEND:
		return &transport_file_ops;
	case ADDR_TCP:
		return &transport_tcp_ops;
	case ADDR_UNIX:
		return &transport_unix_ops;
	case ADDR_EXEC:
		return &transport_exec_ops;
	case ADDR_TCP_LISTEN:
	case ADDR_UNIX_LISTEN:
		break;
	}
	return &transport_accepted_ops;
}

static struct transport *
transport_alloc(struct event_base *base, const struct addr *addr,
    const struct config *cfg, int halves, const struct transport_cbs *cbs,
    void *arg)
{
	struct transport	*t;

	t = xcalloc(1, sizeof *t);
	t->base = base;
	t->addr = addr;
	t->cfg = cfg;
	t->halves = halves;
	t->rfd = t->wfd = -1;
	t->cbs = cbs;
	t->arg = arg;
	t->in = evbuffer_new();
	t->out = evbuffer_new();
	t->timer = evtimer_new(base, timer_cb, t);
	if (t->in == NULL || t->out == NULL || t->timer == NULL)
		xoom();
	flow_rate_init(&t->rate, addr->rate);
	return t;
}

struct transport *
transport_new(struct event_base *base, const struct addr *addr,
    const struct config *cfg, int halves, const struct transport_cbs *cbs,
    void *arg)
{
	struct transport	*t;

	t = transport_alloc(base, addr, cfg, halves, cbs, arg);
	t->ops = ops_for(addr->type);
	t->name = xstrdup(addr->name);
	return t;
}

/* A connection a listener accepted; addr is the listener's. */
struct transport *
transport_new_fd(struct event_base *base, const struct addr *addr,
    const struct config *cfg, int fd, const char *name, int halves,
    const struct transport_cbs *cbs, void *arg)
{
	struct transport	*t;

	t = transport_alloc(base, addr, cfg, halves, cbs, arg);
	t->ops = &transport_accepted_ops;
	t->name = xstrdup(name);
	t->kind = (void *)(intptr_t)fd;
	return t;
}

static void
accepted_open(struct transport *t)
{
	int	 fd = (int)(intptr_t)t->kind;

	t->kind = NULL;
	t->sock = 1;
	transport_opened(t, fd, fd);
}

const struct transport_ops transport_accepted_ops = {
	accepted_open,
	NULL
};

void
transport_open(struct transport *t)
{
	t->ops->open(t);
}

/*
 * Take an inherited descriptor into non-blocking mode, remembering its
 * flags so exit (or an early close) can put them back for whoever shares it.
 */
int
transport_adopt_fd(int fd)
{
	size_t	 i;
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	for (i = 0; i < nsaved; i++)
		if (saved[i].fd == fd)
			break;
	if (i == nsaved && nsaved < sizeof saved / sizeof saved[0]) {
		saved[nsaved].fd = fd;
		saved[nsaved].flags = fl;
		nsaved++;
	}
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

void
transport_restore_stdio(void)
{
	size_t	 i;

	for (i = 0; i < nsaved; i++)
		if (saved[i].fd >= 0)
			fcntl(saved[i].fd, F_SETFL, saved[i].flags);
}

/* Close fd, or for 0-2 leave /dev/null in its place so nothing reuses it. */
static void
release_fd(int fd)
{
	size_t	 i;
	int	 null;

	if (fd < 0)
		return;
	for (i = 0; i < nsaved; i++)
		if (saved[i].fd == fd) {
			fcntl(fd, F_SETFL, saved[i].flags);
			saved[i].fd = -1;
		}
	if (fd > 2) {
		close(fd);
		return;
	}
	if ((null = open("/dev/null", O_RDWR)) == -1) {
		close(fd);
		return;
	}
	if (null != fd) {
		dup2(null, fd);
		close(null);
	}
}

/* The kind has its descriptors: set up the events and tell the owner. */
void
transport_opened(struct transport *t, int rfd, int wfd)
{
	struct stat	 st;

	t->opened = 1;
	if (!(t->halves & TRANSPORT_READ) && rfd != wfd && rfd >= 0) {
		release_fd(rfd);
		rfd = -1;
	}
	if (!(t->halves & TRANSPORT_WRITE) && rfd != wfd && wfd >= 0) {
		release_fd(wfd);
		wfd = -1;
	}
	t->rfd = (t->halves & TRANSPORT_READ) ? rfd : -1;
	t->wfd = (t->halves & TRANSPORT_WRITE) ? wfd : -1;
	/* A descriptor used for neither half is still ours to close. */
	if (t->rfd == -1 && t->wfd == -1)
		t->rfd = rfd >= 0 ? rfd : wfd;
	if (t->halves & TRANSPORT_READ) {
		t->rpoll = t->sock || util_pollable(t->rfd);
		t->rev = t->rpoll ?
		    event_new(t->base, t->rfd, EV_READ | EV_PERSIST |
		    (t->sock ? EV_CLOSED : 0), read_cb, t) :
		    event_new(t->base, -1, 0, read_cb, t);
	}
	if (t->halves & TRANSPORT_WRITE) {
		t->wpoll = t->wfd == t->rfd && t->rev != NULL ? t->rpoll :
		    t->sock || util_pollable(t->wfd);
		t->wsock = t->sock ||
		    (fstat(t->wfd, &st) == 0 && S_ISSOCK(st.st_mode));
		t->wev = t->wpoll ?
		    event_new(t->base, t->wfd, EV_WRITE | EV_PERSIST, write_cb,
		    t) : event_new(t->base, -1, 0, write_cb, t);
	}
	t->cbs->opened(t, t->arg);
	/* What was given to write (or to end) while it opened goes now. */
	if (!t->closing && (evbuffer_get_length(t->out) > 0 ||
	    t->want_shutdown)) {
		if (t->wfd == -1) {
			t->stats.undelivered += evbuffer_get_length(t->out);
			evbuffer_drain(t->out, evbuffer_get_length(t->out));
			t->want_shutdown = 0;
			transport_shutdown(t);
		} else
			flush(t);
	}
}

static void
fail_op(struct transport *t, enum transport_op op, const char *fmt, va_list ap)
{
	char	 msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	t->stats.errors++;
	t->cbs->failed(t, op, msg, t->arg);
}

/* A kind failed to open, or (once closing) reports how its stream ended. */
void
transport_fail(struct transport *t, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fail_op(t, t->closing ? TRANSPORT_OP_CLOSE : TRANSPORT_OP_OPEN, fmt,
	    ap);
	va_end(ap);
}

static void
io_fail(struct transport *t, enum transport_op op, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fail_op(t, op, fmt, ap);
	va_end(ap);
}

void
transport_read_start(struct transport *t)
{
	int	 avail;

	if (t->rev == NULL || t->read_eof || t->closing || t->reading)
		return;
	t->reading = 1;
	if (!t->rpoll) {
		event_active(t->rev, EV_READ, 1);
		return;
	}
	event_add(t->rev, NULL);
	/*
	 * A stream that starts or resumes often has data waiting: read it in
	 * this turn of the loop rather than the next, but only if there is
	 * some, so an idle connection never allocates a read buffer.  (A
	 * connect that just completed has had no time to get any.)
	 */
	if (t->connected) {
		t->connected = 0;
		return;
	}
	if (ioctl(t->rfd, FIONREAD, &avail) == 0 && avail > 0)
		event_active(t->rev, EV_READ, 1);
}

void
transport_read_stop(struct transport *t)
{
	if (t->rev == NULL || !t->reading)
		return;
	t->reading = 0;
	event_del(t->rev);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	ssize_t			 n, left;
	size_t			 want;
	int			 nv, i;

	(void)fd;
again:
	if (!t->reading)
		return;
	if (t->read_size == 0)
		t->read_size = READ_MAX;
	nv = evbuffer_reserve_space(t->in, (ev_ssize_t)t->read_size, v, 2);
	if (nv <= 0)
		xoom();
	for (i = 0, want = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
		want += v[i].iov_len;
	}
	n = readv(t->rfd, iov, nv);
	if (n > 0) {
		left = n;
		for (i = 0; i < nv; i++) {
			if ((size_t)left < v[i].iov_len)
				v[i].iov_len = (size_t)left;
			left -= (ssize_t)v[i].iov_len;
		}
		evbuffer_commit_space(t->in, v, nv);
		t->stats.bytes_in += (uint64_t)n;
		if ((size_t)n >= t->read_size && t->read_size < READ_MAX)
			t->read_size = t->read_size * 2 + 128 > READ_MAX ?
			    READ_MAX : t->read_size * 2 + 128;
		else if ((size_t)n < t->read_size / 4 && t->read_size > READ_MIN)
			t->read_size = (t->read_size + 128) / 2 - 128;
		t->cbs->readable(t, t->in, t->arg);
		/*
		 * The peer has closed and this read did not fill the space:
		 * its end of file is next; take it now, not a turn later.
		 */
		if ((what & EV_CLOSED) && (size_t)n < want) {
			what = 0;
			goto again;
		}
		if (t->reading && !t->rpoll)
			event_active(t->rev, EV_READ, 1);
		return;
	}
	evbuffer_commit_space(t->in, v, 0);
	if (n == 0) {
		transport_read_stop(t);
		t->read_eof = 1;
		t->cbs->eof(t, t->arg);
		return;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		if (!t->rpoll)
			event_active(t->rev, EV_READ, 1);
		return;
	}
	transport_read_stop(t);
	t->read_eof = 1;
	io_fail(t, TRANSPORT_OP_READ, "read: %s", strerror(errno));
}

static void
write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush(arg);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;

	(void)fd;
	(void)what;
	t->pacing = 0;
	flush(t);
}

static void
arm_timer(struct transport *t, double s)
{
	if (t->pacing)
		return;
	t->pacing = 1;
	util_timer_add(t->timer, s);
}

/* Queue buf's bytes (moved, not copied) and write what the peer takes now. */
void
transport_write(struct transport *t, struct evbuffer *buf)
{
	if (!t->opened && !t->closing) {
		evbuffer_add_buffer(t->out, buf);
		return;
	}
	if (t->write_failed || t->wfd == -1 || t->shut) {
		t->lost += evbuffer_get_length(buf);
		evbuffer_drain(buf, evbuffer_get_length(buf));
		return;
	}
	evbuffer_add_buffer(t->out, buf);
	flush(t);
}

/* Queue a copy of len bytes (a frame fanned out to several consumers). */
void
transport_write_bytes(struct transport *t, const void *p, size_t len)
{
	if (!t->opened && !t->closing) {
		evbuffer_add(t->out, p, len);
		return;
	}
	if (t->write_failed || t->wfd == -1 || t->shut) {
		t->lost += len;
		return;
	}
	evbuffer_add(t->out, p, len);
	flush(t);
}

static void
flush(struct transport *t)
{
	size_t	 len, allow;
	ssize_t	 n;
	int	 wrote = 0;

	if (t->wfd == -1 || t->write_failed || t->pacing)
		return;
	while ((len = evbuffer_get_length(t->out)) > 0) {
		if ((allow = flow_rate_allow(&t->rate, len)) == 0) {
			if (t->wpoll)
				event_del(t->wev);
			arm_timer(t, flow_rate_wait(&t->rate, len));
			break;
		}
		n = evbuffer_write_atmost(t->out, t->wfd, (ev_ssize_t)allow);
		if (n > 0) {
			flow_rate_spend(&t->rate, (size_t)n);
			t->stats.bytes_out += (uint64_t)n;
			wrote = 1;
			if ((size_t)n < allow && t->wpoll) {
				event_add(t->wev, NULL);
				break;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (t->wpoll)
				event_add(t->wev, NULL);
			else
				arm_timer(t, RETRY_S);
			break;
		}
		t->write_failed = 1;
		t->lost += evbuffer_get_length(t->out);
		evbuffer_drain(t->out, evbuffer_get_length(t->out));
		if (t->wev != NULL)
			event_del(t->wev);
		io_fail(t, TRANSPORT_OP_WRITE, "write: %s", n == 0 ?
		    "wrote nothing" : strerror(errno));
		return;
	}
	if (len == 0) {
		if (t->wpoll)
			event_del(t->wev);
		if (t->want_shutdown && !t->shut)
			half_close(t);
	}
	if (wrote)
		t->cbs->wrote(t, t->arg);
}

/*
 * Pass EOF on: shutdown(SHUT_WR) on a socket; a pipe or file of its own
 * is closed; a descriptor also being read from is left until the end.
 */
static void
half_close(struct transport *t)
{
	t->shut = 1;
	if (t->wev != NULL)
		event_del(t->wev);
	if (t->wsock)
		shutdown(t->wfd, SHUT_WR);
	else if (t->wfd != t->rfd) {
		release_fd(t->wfd);
		t->wfd = -1;
	}
	t->cbs->shutdown(t, t->arg);
}

void
transport_shutdown(struct transport *t)
{
	/* Still opening: end once it is open and has written what it has. */
	if (!t->opened && !t->closing) {
		t->want_shutdown = 1;
		return;
	}
	if (t->wfd == -1 && !t->shut) {
		t->shut = 1;
		t->cbs->shutdown(t, t->arg);
		return;
	}
	t->want_shutdown = 1;
	if (!t->shut && !t->write_failed && evbuffer_get_length(t->out) == 0)
		half_close(t);
}

/* Graceful end: the kind may still have work (reaping a child). */
void
transport_close(struct transport *t)
{
	if (t->closing)
		return;
	t->closing = 1;
	transport_read_stop(t);
	if (t->rev != NULL)
		event_del(t->rev);
	if (t->wev != NULL)
		event_del(t->wev);
	evtimer_del(t->timer);
	if (t->wfd != t->rfd)
		release_fd(t->wfd);
	release_fd(t->rfd);
	t->rfd = t->wfd = -1;
	if (t->ops->close != NULL)
		t->ops->close(t);
	else
		transport_closed(t);
}

void
transport_closed(struct transport *t)
{
	t->cbs->closed(t, t->arg);
}

/* Drop whatever is queued, then close. */
void
transport_abort(struct transport *t)
{
	t->stats.undelivered += evbuffer_get_length(t->out);
	evbuffer_drain(t->out, evbuffer_get_length(t->out));
	/*
	 * Closing already, and its kind still at work (a command not yet
	 * exited): tell the kind it is an abort now.
	 */
	if (t->closing) {
		if (!t->aborted && t->kind != NULL && t->ops->close != NULL) {
			t->aborted = 1;
			t->ops->close(t);
		}
		return;
	}
	t->aborted = 1;
	transport_close(t);
}

void
transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	if (t->rev != NULL)
		event_free(t->rev);
	if (t->wev != NULL)
		event_free(t->wev);
	event_free(t->timer);
	evbuffer_free(t->in);
	evbuffer_free(t->out);
	free(t->name);
	free(t);
}

size_t
transport_pending(const struct transport *t)
{
	return evbuffer_get_length(t->out);
}

/* Bytes that were to be written here but never can be. */
uint64_t
transport_lost(const struct transport *t)
{
	return t->lost;
}

/* What was read and not yet taken by the protocol. */
struct evbuffer *
transport_input(struct transport *t)
{
	return t->in;
}

const char *
transport_name(const struct transport *t)
{
	return t->name;
}

struct flow_stats *
transport_stats(struct transport *t)
{
	return &t->stats;
}

uint64_t
transport_high_water(const struct transport *t)
{
	return t->addr->high_water;
}

uint64_t
transport_low_water(const struct transport *t)
{
	return t->addr->low_water;
}
