/*
 * Unit tests of the transport engine (src/transport.c), printing TAP.
 *
 * Frame boundaries: the glue (src/proto.c) notes where each frame ends
 * when asked to, and the engine writes each frame of a kind with
 * KIND_MESSAGES as one message, whole, empty ones included, while a
 * stream kind ignores the lengths.  The message kind is a test double
 * over a SOCK_SEQPACKET socket pair, which keeps message boundaries as a
 * datagram socket does.
 *
 * Kinds with I/O of their own: a read that asks for writability (as
 * OpenSSL's WANT_WRITE does) is tried again once the socket is
 * writable, a write or a close_notify that asks for readability waits
 * until the socket is readable, not before.
 *
 * A stream kind with KIND_WHOLE (a file) writes as a stream but follows
 * where each frame ends: a write that fails with a frame begun has the
 * kind cut that frame's written part off, counted as lost.  Its double
 * takes a budget of bytes (a disk with that much room), a few at a time.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cli.h"
#include "kind.h"
#include "proto.h"
#include "transport-kind.h"

#define LOOPS	100	/* turns of the loop a flush may take */

static void	 point(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 pair_open(struct transport *);
static void	 ignore_cb(struct transport *, void *);
static void	 ignore_read_cb(struct transport *, struct evbuffer *, void *);
static void	 failed_cb(struct transport *, enum transport_op, const char *,
		    void *);
static struct transport *open_halves(struct event_base *, const struct kind *,
		    int, int *, struct addr *, struct config *, int,
		    const struct transport_cbs *);

static int	 balked(struct transport *, int);
static void	 test_wait_switch(void);
static ssize_t	 wants_read(struct transport *, const struct iovec *, int);
static ssize_t	 wants_write(struct transport *, const struct iovec *, int);
static int	 wants_shutdown(struct transport *);
static void	 got_cb(struct transport *, struct evbuffer *, void *);
static void	 shut_cb(struct transport *, void *);
static ssize_t	 full_write(struct transport *, const struct iovec *, int);
static int	 full_cut(struct transport *, size_t);

static int	 npoints, nfailed;
static int	 pair_fd = -1;	/* the descriptor pair_open hands over */
static int	 failures;
static int	 balks;		/* I/O calls a double still refuses */
static int	 calls;		/* I/O calls made to a double */
static int	 shut;		/* the shutdown callback came */
static char	 got[256];	/* what a reading transport was given */
static size_t	 room;		/* bytes a whole kind's double still takes */
static size_t	 chunk;		/* ... in one write at most */
static size_t	 cut_asked;	/* what its cut was last asked to take back */
static int	 cut_refuses;	/* ... whether it leaves them (another writer) */

/* Its I/O refuses the first `balks` calls, asking for the other readiness. */
static const struct transport_ops wanting_ops = {
	.open = pair_open,
	.read = wants_read,
	.write = wants_write,
	.shutdown = wants_shutdown
};

static const struct kind wanting_kind = {
	.name = "wanting",
	.flags = KIND_READS | KIND_WRITES,
	.ops = &wanting_ops
};

/* Queue len bytes at p, shared as a fan-out shares a frame. */
static void
write_bytes(struct transport *t, const void *p, size_t len,
    const size_t *lens, size_t n)
{
	struct evbuffer	*b = evbuffer_new();

	evbuffer_add(b, p, len);
	transport_write_shared(t, b, lens, n);
	evbuffer_free(b);
}

static const struct transport_cbs reading_cbs = {
	ignore_cb,
	got_cb,
	ignore_cb,
	ignore_cb,
	shut_cb,
	failed_cb,
	ignore_cb,
	NULL
};

static const struct transport_ops pair_ops = {
	.open = pair_open
};

static const struct kind messages_kind = {
	.name = "messages",
	.flags = KIND_READS | KIND_WRITES | KIND_MESSAGES,
	.ops = &pair_ops
};

static const struct kind stream_kind = {
	.name = "stream",
	.flags = KIND_READS | KIND_WRITES,
	.ops = &pair_ops
};

static const struct transport_ops full_ops = {
	.open = pair_open,
	.write = full_write,
	.cut = full_cut
};

static const struct kind whole_kind = {
	.name = "whole",
	.flags = KIND_WRITES | KIND_WHOLE,
	.ops = &full_ops
};

static const struct transport_cbs cbs = {
	ignore_cb,
	ignore_read_cb,
	ignore_cb,
	ignore_cb,
	ignore_cb,
	failed_cb,
	ignore_cb,
	NULL
};

static void
point(int ok, const char *fmt, ...)
{
	va_list	 ap;

	npoints++;
	if (!ok)
		nfailed++;
	printf("%sok %d - ", ok ? "" : "not ", npoints);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
pair_open(struct transport *t)
{
	transport_opened(t, pair_fd, pair_fd);
}

static void
ignore_cb(struct transport *t, void *arg)
{
	(void)t;
	(void)arg;
}

static void
ignore_read_cb(struct transport *t, struct evbuffer *in, void *arg)
{
	(void)t;
	(void)in;
	(void)arg;
}

static void
failed_cb(struct transport *t, enum transport_op op, const char *msg,
    void *arg)
{
	(void)t;
	(void)op;
	(void)arg;
	printf("# failed: %s\n", msg);
	failures++;
}

/* Whether a double refuses this call, asking for want instead. */
static int
balked(struct transport *t, int want)
{
	calls++;
	if (balks == 0)
		return 0;
	balks--;
	t->want = want;
	errno = EAGAIN;
	return 1;
}

static ssize_t
wants_read(struct transport *t, const struct iovec *iov, int n)
{
	return balked(t, TRANSPORT_WANT_WRITE) ? -1 : readv(t->rfd, iov, n);
}

static ssize_t
wants_write(struct transport *t, const struct iovec *iov, int n)
{
	return balked(t, TRANSPORT_WANT_READ) ? -1 : writev(t->wfd, iov, n);
}

static int
wants_shutdown(struct transport *t)
{
	return balked(t, TRANSPORT_WANT_READ) ? -1 : 0;
}

static void
got_cb(struct transport *t, struct evbuffer *in, void *arg)
{
	size_t	 len = evbuffer_get_length(in), have = strlen(got);

	(void)t;
	(void)arg;
	if (have + len >= sizeof got) {
		evbuffer_drain(in, len);
		return;
	}
	evbuffer_remove(in, got + have, len);
	got[have + len] = '\0';
}

static void
shut_cb(struct transport *t, void *arg)
{
	(void)t;
	(void)arg;
	shut = 1;
}

/* Takes at most chunk bytes a call while there is room, then fails. */
static ssize_t
full_write(struct transport *t, const struct iovec *iov, int n)
{
	size_t	 len = 0;
	int	 i;

	(void)t;
	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (room == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (len > chunk)
		len = chunk;
	if (len > room)
		len = room;
	room -= len;
	return (ssize_t)len;
}

static int
full_cut(struct transport *t, size_t n)
{
	(void)t;
	cut_asked = n;
	return cut_refuses ? -1 : 0;
}

/* Frames forwarded through the glue, with their lengths kept. */
static int
forward(enum proto_kind in, enum proto_kind to, const char *data, size_t len,
    const size_t *want, size_t nwant, const char *out)
{
	struct proto_opts	 oi, oo;
	struct proto		*p;
	struct evbuffer		*src, *dst;
	const size_t		*lens;
	size_t			 n, i;
	uint64_t		 frames = 0;
	int			 ok;

	memset(&oi, 0, sizeof oi);
	oi.kind = in;
	oi.delim = '\n';
	oi.max_frame = PROTO_DEFAULT_MAX_FRAME;
	oo = oi;
	oo.kind = to;
	p = proto_new(&oi, &oo, 0, SIZE_MAX);
	src = evbuffer_new();
	dst = evbuffer_new();
	evbuffer_add(src, data, len);
	ok = proto_forward(p, src, dst, 1, UINT64_MAX, &frames) == 0;
	lens = proto_frames(p, &n);
	ok = ok && n == nwant && frames == nwant &&
	    evbuffer_get_length(dst) == strlen(out) &&
	    memcmp(evbuffer_pullup(dst, -1), out, strlen(out)) == 0;
	for (i = 0; ok && i < n; i++)
		ok = lens[i] == want[i];
	evbuffer_free(src);
	evbuffer_free(dst);
	proto_free(p);
	return ok;
}

/*
 * Lines passed through as they are, over an input of many extents (as
 * reads make them), against a line-at-a-time count: every line up to
 * max-frame moves, a longer one stops it there, and room stops it at
 * that many lines.  Returns how many cases disagreed.
 */
static int
pass_lines(unsigned seed, size_t max, int long_at, uint64_t most)
{
	struct proto_opts	 o;
	struct proto		*p;
	struct evbuffer		*src, *dst;
	char			 data[4096];
	size_t			 len = 0, k, moved = 0, at = 0;
	uint64_t		 frames = 0, lines = 0;
	int			 i, rv, bad = 0;

	srand(seed);
	for (i = 0; len + max + 2 < sizeof data; i++) {
		k = i == long_at ? max + 1 : (size_t)rand() % (max + 1);
		memset(data + len, 'a' + i % 26, k);
		data[len + k] = '\n';
		len += k + 1;
		if ((long_at < 0 || i < long_at) && lines < most) {
			lines++;
			moved = len;
		}
	}
	memset(&o, 0, sizeof o);
	o.kind = PROTO_LINE;
	o.delim = '\n';
	o.max_frame = max;
	p = proto_new(&o, &o, 0, 0);
	src = evbuffer_new();
	dst = evbuffer_new();
	for (at = 0; at < len; at += k) {
		k = 1 + (size_t)rand() % (3 * max);
		if (k > len - at)
			k = len - at;
		evbuffer_add_reference(src, data + at, k, NULL, NULL);
	}
	rv = proto_forward(p, src, dst, 0, most, &frames);
	if (rv != (long_at >= 0 && (uint64_t)long_at < most ? -1 : 0) ||
	    frames != lines || evbuffer_get_length(dst) != moved ||
	    (moved > 0 && memcmp(evbuffer_pullup(dst, -1), data, moved) != 0))
		bad = 1;
	if (bad)
		printf("# seed %u max %zu long at %d room %llu: rv %d, %llu lines "
		    "and %zu B moved, expected %llu and %zu\n", seed, max,
		    long_at, (unsigned long long)most, rv,
		    (unsigned long long)frames, evbuffer_get_length(dst),
		    (unsigned long long)lines, moved);
	evbuffer_free(src);
	evbuffer_free(dst);
	proto_free(p);
	return bad;
}

static void
test_pass_lines(void)
{
	static const size_t	 maxes[] = { 1, 2, 7, 16, 33, 100 };
	unsigned		 seed;
	size_t			 m;
	int			 bad = 0, bad_long = 0, bad_room = 0;

	for (m = 0; m < sizeof maxes / sizeof maxes[0]; m++)
		for (seed = 1; seed <= 40; seed++) {
			bad += pass_lines(seed, maxes[m], -1, UINT64_MAX);
			bad_long += pass_lines(seed, maxes[m],
			    (int)(seed % 20), UINT64_MAX);
			bad_room += pass_lines(seed, maxes[m], -1, seed % 9);
		}
	point(bad == 0, "lines passed through over many extents: each line "
	    "up to max-frame moves, counted");
	point(bad_long == 0, "lines passed through: one over max-frame stops "
	    "them there, the lines before it moved");
	point(bad_room == 0, "lines passed through: room stops them at that "
	    "many lines");
}

static void
test_glue(void)
{
	static const size_t	 lines[] = { 1, 0, 3 }, nets[] = { 3, 0 },
				    relay[] = { 5 }, whole[] = { 2, 1, 4 },
				    encoded[] = { 6, 3 };
	struct proto_opts	 o;
	struct proto		*p;
	size_t			 n;

	point(forward(PROTO_LINE, PROTO_RELAY, "a\n\nbcd\n", 7, lines, 3,
	    "abcd"), "line to a message consumer: each line's length, the "
	    "empty one too");
	point(forward(PROTO_NETSTRING, PROTO_RELAY, "3:abc,0:,", 9, nets, 2,
	    "abc"), "netstring to a message consumer: each payload's length");
	point(forward(PROTO_RELAY, PROTO_RELAY, "hello", 5, relay, 1, "hello"),
	    "relay to a message consumer: one read, one frame");
	point(forward(PROTO_LINE, PROTO_LINE, "a\n\nbcd\n", 7, whole, 3,
	    "a\n\nbcd\n"), "line to line kept (a file): each line's length "
	    "with its delimiter, though whole runs of lines move at once");
	point(forward(PROTO_NETSTRING, PROTO_NETSTRING, "3:abc,0:,", 9,
	    encoded, 2, "3:abc,0:,"), "netstring kept: each encoded frame's "
	    "length");
	memset(&o, 0, sizeof o);
	o.kind = PROTO_LINE;
	o.delim = '\n';
	o.max_frame = 10;
	p = proto_new(&o, &o, 0, 0);
	proto_frames(p, &n);
	point(n == 0, "a stream consumer keeps no lengths");
	proto_free(p);
}

/* A transport of kind k on one end of a socket pair of type type. */
static struct transport *
open_pair(struct event_base *base, const struct kind *k, int type, int *peer,
    struct addr *a, struct config *cfg)
{
	return open_halves(base, k, type, peer, a, cfg, TRANSPORT_WRITE,
	    &cbs);
}

static struct transport *
open_halves(struct event_base *base, const struct kind *k, int type,
    int *peer, struct addr *a, struct config *cfg, int halves,
    const struct transport_cbs *with)
{
	struct transport	*t;
	int			 sv[2];

	if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) ==
	    -1) {
		perror("socketpair");
		exit(1);
	}
	memset(a, 0, sizeof *a);
	memset(cfg, 0, sizeof *cfg);
	a->kind = k;
	a->name = (char *)k->name;
	a->high_water = 1 << 20;
	a->low_water = 1 << 18;
	pair_fd = sv[0];
	*peer = sv[1];
	t = transport_new(base, a, cfg, halves, with, NULL);
	transport_open(t, NULL);
	return t;
}

static void
turns(struct event_base *base, int n)
{
	while (n-- > 0)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
test_wants(void)
{
	struct event_base	*base = event_base_new();
	struct transport	*t;
	struct addr		 a;
	struct config		 cfg;
	char			 buf[64], fill[65536];
	ssize_t			 n;
	int			 peer;

	t = open_halves(base, &wanting_kind, SOCK_STREAM, &peer, &a, &cfg,
	    TRANSPORT_READ | TRANSPORT_WRITE, &reading_cbs);
	/* Our socket full, not writable; the peer's data readable. */
	memset(fill, 'x', sizeof fill);
	while (write(pair_fd, fill, sizeof fill) > 0)
		;
	balks = 1;
	calls = 0;
	if (write(peer, "hello", 5) != 5)
		point(0, "write to the peer");
	transport_read_start(t);
	turns(base, 10);
	point(got[0] == '\0' && calls == 1, "a read that asks for "
	    "writability is not tried again while only readable (%d call)",
	    calls);
	while (recv(peer, fill, sizeof fill, MSG_DONTWAIT) > 0)
		;
	turns(base, 10);
	point(strcmp(got, "hello") == 0 && calls >= 2,
	    "... and is once writable (%d calls, got \"%s\")", calls, got);

	balks = 1;
	calls = 0;
	transport_read_stop(t);
	write_bytes(t, "world", 5, NULL, 0);
	turns(base, 10);
	n = recv(peer, buf, sizeof buf, MSG_DONTWAIT);
	point(n == -1 && calls == 1,
	    "a write that asks for readability waits while nothing is readable "
	    "(%d call)", calls);
	if (write(peer, "!", 1) != 1)
		point(0, "write to the peer");
	turns(base, 10);
	n = recv(peer, buf, sizeof buf, MSG_DONTWAIT);
	point(n == 5 && memcmp(buf, "world", 5) == 0 && calls == 2,
	    "... and writes once the socket is readable (%d calls)", calls);
	/* Take that byte: nothing is readable any more. */
	transport_read_start(t);
	turns(base, 10);
	transport_read_stop(t);

	balks = 1;
	calls = 0;
	transport_shutdown(t);
	turns(base, 10);
	point(!shut && calls == 1, "a close_notify that asks for readability "
	    "waits too");
	if (write(peer, "?", 1) != 1)
		point(0, "write to the peer");
	turns(base, 10);
	n = recv(peer, buf, sizeof buf, MSG_DONTWAIT);
	point(shut && n == 0, "... then the write half is shut (recv %zd)", n);
	transport_close(t);
	turns(base, 1);
	transport_free(t);
	close(peer);
	event_base_free(base);
}

/*
 * A write waiting for writability whose next try asks for readability
 * instead stops watching writability: the socket stays writable, and
 * watching it would wake the loop for nothing, again and again.
 */
static void
test_wait_switch(void)
{
	struct event_base	*base = event_base_new();
	struct transport	*t;
	struct addr		 a;
	struct config		 cfg;
	char			 fill[65536];
	int			 peer;

	t = open_halves(base, &wanting_kind, SOCK_STREAM, &peer, &a, &cfg,
	    TRANSPORT_WRITE, &reading_cbs);
	memset(fill, 'x', sizeof fill);
	while (write(pair_fd, fill, sizeof fill) > 0)
		;
	balks = 0;
	write_bytes(t, "world", 5, NULL, 0);
	turns(base, 2);
	point(event_pending(t->wev, EV_WRITE, NULL),
	    "a write to a full socket waits for writability");
	balks = 1;
	calls = 0;
	while (recv(peer, fill, sizeof fill, MSG_DONTWAIT) > 0)
		;
	turns(base, 10);
	point(calls == 1 && t->write_waits && !event_pending(t->wev, EV_WRITE,
	    NULL), "... and once its next try asks for readability, "
	    "writability is no longer watched (%d call)", calls);
	transport_close(t);
	turns(base, 1);
	transport_free(t);
	close(peer);
	event_base_free(base);
}

static void
run(struct event_base *base, struct transport *t)
{
	int	 i;

	for (i = 0; i < LOOPS && transport_pending(t) > 0; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* What the peer received, message by message, joined with '|'. */
static void
received(int fd, char *out, size_t size)
{
	char	 buf[65536];
	ssize_t	 n;
	size_t	 used = 0;

	out[0] = '\0';
	while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
		used += (size_t)snprintf(out + used, size - used, "%s%.*s",
		    used > 0 ? "|" : "", (int)n, buf);
		if (used >= size)
			break;
	}
}

static void
test_messages(void)
{
	static const size_t	 lens[] = { 1, 0, 3 }, one[] = { 2 };
	struct event_base	*base = event_base_new();
	struct transport	*t;
	struct evbuffer		*buf = evbuffer_new();
	struct addr		 a;
	struct config		 cfg;
	char			 msgs[256], big[40];
	size_t			 many[20];
	int			 peer, i;

	t = open_pair(base, &messages_kind, SOCK_SEQPACKET, &peer, &a, &cfg);
	evbuffer_add(buf, "abcd", 4);
	transport_write(t, buf, lens, 3);
	write_bytes(t, "ef", 2, one, 1);
	run(base, t);
	received(peer, msgs, sizeof msgs);
	point(strcmp(msgs, "a||bcd|ef") == 0 && failures == 0,
	    "a message kind writes each frame as one message, the empty one "
	    "too (got \"%s\")", msgs);
	/* One frame of 20 chains, more than one write takes at once. */
	for (i = 0; i < 20; i++) {
		big[i * 2] = (char)('a' + i);
		big[i * 2 + 1] = '.';
		evbuffer_add_reference(buf, big + i * 2, 2, NULL, NULL);
		many[i] = 2;
	}
	transport_write(t, buf, (size_t[]){ 40 }, 1);
	run(base, t);
	received(peer, msgs, sizeof msgs);
	point(strlen(msgs) == 40 && strchr(msgs, '|') == NULL,
	    "a frame of many chains is still one message");
	write_bytes(t, big, 40, many, 20);
	run(base, t);
	received(peer, msgs, sizeof msgs);
	point(strlen(msgs) == 59 && msgs[2] == '|' && msgs[56] == '|',
	    "twenty frames in one write are twenty messages");
	transport_close(t);
	event_base_loop(base, EVLOOP_NONBLOCK);
	transport_free(t);
	close(peer);
	evbuffer_free(buf);
	event_base_free(base);
}

static void
test_stream(void)
{
	static const size_t	 lens[] = { 1, 0, 3 };
	struct event_base	*base = event_base_new();
	struct transport	*t;
	struct evbuffer		*buf = evbuffer_new();
	struct addr		 a;
	struct config		 cfg;
	char			 msgs[256];
	int			 peer;

	t = open_pair(base, &stream_kind, SOCK_STREAM, &peer, &a, &cfg);
	evbuffer_add(buf, "abcd", 4);
	transport_write(t, buf, lens, 3);
	run(base, t);
	received(peer, msgs, sizeof msgs);
	point(strcmp(msgs, "abcd") == 0, "a stream kind ignores the lengths "
	    "(got \"%s\")", msgs);
	transport_close(t);
	event_base_loop(base, EVLOOP_NONBLOCK);
	transport_free(t);
	close(peer);
	evbuffer_free(buf);
	event_base_free(base);
}

/*
 * Frames "abc\n" "def\n" "ghi\n" to a whole kind with room for `fits`
 * bytes, a few at a time, until a write fails; or, aborting, `fits`
 * bytes in the first write and then an abort.  Returns what its cut was
 * asked to take back, sets *lost (and dropped) and *out.
 */
static size_t
torn(size_t fits, int abort, uint64_t *lost, uint64_t *out)
{
	static const size_t	 lens[] = { 4, 4, 4 };
	struct event_base	*base = event_base_new();
	struct transport	*t;
	struct addr		 a;
	struct config		 cfg;
	int			 peer;

	room = fits;
	chunk = abort ? fits : 3;
	cut_asked = 0;
	failures = 0;
	t = open_pair(base, &whole_kind, SOCK_STREAM, &peer, &a, &cfg);
	write_bytes(t, "abc\ndef\nghi\n", 12, lens, 3);
	if (abort) {
		/* The write goes at the loop's turn: one turn, then the abort. */
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		transport_abort(t);
	}
	else {
		run(base, t);
		transport_close(t);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	*lost = transport_lost(t) + transport_stats(t)->undelivered;
	*out = transport_stats(t)->bytes_out;
	transport_free(t);
	close(peer);
	event_base_free(base);
	return cut_asked;
}

static void
test_whole(void)
{
	uint64_t	 lost, out;
	size_t		 asked;

	asked = torn(6, 0, &lost, &out);
	point(asked == 2 && lost == 8 && out == 4 && failures == 1,
	    "a whole kind's write that fails 2 bytes into a frame has them cut, "
	    "counted lost (cut %zu, lost %llu, out %llu)", asked,
	    (unsigned long long)lost, (unsigned long long)out);
	asked = torn(7, 0, &lost, &out);
	point(asked == 3 && lost == 8 && out == 4,
	    "... its frame written over several writes (cut %zu)", asked);
	asked = torn(8, 0, &lost, &out);
	point(asked == 0 && lost == 4 && out == 8 && failures == 1,
	    "a failure on a frame end cuts nothing (cut %zu, lost %llu)",
	    asked, (unsigned long long)lost);
	cut_refuses = 1;
	asked = torn(6, 0, &lost, &out);
	cut_refuses = 0;
	point(asked == 2 && lost == 6 && out == 6,
	    "a cut the kind refuses (another writer) leaves the bytes written "
	    "(lost %llu, out %llu)", (unsigned long long)lost,
	    (unsigned long long)out);
	asked = torn(6, 1, &lost, &out);
	point(asked == 2 && lost == 8 && out == 4 && failures == 0,
	    "an abort with a frame begun cuts it too (cut %zu, lost %llu)",
	    asked, (unsigned long long)lost);
}

int
main(void)
{
	test_glue();
	test_pass_lines();
	test_messages();
	test_stream();
	test_whole();
	test_wants();
	test_wait_switch();
	printf("1..%d\n", npoints);
	return nfailed ? 1 : 0;
}
