/*
 * The engine every kind shares: large reads into reserved buffer space,
 * scatter/gather writes, pacing, half-close, the opening deadline, and
 * the callbacks that end things, told from the loop.  A kind with I/O of
 * its own (TLS) plugs in read, write and shutdown; when one of them must
 * wait for the other direction's readiness (OpenSSL's WANT_READ and
 * WANT_WRITE), the engine waits for that.  Descriptors the event backend
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

#include "arena.h"
#include "cli.h"
#include "log.h"
#include "transport-engine.h"
#include "transport-kind.h"
#include "util.h"

/*
 * One read into a stream's own chains: up to 128 KiB, as cat reads
 * (libevent's own evbuffer_read stops at 4).  A stream that sends little
 * gets small reads, so many quiet connections do not each hold a large
 * buffer: the size doubles while reads fill it and halves while they
 * use under a quarter.  Reads that fill READ_MAX go to the arena instead
 * (arena.c), up to the high-water mark.  Sizes leave room for the chain
 * header libevent puts in front.
 */
#define READ_MAX	(128 * 1024 - 128)
#define READ_MIN	(4 * 1024 - 128)
/* A write the backend cannot watch failed with EAGAIN: try again soon. */
#define RETRY_S		0.01
/* An accepted connection's handshake, when -w does not say. */
#define ACCEPT_TIMEOUT_S 10.0
/* Messages read in one wakeup, so one busy socket cannot starve the rest. */
#define MESSAGE_BATCH	64
/* Extents handed to a kind's own write at once. */
#define WRITE_IOV	16
/* Messages one sendmmsg sends at most, and the bytes they span. */
#define SEND_BATCH	32
#define SEND_BATCH_BYTES (64 * 1024)

/* An end to tell the owner from the loop. */
enum note_what {
	NOTE_FAILED,
	NOTE_EOF,
	NOTE_SHUTDOWN,
	NOTE_CLOSED
};

struct note {
	struct note		*next;
	enum note_what		 what;
	enum transport_op	 op;
	char			*msg;
};

static void	read_cb(evutil_socket_t, short, void *);
static void	write_cb(evutil_socket_t, short, void *);
static void	timer_cb(evutil_socket_t, short, void *);
static void	notify_cb(evutil_socket_t, short, void *);
static void	linger(struct transport *);
static int	refused(struct transport *);
static void	drop_output(struct transport *);
static size_t	queued(const struct transport *);
static ssize_t	write_some(struct transport *, size_t *);
static int	out_iov(struct transport *, size_t *, struct iovec *);
static void	note(struct transport *, enum note_what, enum transport_op,
		    const char *);
static double	open_timeout(const struct transport *);
static const char *why(struct transport *);
static void	flush(struct transport *);
static int	flush_out(struct transport *, int *);
static void	flush_frames(struct transport *);
static void	flushed(struct transport *, int);
static void	write_error(struct transport *, ssize_t);
static void	pace(struct transport *, size_t);
static ssize_t	write_frame(struct transport *, size_t);
static size_t	batch_size(const struct transport *, size_t *);
static int	write_frames(struct transport *, size_t, size_t);
static void	frames_push(struct frames *, const size_t *, size_t);
static size_t	frames_first(const struct frames *);
static void	frames_pop(struct frames *);
static void	frames_written(struct frames *, size_t);
static void	frames_clear(struct frames *);
static int	whole(const struct transport *);
static void	written(struct transport *, const struct iovec *, int,
		    size_t);
static size_t	line_done(size_t, const struct iovec *, int, size_t, char);
static void	cut_torn(struct transport *);
static void	half_close(struct transport *);
static void	shut_done(struct transport *);
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
	t->accepted = -1;
	t->pipe[0] = t->pipe[1] = -1;
	t->messages = (addr->kind->flags & KIND_MESSAGES) != 0;
	t->in = evbuffer_new();
	t->out = evbuffer_new();
	t->timer = evtimer_new(base, timer_cb, t);
	t->notify = event_new(base, -1, 0, notify_cb, t);
	if (t->in == NULL || t->out == NULL || t->timer == NULL ||
	    t->notify == NULL)
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
	t->ops = addr->kind->ops;
	t->name = xstrdup(addr->name);
	return t;
}

/*
 * A connection a listener accepted; addr is the listener's.  Opening it
 * is its kind's handshake, if it has one.
 */
struct transport *
transport_new_accepted(struct event_base *base, const struct addr *addr,
    const struct config *cfg, int fd, const char *name, int halves,
    const struct transport_cbs *cbs, void *arg)
{
	struct transport	*t;

	t = transport_alloc(base, addr, cfg, halves, cbs, arg);
	t->ops = addr->kind->listen->conn;
	t->name = xstrdup(name);
	t->accepted = fd;
	t->sock = 1;
	return t;
}

/* Hand the transport to a new owner (a listener's, to the hub). */
void
transport_set_owner(struct transport *t, const struct transport_cbs *cbs,
    void *arg)
{
	t->cbs = cbs;
	t->arg = arg;
}

/* How long opening may take: -w, or for a handshake a default. */
static double
open_timeout(const struct transport *t)
{
	if (t->accepted >= 0 && t->cfg->connect_timeout == 0)
		return ACCEPT_TIMEOUT_S;
	return t->cfg->connect_timeout;
}

/* Open t, for the accepted connection via if it serves one. */
void
transport_open(struct transport *t, const struct transport *via)
{
	double	 s = open_timeout(t);

	t->via = via;
	t->ops->open(t);
	t->via = NULL;
	if (!t->opened && !t->closing && t->notes == NULL && s > 0)
		util_timer_add(t->timer, s);
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

/* Descriptors for each half the owner uses; the rest are closed. */
static void
take_fds(struct transport *t, int rfd, int wfd)
{
	struct stat	 st;

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
}

/*
 * A kind with I/O of its own works one socket both ways whatever halves
 * the owner uses: a TLS read may have to write, and a write to read.
 */
static void
take_socket(struct transport *t, int fd)
{
	t->rfd = t->wfd = fd;
	t->rpoll = t->wpoll = t->wsock = 1;
	t->rev = event_new(t->base, fd, EV_READ | EV_PERSIST | EV_CLOSED,
	    read_cb, t);
	t->wev = event_new(t->base, fd, EV_WRITE | EV_PERSIST, write_cb, t);
}

/* The kind has its descriptors: set up the events and tell the owner. */
void
transport_opened(struct transport *t, int rfd, int wfd)
{
	t->opened = 1;
	t->phase = NULL;
	evtimer_del(t->timer);
	if (t->ops->read != NULL)
		take_socket(t, rfd);
	else
		take_fds(t, rfd, wfd);
	t->cbs->opened(t, t->arg);
	/*
	 * What was given to write (or to end) while it opened goes now,
	 * empty messages too.
	 */
	if (!t->closing && (evbuffer_get_length(t->out) > 0 ||
	    t->frames.tail > t->frames.head || t->want_shutdown)) {
		if (t->wfd == -1) {
			t->stats.undelivered += evbuffer_get_length(t->out);
			evbuffer_drain(t->out, evbuffer_get_length(t->out));
			t->want_shutdown = 0;
			transport_shutdown(t);
		} else
			flush(t);
	}
}

/* Queue an end for the owner; notify_cb tells it from the loop. */
static void
note(struct transport *t, enum note_what what, enum transport_op op,
    const char *msg)
{
	struct note	*n, **tail;

	n = xcalloc(1, sizeof *n);
	n->what = what;
	n->op = op;
	n->msg = msg != NULL ? xstrdup(msg) : NULL;
	for (tail = &t->notes; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = n;
	event_active(t->notify, EV_READ, 1);
}

static void
notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;
	struct note		*n;

	(void)fd;
	(void)what;
	while ((n = t->notes) != NULL) {
		t->notes = n->next;
		switch (n->what) {
		case NOTE_FAILED:
			t->cbs->failed(t, n->op, n->msg, t->arg);
			break;
		case NOTE_EOF:
			t->cbs->eof(t, t->arg);
			break;
		case NOTE_SHUTDOWN:
			t->cbs->shutdown(t, t->arg);
			break;
		case NOTE_CLOSED:
			/* The owner may free t now: nothing follows. */
			free(n->msg);
			free(n);
			t->cbs->closed(t, t->arg);
			return;
		}
		free(n->msg);
		free(n);
	}
}

static void
fail_op(struct transport *t, enum transport_op op, const char *fmt, va_list ap)
{
	char	 msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	/* A kind's words are for this failure alone. */
	free(t->err);
	t->err = NULL;
	t->stats.errors++;
	note(t, NOTE_FAILED, op, msg);
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

/* Why the last I/O failed: the kind's words, or errno's. */
static const char *
why(struct transport *t)
{
	return t->err != NULL ? t->err : strerror(errno);
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
	watch_read(t);
	/*
	 * A stream that starts or resumes often has data waiting: read it in
	 * this turn of the loop rather than the next, but only if there is
	 * some, so an idle connection never allocates a read buffer.  (A
	 * connect that just completed has had no time to get any, but its
	 * kind may hold what came with its handshake.)
	 */
	if ((t->ops->buffered != NULL && t->ops->buffered(t) > 0) ||
	    (!t->connected && ioctl(t->rfd, FIONREAD, &avail) == 0 &&
	    avail > 0))
		event_active(t->rev, EV_READ, 1);
	t->connected = 0;
}

/* A kind holds input no readiness will announce: read it soon. */
void
transport_wake(struct transport *t)
{
	if (t->reading && t->rev != NULL && !t->read_waits)
		event_active(t->rev, EV_READ, 1);
}

void
transport_read_stop(struct transport *t)
{
	if (t->rev == NULL || !t->reading)
		return;
	t->reading = 0;
	watch_read(t);
}

/*
 * Watch for readability while reading (and the read is not waiting for
 * writability or for room in its sink), while a write waits for it, or
 * while lingering.
 */
void
watch_read(struct transport *t)
{
	if (t->rev == NULL || !t->rpoll)
		return;
	if ((t->reading && !t->read_waits && !t->sink_full) ||
	    t->write_waits || t->lingering)
		event_add(t->rev, NULL);
	else
		event_del(t->rev);
}

static ssize_t
read_iov(struct transport *t, const struct iovec *iov, int n)
{
	t->want = 0;
	if (t->ops->read != NULL)
		return t->ops->read(t, iov, n);
	return readv(t->rfd, iov, n);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;

	(void)fd;
	if (t->write_waits) {
		t->write_waits = 0;
		watch_read(t);
		flush(t);
	}
	if (t->lingering)
		linger(t);
	else if (t->reading && !t->read_waits && !t->sink_full) {
		if (t->sink != NULL && t->sink->pipe[0] != -1)
			splice_read(t, what);
		else
			read_some(t, what);
	}
}

/* The next read's size: doubled while reads fill it, halved while small. */
static void
resize_reads(struct transport *t, size_t n)
{
	/* A message cut short by a small buffer would be lost. */
	if (t->messages && !t->ops->parts)
		return;
	if (n >= t->read_size && t->read_size < READ_MAX)
		t->read_size = t->read_size * 2 + 128 > READ_MAX ?
		    READ_MAX : t->read_size * 2 + 128;
	else if (n < t->read_size / 4 && t->read_size > READ_MIN)
		t->read_size = (t->read_size + 128) / 2 - 128;
}

/* A read failed: wait as it asks, or it is the end of this input. */
void
read_failed(struct transport *t)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		if (t->want == TRANSPORT_WANT_WRITE) {
			t->read_waits = 1;
			watch_read(t);
			event_add(t->wev, NULL);
		} else if (!t->rpoll)
			event_active(t->rev, EV_READ, 1);
		return;
	}
	transport_read_stop(t);
	t->read_eof = 1;
	if (refused(t))
		return;
	if (errno == EBADMSG && t->err != NULL)
		io_fail(t, TRANSPORT_OP_PROTO, "%s", t->err);
	else
		io_fail(t, TRANSPORT_OP_READ, "read: %s", why(t));
}

/*
 * A datagram's peer was not there (an ICMP port unreachable, told on a
 * later send or receive): it fails as a refused connect does.
 */
static int
refused(struct transport *t)
{
	if (errno != ECONNREFUSED || t->err != NULL)
		return 0;
	io_fail(t, TRANSPORT_OP_OPEN, "%s", strerror(ECONNREFUSED));
	return 1;
}

/*
 * A kind that carries messages says its input has ended (a datagram
 * socket quiet for linger=): the owner is told as of an end of file.
 */
void
transport_end_input(struct transport *t)
{
	if (t->read_eof || t->closing)
		return;
	transport_read_stop(t);
	t->read_eof = 1;
	note(t, NOTE_EOF, TRANSPORT_OP_READ, NULL);
}

/*
 * Room for the next read: a bulk stream's (reads fill READ_MAX) in the
 * arena, as much as its high-water mark; else in its input's own chains.
 * *shared says which.
 */
static int
read_space(struct transport *t, struct evbuffer_iovec *v, int *shared)
{
	size_t	 room, most = READ_MAX;
	int	 nv;

	if (t->read_size == 0)
		t->read_size = READ_MAX;
	*shared = !t->messages && t->read_size >= READ_MAX &&
	    (v[0].iov_base = arena_room(&room)) != NULL;
	if (*shared) {
		if (t->addr->high_water > most)
			most = (size_t)t->addr->high_water;
		v[0].iov_len = room < most ? room : most;
		return 1;
	}
	nv = evbuffer_reserve_space(t->in, (ev_ssize_t)t->read_size, v, 2);
	if (nv <= 0)
		xoom();
	return nv;
}

/* n bytes were read into v: the input takes them. */
static void
read_commit(struct transport *t, struct evbuffer_iovec *v, int nv,
    size_t n, int shared)
{
	size_t	 left = n;
	int	 i;

	for (i = 0; i < nv; i++) {
		if (left < v[i].iov_len)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	if (shared ? arena_commit(t->in, v[0].iov_base, n) == -1 :
	    evbuffer_commit_space(t->in, v, nv) == -1)
		xoom();
}

/*
 * Read what is there into the input and hand it to the owner.  A kind
 * that carries messages reads one a call, whole, an empty one included:
 * its reads never return an end of file (transport_end_input says it).
 */
void
read_some(struct transport *t, short what)
{
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	ssize_t			 n;
	size_t			 want;
	int			 nv, i, shared, batch = 0;

again:
	nv = read_space(t, v, &shared);
	for (i = 0, want = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
		want += v[i].iov_len;
	}
	n = read_iov(t, iov, nv);
	/* A terminal's master whose other side has closed reads EIO. */
	if (n == -1 && errno == EIO && t->eio_eof)
		n = 0;
	if (n < 0 || (n == 0 && !t->messages)) {
		if (!shared)
			evbuffer_commit_space(t->in, v, 0);
		if (n == 0)
			transport_end_input(t);
		else
			read_failed(t);
		return;
	}
	read_commit(t, v, nv, (size_t)n, shared);
	t->stats.bytes_in += (uint64_t)n;
	resize_reads(t, (size_t)n);
	splice_maybe(t, (size_t)n);
	/* Part of a message is not a frame yet: read on. */
	if (!t->msg_more)
		t->cbs->readable(t, t->in, t->arg);
	if (!t->reading)
		return;
	/* Messages are read one a call: take a few more while there. */
	if (t->messages && ++batch < MESSAGE_BATCH)
		goto again;
	/*
	 * The peer has closed and this read did not fill the space: its end
	 * of file is next; take it now, not a turn later.
	 */
	if ((what & EV_CLOSED) && (size_t)n < want) {
		what = 0;
		goto again;
	}
	/* More is there that no readiness will announce. */
	if (!t->rpoll || (t->ops->buffered != NULL && t->ops->buffered(t) > 0))
		event_active(t->rev, EV_READ, 1);
}

/*
 * A one-way writer's half-close is done; what the peer still sends
 * (TLS session tickets, say) is read and dropped until it closes, so
 * unread bytes never turn the close into a reset.
 */
static void
linger(struct transport *t)
{
	char			 buf[16384];
	struct iovec		 iov = { buf, sizeof buf };
	ssize_t			 n;

	while ((n = read_iov(t, &iov, 1)) > 0)
		;
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	t->lingering = 0;
	watch_read(t);
	/* The peer refused what was sent (a TLS alert): a failed write. */
	if (n == -1 && t->err != NULL)
		io_fail(t, TRANSPORT_OP_WRITE, "%s", t->err);
	else
		shut_done(t);
}

static void
write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;

	(void)fd;
	(void)what;
	if (t->read_waits) {
		t->read_waits = 0;
		watch_read(t);
		if (t->reading)
			event_active(t->rev, EV_READ, 1);
	}
	flush(t);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;

	(void)fd;
	(void)what;
	if (!t->opened) {
		/* The opening deadline: connect and handshake, all of it. */
		if (t->ops->release != NULL)
			t->ops->release(t);
		t->errnum = ETIMEDOUT;
		transport_fail(t, "%s: timed out after %g s",
		    t->phase != NULL ? t->phase : "connect", open_timeout(t));
		return;
	}
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

/*
 * Where each queued frame ends, for a kind that carries messages or
 * keeps frames whole.
 */
static void
frames_push(struct frames *f, const size_t *lens, size_t n)
{
	if (n == 0)
		return;
	if (f->tail + n > f->cap) {
		if (f->head > 0) {
			memmove(f->len, f->len + f->head,
			    (f->tail - f->head) * sizeof *f->len);
			f->tail -= f->head;
			f->head = 0;
		}
		while (f->tail + n > f->cap)
			f->cap = f->cap == 0 ? 16 : f->cap * 2;
		f->len = xrealloc(f->len, f->cap * sizeof *f->len);
	}
	memcpy(f->len + f->tail, lens, n * sizeof *lens);
	f->tail += n;
}

static size_t
frames_first(const struct frames *f)
{
	return f->len[f->head];
}

static void
frames_pop(struct frames *f)
{
	if (++f->head == f->tail)
		f->head = f->tail = 0;
}

/* n more bytes of a stream written: the frames they finish go. */
static void
frames_written(struct frames *f, size_t n)
{
	size_t	 i = f->head;

	for (n += f->done; i < f->tail && n >= f->len[i]; i++)
		n -= f->len[i];
	f->done = n;
	f->head = i;
	if (f->head == f->tail)
		f->head = f->tail = 0;
}

static void
frames_clear(struct frames *f)
{
	f->head = f->tail = 0;
	f->done = 0;
}

/* A stream that keeps frames whole (a file) knows where each one ends. */
static int
whole(const struct transport *t)
{
	return (t->addr->kind->flags & KIND_WHOLE) != 0;
}

/*
 * Whether an address that keeps frames whole finds where each ends in
 * the bytes it wrote, not from a length noted per frame: lines end at
 * their delimiter.
 */
int
transport_finds_ends(const struct addr *a)
{
	return (a->kind->flags & KIND_WHOLE) && a->proto.kind == PROTO_LINE;
}

/*
 * n bytes of a stream that keeps frames whole written, the first n of
 * the cnt extents at iov (still queued).  What is queued always ends on
 * a frame end, so output all written tears none, and only a short write
 * needs to know which frames went.
 */
static void
written(struct transport *t, const struct iovec *iov, int cnt, size_t n)
{
	if (n == evbuffer_get_length(t->out))
		frames_clear(&t->frames);
	else if (transport_finds_ends(t->addr))
		t->frames.done = line_done(t->frames.done, iov, cnt, n,
		    t->addr->proto.delim);
	else
		frames_written(&t->frames, n);
}

/*
 * Of a line begun done bytes ago, how much is written once the first n
 * bytes of the extents at iov are: those after the last delimiter.
 */
static size_t
line_done(size_t done, const struct iovec *iov, int cnt, size_t n, char delim)
{
	size_t		 at[WRITE_IOV], len, after = 0;
	const char	*nl;
	int		 i;

	for (i = 0, len = 0; i < cnt && len < n; i++) {
		at[i] = iov[i].iov_len < n - len ? iov[i].iov_len : n - len;
		len += at[i];
	}
	while (i-- > 0) {
		if ((nl = memrchr(iov[i].iov_base, delim, at[i])) != NULL)
			return after + at[i] - (size_t)(nl -
			    (const char *)iov[i].iov_base) - 1;
		after += at[i];
	}
	return done + n;
}

/*
 * Whether output of len bytes (n frames) can still be written; a kind
 * that carries messages or keeps frames whole keeps where each ends.
 */
static int
take_out(struct transport *t, size_t len, const size_t *lens, size_t n)
{
	if ((t->opened || t->closing) &&
	    (t->write_failed || t->wfd == -1 || t->shut)) {
		t->lost += len;
		return 0;
	}
	if (t->messages || (whole(t) && !transport_finds_ends(t->addr)))
		frames_push(&t->frames, lens, n);
	return 1;
}

/*
 * Queue buf's bytes (moved, not copied), n frames whose lengths are
 * lens, and write what the peer takes now.
 */
void
transport_write(struct transport *t, struct evbuffer *buf, const size_t *lens,
    size_t n)
{
	size_t	 len = evbuffer_get_length(buf);

	if (!take_out(t, len, lens, n)) {
		evbuffer_drain(buf, len);
		return;
	}
	evbuffer_add_buffer(t->out, buf);
	if (t->opened)
		write_soon(t);
}

/*
 * Queue buf's bytes and leave them in buf too (frames fanned out to
 * several consumers): shared, not copied, where libevent can.
 */
void
transport_write_shared(struct transport *t, struct evbuffer *buf,
    const size_t *lens, size_t n)
{
	size_t	 len = evbuffer_get_length(buf);

	if (!take_out(t, len, lens, n))
		return;
	if (evbuffer_add_buffer_reference(t->out, buf) == -1)
		evbuffer_add(t->out, evbuffer_pullup(buf, -1), len);
	if (t->opened)
		write_soon(t);
}

/*
 * Write what was queued: now, or, while little is queued, once this
 * turn of the loop has queued what else it reads (one write for many
 * reads, one sendmmsg for many small messages; a file, which no poll
 * watches, too).  Never past half the high-water mark, so a consumer
 * that keeps up never pauses its producers.
 */
void
write_soon(struct transport *t)
{
	size_t	 len = queued(t);

	if (t->wev != NULL && (!t->messages || len < SEND_BATCH_BYTES) &&
	    len < transport_high_water(t) / 2)
		event_active(t->wev, EV_WRITE, 1);
	else
		flush(t);
}

/*
 * Write at most *allow bytes from the output buffer; *allow becomes what
 * was offered, so a short write is one the peer would not take.
 */
static ssize_t
write_some(struct transport *t, size_t *allow)
{
	struct iovec	 iov[WRITE_IOV];
	ssize_t		 n;
	int		 i;

	if (t->ops->write == NULL && !whole(t))
		return evbuffer_write_atmost(t->out, t->wfd,
		    (ev_ssize_t)*allow);
	i = out_iov(t, allow, iov);
	t->want = 0;
	n = t->ops->write != NULL ? t->ops->write(t, iov, i) :
	    writev(t->wfd, iov, i);
	if (n > 0) {
		/* Which frames went is read off what is still queued. */
		if (whole(t))
			written(t, iov, i, (size_t)n);
		evbuffer_drain(t->out, (size_t)n);
	}
	return n;
}

/*
 * The extents (at most WRITE_IOV) of the output's first *limit bytes;
 * *limit becomes what they hold.
 */
static int
out_iov(struct transport *t, size_t *limit, struct iovec *iov)
{
	struct evbuffer_iovec	 v[WRITE_IOV];
	size_t			 held = 0;
	int			 n, i;

	n = evbuffer_peek(t->out, (ev_ssize_t)*limit, NULL, v, WRITE_IOV);
	for (i = 0; i < n && i < WRITE_IOV && held < *limit; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len < *limit - held ?
		    v[i].iov_len : *limit - held;
		held += iov[i].iov_len;
	}
	*limit = held;
	return i;
}

/* A write must wait: for writability, readability (TLS), or time. */
static void
write_wait(struct transport *t)
{
	if (t->want == TRANSPORT_WANT_READ) {
		t->write_waits = 1;
		/* Not writability (a short write may have asked for it). */
		if (t->wpoll && !t->read_waits)
			event_del(t->wev);
		watch_read(t);
	} else if (t->wpoll)
		event_add(t->wev, NULL);
	else
		arm_timer(t, RETRY_S);
}

/* Output is written (or waits): what follows, and the owner told. */
static void
flushed(struct transport *t, int wrote)
{
	if (queued(t) == 0) {
		if (t->wpoll && !t->read_waits)
			event_del(t->wev);
		if (t->want_shutdown && !t->shut)
			half_close(t);
	}
	if (wrote)
		t->cbs->wrote(t, t->arg);
}

/*
 * A frame begun will never be written whole: a kind that keeps frames
 * whole takes back what it wrote of it, and that is lost too.
 */
static void
cut_torn(struct transport *t)
{
	size_t	 torn = t->frames.done;

	if (torn == 0 || t->ops->cut == NULL || t->ops->cut(t, torn) == -1)
		return;
	t->stats.bytes_out -= torn;
	t->lost += torn;
}

/* A write failed for good: what was queued is lost, a torn frame cut. */
static void
write_error(struct transport *t, ssize_t n)
{
	t->write_failed = 1;
	if (n < 0 && errno == EBADMSG && t->err != NULL)
		io_fail(t, TRANSPORT_OP_PROTO, "%s", t->err);
	else if (n >= 0 || !refused(t))
		io_fail(t, TRANSPORT_OP_WRITE, "write: %s", n == 0 ?
		    "wrote nothing" : why(t));
	/* After the words: cutting may set errno. */
	cut_torn(t);
	t->lost += queued(t);
	drop_output(t);
	if (t->wev != NULL)
		event_del(t->wev);
}

/* Rate-limited: stop watching for writability, write again in time. */
static void
pace(struct transport *t, size_t len)
{
	if (t->wpoll && !t->read_waits)
		event_del(t->wev);
	arm_timer(t, flow_rate_wait(&t->rate, len));
}

/*
 * Write the output buffer, then what the pipe holds (splice), as far as
 * the peer takes them now.
 */
static void
flush(struct transport *t)
{
	int	 wrote = 0, r;

	if (t->wfd == -1 || t->write_failed || t->pacing || t->write_waits)
		return;
	if (t->messages) {
		flush_frames(t);
		return;
	}
	do {
		if ((r = flush_out(t, &wrote)) == 1 && t->piped > 0)
			r = splice_write(t, &wrote);
	} while (r == 2);
	if (r != -1)
		flushed(t, wrote);
}

/*
 * Write the output buffer: 1 when all of it went, 0 when the rest
 * waits, -1 when writing failed for good (reported).
 */
static int
flush_out(struct transport *t, int *wrote)
{
	size_t	 len, allow;
	ssize_t	 n;
	int	 r;

	while ((len = evbuffer_get_length(t->out)) > 0) {
		if ((allow = flow_rate_allow(&t->rate, len)) == 0) {
			pace(t, len);
			return 0;
		}
		n = write_some(t, &allow);
		if (n > 0) {
			*wrote = spent(t, (size_t)n);
			if ((size_t)n < allow && t->wpoll) {
				event_add(t->wev, NULL);
				return 0;
			}
			continue;
		}
		if ((r = retry(t, n)) != 1)
			return r;
	}
	return 1;
}

/* n bytes written: the rate and the counters know. */
int
spent(struct transport *t, size_t n)
{
	flow_rate_spend(&t->rate, n);
	t->stats.bytes_out += n;
	return 1;
}

/*
 * A write that moved nothing: 1 to try again at once, 0 to wait (for
 * what it needs), -1 when it failed for good (reported).
 */
int
retry(struct transport *t, ssize_t n)
{
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		write_wait(t);
		return 0;
	}
	write_error(t, n);
	return -1;
}

/* Write the first queued frame, whole, as one message. */
static ssize_t
write_frame(struct transport *t, size_t len)
{
	struct iovec	 iov[WRITE_IOV];
	struct msghdr	 m;
	int		 i = 0;

	/* A frame in more extents than one write takes is made one. */
	if (evbuffer_peek(t->out, (ev_ssize_t)len, NULL, NULL, 0) > WRITE_IOV)
		evbuffer_pullup(t->out, (ev_ssize_t)len);
	if (len > 0)
		i = out_iov(t, &len, iov);
	t->want = 0;
	if (t->ops->write != NULL)
		return t->ops->write(t, iov, i);
	/* A message socket's own: writev sends nothing for an empty one. */
	memset(&m, 0, sizeof m);
	m.msg_iov = iov;
	m.msg_iovlen = (size_t)i;
	return sendmsg(t->wfd, &m, 0);
}

/*
 * How many small frames at the head one sendmmsg takes (a message
 * socket written as the descriptor's own, no rate), and their bytes.
 */
static size_t
batch_size(const struct transport *t, size_t *bytes)
{
	const struct frames	*f = &t->frames;
	size_t			 k;

	*bytes = 0;
	if (t->ops->write != NULL || t->rate.rate != 0)
		return 0;
	for (k = 0; k < SEND_BATCH && f->head + k < f->tail &&
	    *bytes + f->len[f->head + k] <= SEND_BATCH_BYTES; k++)
		*bytes += f->len[f->head + k];
	return k;
}

/*
 * The first k frames (bytes in all), made contiguous, one message each
 * in one sendmmsg: those sent are gone.  The number sent, or -1.
 */
static int
write_frames(struct transport *t, size_t k, size_t bytes)
{
	struct mmsghdr	 m[SEND_BATCH];
	struct iovec	 iov[SEND_BATCH];
	char		*p;
	size_t		 i;
	int		 n;

	p = (char *)evbuffer_pullup(t->out, (ev_ssize_t)bytes);
	memset(m, 0, k * sizeof *m);
	for (i = 0; i < k; i++) {
		iov[i].iov_base = p;
		iov[i].iov_len = t->frames.len[t->frames.head + i];
		p += iov[i].iov_len;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	t->want = 0;
	if ((n = sendmmsg(t->wfd, m, (unsigned int)k, 0)) <= 0)
		return -1;
	for (i = 0; i < (size_t)n; i++) {
		evbuffer_drain(t->out, iov[i].iov_len);
		frames_pop(&t->frames);
		spent(t, iov[i].iov_len);
	}
	return n;
}

/*
 * A kind that carries messages: one write per frame, each whole (a
 * datagram, a WebSocket message), empty ones included; small ones
 * several a call.
 */
static void
flush_frames(struct transport *t)
{
	size_t	 len, k, bytes;
	ssize_t	 n;
	int	 wrote = 0, r;

	while (t->frames.tail > t->frames.head) {
		len = frames_first(&t->frames);
		if (len > 0 && flow_rate_allow(&t->rate, len) == 0) {
			pace(t, len);
			break;
		}
		if ((k = batch_size(t, &bytes)) > 1) {
			if (write_frames(t, k, bytes) > 0) {
				wrote = 1;
				continue;
			}
			n = -1;
		} else
			n = write_frame(t, len);
		if (n >= 0 && (size_t)n == len) {
			evbuffer_drain(t->out, len);
			frames_pop(&t->frames);
			wrote = spent(t, len);
			continue;
		}
		if (n >= 0) {
			errno = EMSGSIZE;	/* a message cut short */
			n = -1;
		}
		if ((r = retry(t, n)) == -1)
			return;
		if (r == 0)
			break;
	}
	flushed(t, wrote);
}

/* Bytes queued to write: the buffer's, then the pipe's. */
static size_t
queued(const struct transport *t)
{
	return evbuffer_get_length(t->out) + t->piped;
}

/* What was queued to write is gone (the caller counted it). */
static void
drop_output(struct transport *t)
{
	evbuffer_drain(t->out, evbuffer_get_length(t->out));
	frames_clear(&t->frames);
	splice_drop(t);
}

/*
 * Pass EOF on: the kind says it first (TLS close_notify), then
 * shutdown(SHUT_WR) on a socket; a pipe or file of its own is closed; a
 * descriptor also being read from is left until the end.
 */
static void
half_close(struct transport *t)
{
	t->want = 0;
	if (t->ops->shutdown != NULL && t->ops->shutdown(t) == -1 &&
	    (errno == EAGAIN || errno == EINTR)) {
		write_wait(t);
		return;
	}
	t->shut = 1;
	if (t->wev != NULL && !t->read_waits)
		event_del(t->wev);
	if (t->wsock)
		shutdown(t->wfd, SHUT_WR);
	else if (t->wfd != t->rfd) {
		release_fd(t->wfd);
		t->wfd = -1;
	}
	if (t->ops->linger && !(t->halves & TRANSPORT_READ)) {
		t->lingering = 1;
		watch_read(t);
		return;
	}
	shut_done(t);
}

static void
shut_done(struct transport *t)
{
	note(t, NOTE_SHUTDOWN, TRANSPORT_OP_WRITE, NULL);
}

/*
 * A kind's peer takes nothing more (a WebSocket's close frame came): the
 * write half is over, and what was queued for it is lost.
 */
void
transport_end_output(struct transport *t)
{
	if (t->shut || t->closing || t->write_failed)
		return;
	t->lost += queued(t);
	drop_output(t);
	t->shut = 1;
	if (t->wev != NULL && !t->read_waits)
		event_del(t->wev);
	shut_done(t);
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
		shut_done(t);
		return;
	}
	t->want_shutdown = 1;
	if (!t->shut && !t->write_failed && queued(t) == 0)
		half_close(t);
}

/* Ends the owner no longer needs told: the transport is closing. */
static void
drop_notes(struct transport *t)
{
	struct note	**pp, *n;

	for (pp = &t->notes; (n = *pp) != NULL;) {
		if (n->what == NOTE_EOF || n->what == NOTE_SHUTDOWN) {
			*pp = n->next;
			free(n);
		} else
			pp = &n->next;
	}
}

/* Graceful end: the kind may still have work (reaping a child). */
void
transport_close(struct transport *t)
{
	if (t->closing)
		return;
	t->closing = 1;
	t->lingering = t->read_waits = t->write_waits = 0;
	transport_read_stop(t);
	if (t->rev != NULL)
		event_del(t->rev);
	if (t->wev != NULL)
		event_del(t->wev);
	evtimer_del(t->timer);
	drop_notes(t);
	splice_unlink(t);
	/* Before the descriptors go: TLS may say close_notify on them. */
	if (t->ops->release != NULL)
		t->ops->release(t);
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
	note(t, NOTE_CLOSED, TRANSPORT_OP_CLOSE, NULL);
}

/* Drop whatever is queued (and a torn frame), then close. */
void
transport_abort(struct transport *t)
{
	if (!t->closing)
		cut_torn(t);
	t->stats.undelivered += queued(t);
	drop_output(t);
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
	struct note	*n;

	if (t == NULL)
		return;
	if (t->rev != NULL)
		event_free(t->rev);
	if (t->wev != NULL)
		event_free(t->wev);
	event_free(t->timer);
	event_free(t->notify);
	while ((n = t->notes) != NULL) {
		t->notes = n->next;
		free(n->msg);
		free(n);
	}
	splice_unlink(t);
	evbuffer_free(t->in);
	evbuffer_free(t->out);
	free(t->frames.len);
	free(t->err);
	free(t->name);
	free(t);
}

size_t
transport_pending(const struct transport *t)
{
	return queued(t);
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

/*
 * The marks where its producers pause and resume: a pipe it writes from
 * (splice) found full below the high-water mark lowers both, until it
 * drains.
 */
uint64_t
transport_high_water(const struct transport *t)
{
	if (t->pipe_full_at > 0 && t->pipe_full_at < t->addr->high_water)
		return t->pipe_full_at;
	return t->addr->high_water;
}

uint64_t
transport_low_water(const struct transport *t)
{
	uint64_t	 hw = transport_high_water(t);

	if (hw == t->addr->high_water)
		return t->addr->low_water;
	return (uint64_t)((double)t->addr->low_water * (double)hw /
	    (double)t->addr->high_water);
}

/* The address a connection asks to be paired with; -1: it names none. */
int
transport_target(const struct transport *t, const char **host,
    const char **port)
{
	if (t->ops->target == NULL)
		return -1;
	return t->ops->target(t, host, port);
}

/* p, opened for connection t, is up or has failed: t may answer. */
void
transport_partner(struct transport *t, const struct transport *p)
{
	if (!t->closing && t->ops->partner != NULL)
		t->ops->partner(t, p);
}
