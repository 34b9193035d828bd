/*
 * Unit tests of frame boundaries between a decoder and a transport that
 * carries messages, printing TAP: the glue (src/proto.c) notes where each
 * frame ends when asked to, and the engine (src/transport.c) writes each
 * frame of a kind with KIND_MESSAGES as one message, whole, empty ones
 * included, while a stream kind ignores the lengths.  The message kind
 * here is a test double over a SOCK_SEQPACKET socket pair, which keeps
 * message boundaries as a datagram socket does.
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

static int	 npoints, nfailed;
static int	 pair_fd = -1;	/* the descriptor pair_open hands over */
static int	 failures;

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

static const struct transport_cbs cbs = {
	ignore_cb,
	ignore_read_cb,
	ignore_cb,
	ignore_cb,
	ignore_cb,
	failed_cb,
	ignore_cb
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

/* Frames forwarded through the glue, with their lengths kept. */
static int
forward(enum proto_kind in, const char *data, size_t len, const size_t *want,
    size_t nwant, const char *out)
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
	oo.kind = PROTO_RELAY;
	p = proto_new(&oi, &oo, 1);
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

static void
test_glue(void)
{
	static const size_t	 lines[] = { 1, 0, 3 }, nets[] = { 3, 0 },
				    relay[] = { 5 };
	struct proto_opts	 o;
	struct proto		*p;
	size_t			 n;

	point(forward(PROTO_LINE, "a\n\nbcd\n", 7, lines, 3, "abcd"),
	    "line to a message consumer: each line's length, the empty one "
	    "too");
	point(forward(PROTO_NETSTRING, "3:abc,0:,", 9, nets, 2, "abc"),
	    "netstring to a message consumer: each payload's length");
	point(forward(PROTO_RELAY, "hello", 5, relay, 1, "hello"),
	    "relay to a message consumer: one read, one frame");
	memset(&o, 0, sizeof o);
	o.kind = PROTO_LINE;
	o.delim = '\n';
	o.max_frame = 10;
	p = proto_new(&o, &o, 0);
	proto_frames(p, &n);
	point(n == 0, "a stream consumer keeps no lengths");
	proto_free(p);
}

/* A transport of kind k on one end of a socket pair of type type. */
static struct transport *
open_pair(struct event_base *base, const struct kind *k, int type, int *peer,
    struct addr *a, struct config *cfg)
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
	t = transport_new(base, a, cfg, TRANSPORT_WRITE, &cbs, NULL);
	transport_open(t);
	return t;
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
	char			 got[256], big[40];
	size_t			 many[20];
	int			 peer, i;

	t = open_pair(base, &messages_kind, SOCK_SEQPACKET, &peer, &a, &cfg);
	evbuffer_add(buf, "abcd", 4);
	transport_write(t, buf, lens, 3);
	transport_write_bytes(t, "ef", 2, one, 1);
	run(base, t);
	received(peer, got, sizeof got);
	point(strcmp(got, "a||bcd|ef") == 0 && failures == 0,
	    "a message kind writes each frame as one message, the empty one "
	    "too (got \"%s\")", got);
	/* One frame of 20 chains, more than one write takes at once. */
	for (i = 0; i < 20; i++) {
		big[i * 2] = (char)('a' + i);
		big[i * 2 + 1] = '.';
		evbuffer_add_reference(buf, big + i * 2, 2, NULL, NULL);
		many[i] = 2;
	}
	transport_write(t, buf, (size_t[]){ 40 }, 1);
	run(base, t);
	received(peer, got, sizeof got);
	point(strlen(got) == 40 && strchr(got, '|') == NULL,
	    "a frame of many chains is still one message");
	transport_write_bytes(t, big, 40, many, 20);
	run(base, t);
	received(peer, got, sizeof got);
	point(strlen(got) == 59 && got[2] == '|' && got[56] == '|',
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
	char			 got[256];
	int			 peer;

	t = open_pair(base, &stream_kind, SOCK_STREAM, &peer, &a, &cfg);
	evbuffer_add(buf, "abcd", 4);
	transport_write(t, buf, lens, 3);
	run(base, t);
	received(peer, got, sizeof got);
	point(strcmp(got, "abcd") == 0, "a stream kind ignores the lengths "
	    "(got \"%s\")", got);
	transport_close(t);
	event_base_loop(base, EVLOOP_NONBLOCK);
	transport_free(t);
	close(peer);
	evbuffer_free(buf);
	event_base_free(base);
}

int
main(void)
{
	test_glue();
	test_messages();
	test_stream();
	printf("1..%d\n", npoints);
	return nfailed ? 1 : 0;
}
