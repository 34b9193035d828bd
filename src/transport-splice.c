/*
 * splice(2), the engine's zero-copy path.  The owner may let a reader's
 * bytes go straight to one writer (its sink) through a pipe of the
 * writer's own: transport_splice allows it, and once a read is large (a
 * bulk stream) the pipe is made and reads splice into it.  The pipe is
 * the writer's output after its buffer's bytes, so its fill counts as
 * pending and its size bounds the high-water mark.  A descriptor splice
 * refuses (EINVAL) puts that way back on the buffered path, the pipe's
 * bytes moved to the buffer.
 */
#include <sys/types.h>
#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cli.h"
#include "log.h"
#include "transport-engine.h"
#include "transport-kind.h"
#include "util.h"

/*
 * A way that may splice does once a read brings this much: a stream of
 * small messages is cheaper copied than given a pipe.
 */
#define SPLICE_MIN	(16 * 1024)

static int	plain(const struct transport *, int, int);
static size_t	pipe_max(void);
static void	wait_sink(struct transport *, int);
static int	sink_full(struct transport *);
static void	unsplice(struct transport *, const char *);
static void	unlink_source(struct transport *);
static void	close_pipe(struct transport *);
static void	grow_pipe(const struct transport *, int, const char *, int);

/*
 * Whether fd of t (writing or not) is one splice takes as it is: a
 * socket it opened or accepted carries a stream unless it carries
 * messages, and any other descriptor is asked.
 */
static int
plain(const struct transport *t, int fd, int writing)
{
	if (t->ops->read != NULL || t->ops->write != NULL || t->messages ||
	    t->eio_eof || fd < 0)
		return 0;
	return t->sock || util_splices(fd, writing);
}

/*
 * Let p's reads go straight to c (which p's owner gives nothing else
 * to write): NULL, or why they cannot.
 */
const char *
transport_splice(struct transport *p, struct transport *c)
{
	if (!plain(p, p->rfd, 0))
		return "its input is neither a pipe, a stream socket nor a file";
	if (!plain(c, c->wfd, 1))
		return "its output is neither a pipe nor a stream socket";
	p->sink = c;
	c->source = p;
	return NULL;
}

/* The largest pipe an unprivileged process may make. */
static size_t
pipe_max(void)
{
	static size_t	 max;
	unsigned long	 v;
	FILE		*f;

	if (max != 0)
		return max;
	max = 1024 * 1024;
	if ((f = fopen("/proc/sys/fs/pipe-max-size", "re")) != NULL) {
		if (fscanf(f, "%lu", &v) == 1 && v >= 4096)
			max = v;
		fclose(f);
	}
	return max;
}

/*
 * A read of n bytes: if its way may splice and the read was large, make
 * the sink's pipe, its size the high-water mark.  A pipe that cannot
 * hold that much (pipe-max-size, the user's allowance of pipe pages)
 * leaves the way buffered; without descriptors to spare, reads stay
 * buffered for now.
 */
void
splice_maybe(struct transport *t, size_t n)
{
	struct transport	*c = t->sink;
	uint64_t		 hw;
	int			 size;

	if (c == NULL || c->pipe[0] != -1 || n < SPLICE_MIN)
		return;
	if (pipe2(c->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		log_debug("%s -> %s: no splice, no pipe to splice through (%s)",
		    t->name, c->name, strerror(errno));
		c->pipe[0] = c->pipe[1] = -1;
		unlink_source(c);
		return;
	}
	hw = c->addr->high_water;
	if (hw <= pipe_max())
		(void)fcntl(c->pipe[1], F_SETPIPE_SZ, (int)hw);
	if ((size = fcntl(c->pipe[1], F_GETPIPE_SZ)) <= 0 ||
	    (uint64_t)size < hw) {
		log_debug("%s -> %s: no splice, a pipe holds %d B, less than "
		    "high water", t->name, c->name, size);
		unlink_source(c);
		close_pipe(c);
		return;
	}
	c->pipe_size = (size_t)size;
	log_debug("%s -> %s: splice, through a pipe of %zu B", t->name,
	    c->name, c->pipe_size);
	grow_pipe(t, t->rfd, "reads", size);
	grow_pipe(c, c->wfd, "writes", size);
}

/*
 * A pipe at either end (a shell's, 64 KiB) would cut every splice to its
 * size, and each would wake the process at its other end: grown to the
 * size of weir's own, one moves up to the high-water mark.  It is never
 * shrunk; one that cannot grow stays as it is.
 */
static void
grow_pipe(const struct transport *t, int fd, const char *way, int size)
{
	int	 was = fcntl(fd, F_GETPIPE_SZ);

	if (was > 0 && was < size && fcntl(fd, F_SETPIPE_SZ, size) > 0)
		log_debug("%s: the pipe it %s grown from %d to %d B", t->name,
		    way, was, size);
}

/* A reader waits for room in its sink's pipe, or gets it. */
static void
wait_sink(struct transport *t, int waits)
{
	t->sink_full = waits;
	watch_read(t);
	if (!waits && t->reading && t->rev != NULL)
		event_active(t->rev, EV_READ, 1);
}

/*
 * A splice read found no room: the sink's pipe is full (it may fill
 * before its size in bytes, a page per piece) while input waits.
 */
static int
sink_full(struct transport *t)
{
	int	 avail;

	if (t->sink->piped == 0)
		return 0;
	return !t->rpoll ||
	    (ioctl(t->rfd, FIONREAD, &avail) == 0 && avail > 0);
}

/*
 * splice(2) refused a descriptor of c's way: what c's pipe holds moves
 * to its buffer, and that way is buffered from now on.
 */
static void
unsplice(struct transport *c, const char *name)
{
	int	 n, e = errno;

	log_debug("%s: splice: %s: buffered from now on", name, strerror(e));
	while (c->piped > 0 && (n = evbuffer_read(c->out, c->pipe[0],
	    c->piped > INT_MAX ? INT_MAX : (int)c->piped)) > 0)
		c->piped -= (size_t)n;
	unlink_source(c);
	close_pipe(c);
	errno = e;
}

/*
 * Read what is there straight into the sink's pipe, as read_some does
 * into the input; the owner is told how much, and the sink writes it.
 */
void
splice_read(struct transport *t, short what)
{
	struct transport	*c = t->sink;
	size_t			 room;
	ssize_t			 n;

again:
	room = c->pipe_size > c->piped ? c->pipe_size - c->piped : 0;
	n = room == 0 ? (errno = EAGAIN, -1) : splice(t->rfd, NULL,
	    c->pipe[1], NULL, room, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n > 0) {
		c->piped += (size_t)n;
		t->stats.bytes_in += (uint64_t)n;
		write_soon(c);
		t->cbs->spliced(t, (size_t)n, t->arg);
		if (!t->reading || t->sink == NULL)
			return;
		if ((what & EV_CLOSED) && (size_t)n < room) {
			what = 0;
			goto again;
		}
		if (!t->rpoll)
			event_active(t->rev, EV_READ, 1);
	} else if (n == 0)
		transport_end_input(t);
	else if (errno == EAGAIN && sink_full(t)) {
		/*
		 * The pipe filled before high water (it takes a page for
		 * each piece, however small): that is its high water now.
		 */
		c->pipe_full_at = c->piped;
		wait_sink(t, 1);
		t->cbs->spliced(t, 0, t->arg);
	} else if (errno == EINVAL) {
		unsplice(c, t->name);
		read_some(t, what);
	} else
		read_failed(t);
}

/*
 * Write what the pipe holds: 1 when all of it went, 0 when the rest
 * waits, -1 when writing failed for good (reported), 2 when splice
 * refused the descriptor and the bytes moved to the buffer.
 */
int
splice_write(struct transport *t, int *wrote)
{
	size_t	 asked;
	ssize_t	 n;
	int	 r;

	while ((asked = t->piped) > 0) {
		n = splice(t->pipe[0], NULL, t->wfd, NULL, asked,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0) {
			t->piped -= (size_t)n;
			if (t->piped == 0)
				t->pipe_full_at = 0;
			*wrote = spent(t, (size_t)n);
			if (t->source != NULL && t->source->sink_full)
				wait_sink(t->source, 0);
			if ((size_t)n < asked) {
				event_add(t->wev, NULL);
				return 0;
			}
			continue;
		}
		if (n == -1 && errno == EINVAL) {
			unsplice(t, t->name);
			return 2;
		}
		if ((r = retry(t, n)) != 1)
			return r;
	}
	return 1;
}

/* What feeds t's pipe reads into a buffer again. */
static void
unlink_source(struct transport *t)
{
	struct transport	*s = t->source;

	if (s == NULL)
		return;
	s->sink = NULL;
	t->source = NULL;
	if (s->sink_full)
		wait_sink(s, 0);
}

/* t's pipe is gone, and what it held is lost. */
static void
close_pipe(struct transport *t)
{
	if (t->pipe[0] == -1)
		return;
	t->lost += t->piped;
	t->piped = t->pipe_full_at = 0;
	close(t->pipe[0]);
	close(t->pipe[1]);
	t->pipe[0] = t->pipe[1] = -1;
}

/* t splices no more, neither as a reader nor as a writer. */
void
splice_unlink(struct transport *t)
{
	if (t->sink != NULL)
		unlink_source(t->sink);
	unlink_source(t);
	close_pipe(t);
}

/* What t's pipe held is gone (the caller counted it), and the pipe too. */
void
splice_drop(struct transport *t)
{
	t->piped = 0;
	unlink_source(t);
	close_pipe(t);
}
