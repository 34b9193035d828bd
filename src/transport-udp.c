/*
 * udp:HOST:PORT, a connected datagram socket: one datagram is one frame
 * (KIND_MESSAGES), empty ones included.  A datagram socket never ends by
 * itself: once the other side has ended, it reads on until quiet for
 * linger=, then says its end.  The kernel's count of datagrams it
 * dropped unread comes with each one received (SO_RXQ_OVFL) and is read
 * once more as the socket closes (SO_MEMINFO).
 *
 * udp-listen:[HOST:]PORT sorts datagrams by peer: the first datagram
 * from a new source gets it a socket of its own, bound to the listening
 * address and connected to the peer, so the kernel sorts the rest; each
 * such socket is an accepted connection, read and written as udp:'s,
 * its replies leaving from the listening port.  What reached the
 * listening socket before the peer's own was connected is handed over.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <linux/sock_diag.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "log.h"
#include "sock.h"
#include "transport-kind.h"
#include "util.h"

/* The largest UDP payload: 65,535 less the IP and UDP headers. */
#define UDP4_MAX	65507
#define UDP6_MAX	65527
#define LINGER_S	1.0
#define LINGER_MAX_S	86400.0
/* A listener's peers, forgotten after this long without traffic. */
#define PEER_IDLE_S	60.0
/* Bytes held for a peer whose own socket is not yet read. */
#define EARLY_MAX	(256 * 1024)
/*
 * The receive buffer asked for (the kernel gives twice, capped at
 * net.core.rmem_max): a datagram socket cannot tell a sender to wait,
 * so it takes a burst that comes while weir is busy elsewhere.
 */
#define UDP_RCVBUF	(1024 * 1024)
/* Datagrams a closing listener still sorts out of its socket. */
#define UNBIND_MAX	1024
/* Datagrams a listening socket sorts in one wakeup, so others get theirs. */
#define SORT_BATCH	64
/* Datagrams one read takes beyond its own (recvmmsg), for the next reads. */
#define RECV_BATCH	15

struct udp_listen;

/* An address's own options, and a listener's peers. */
struct udp_addr {
	double		 linger;	/* quiet this long after the end: done */
	struct udp_listen *listen;	/* udp-listen:, once bound */
};

/* A datagram that reached the listening socket, for its peer. */
struct early {
	STAILQ_ENTRY(early)	 entry;
	size_t			 len;
	char			 data[];
};
STAILQ_HEAD(earlies, early);

/* One datagram socket's state; a listener's peer's too. */
struct udp_stream {
	struct event		*quiet;		/* lingering: quiet long enough? */
	double			 last;		/* a datagram last came, or the end */
	double			 said;		/* -v told of kernel drops */
	uint32_t		 own;		/* the kernel's count, this socket */
	uint64_t		 given;		/* the listening socket's, ours */
	/* A listener's peer: */
	struct udp_listen	*l;		/* NULL once the listener is gone */
	struct transport	*t;		/* NULL until opened */
	int			 fd;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct earlies		 early;
	size_t			 nearly;
	size_t			 early_bytes;
	uint64_t		 lost;		/* early ones over EARLY_MAX */
	struct event		*others;	/* the closed listener's, ignored */
	TAILQ_ENTRY(udp_stream)	 entry;
};
TAILQ_HEAD(udp_streams, udp_stream);

/* A listening socket's datagram, read before it is sorted. */
static char	dgram[UDP6_MAX + 1];

/*
 * What one read took beyond the datagram it was asked for: one stream's,
 * handed out by its next reads.  Another stream's read first moves what
 * is left to the owner's early list.  Pages no datagram reached are
 * never touched.
 */
static struct {
	struct udp_stream	*owner;
	int			 next;
	int			 count;
	size_t			 len[RECV_BATCH];
	char			 data[RECV_BATCH][UDP6_MAX + 1];
} held;

struct udp_listen {
	struct sockaddr_storage	 local;		/* where peers' sockets bind */
	socklen_t		 locallen;
	int			 v6only;
	struct udp_streams	 peers;
	uint32_t		 drops;		/* the kernel's count, this socket */
	uint64_t		 unowned;	/* of those, given to no peer yet */
	struct udp_stream	*last;		/* the last peer handed one */
};

static int	udp_parse(struct addr *, const char *, char **);
static int	udp_option(struct addr *, const char *, const char *, char **);
static void	udp_free(struct addr *);
static size_t	udp_message_max(const struct addr *);
static void	udp_open(struct transport *);
static void	udp_connected(struct transport *, int);
static ssize_t	udp_read(struct transport *, const struct iovec *, int);
static int	udp_shutdown(struct transport *);
static void	udp_release(struct transport *);
static void	quiet_cb(evutil_socket_t, short, void *);
static int	parse(struct addr *, const char *, int, char **);
static int	linger_option(struct addr *, const char *, char **);
static int	udp_listen_parse(struct addr *, const char *, char **);
static int	udp_listen_option(struct addr *, const char *, const char *,
		    char **);
static int	udp_bind(const struct addr *, struct bound *, char **);
static void	udp_unbind(const struct addr *, struct bound *);
static int	udp_accept(const struct addr *, struct bound *,
		    struct sockaddr_storage *, socklen_t *);
static void	udp_refuse(const struct addr *, struct bound *, int);
static void	peer_open(struct transport *);
static struct udp_stream *stream_new(void);
static void	stream_attach(struct udp_stream *, struct transport *);
static struct udp_stream *peer_find(struct udp_listen *,
		    const struct sockaddr_storage *, socklen_t);
static void	kernel_dropped(struct transport *);
static void	drops_now(struct transport *);
static void	meminfo_drops(int, uint32_t *);
static void	give_drops(struct udp_stream *);
static void	ignore_others(struct udp_stream *, int);
static void	others_cb(evutil_socket_t, short, void *);
static ssize_t	recv_counted(int, struct iovec *, int,
		    struct sockaddr_storage *, socklen_t *, uint32_t *);
static ssize_t	recv_batch(int, const struct iovec *, int, uint32_t *);
static uint32_t	*ovfl(struct msghdr *);
static ssize_t	held_read(const struct iovec *, int);
static void	held_evict(void);
static void	hold_early(struct udp_stream *, const char *, size_t);
static ssize_t	copy_out(const struct iovec *, int, const char *, size_t);
static size_t	udp_buffered(const struct transport *);
static ssize_t	listen_recv(struct udp_listen *, int,
		    struct sockaddr_storage *, socklen_t *);
static ssize_t	early_read(struct udp_stream *, const struct iovec *, int);
static void	stream_free(struct udp_stream *);
static int	peer_socket(const struct addr *, struct udp_listen *,
		    const struct sockaddr_storage *, socklen_t);
static void	hand_over(struct udp_stream *, const char *, size_t);

static const struct transport_ops udp_ops = {
	.open = udp_open,
	.read = udp_read,
	.shutdown = udp_shutdown,
	.buffered = udp_buffered,
	.release = udp_release
};

/* A listener's peer: the same socket, opened by the listener. */
static const struct transport_ops udp_peer_ops = {
	.open = peer_open,
	.read = udp_read,
	.shutdown = udp_shutdown,
	.buffered = udp_buffered,
	.release = udp_release
};

static const struct kind_listen udp_listen = {
	.bind = udp_bind,
	.unbind = udp_unbind,
	.accept = udp_accept,
	.refuse = udp_refuse,
	.conn = &udp_peer_ops
};

const struct kind kind_udp = {
	.name = "udp",
	.flags = KIND_READS | KIND_WRITES | KIND_REOPENS | KIND_MESSAGES |
	    KIND_FAMILY,
	.help = "  udp:HOST:PORT          a connected UDP socket: one datagram, "
	    "one frame\n",
	.help_opts = "  linger=SEC             udp: once the other side has "
	    "ended, read on until\n"
	    "                         quiet this long (default 1)\n",
	.parse = udp_parse,
	.option = udp_option,
	.free = udp_free,
	.message_max = udp_message_max,
	.ops = &udp_ops
};

const struct kind kind_udp_listen = {
	.name = "udp-listen",
	.flags = KIND_READS | KIND_WRITES | KIND_LISTENS | KIND_INET |
	    KIND_MESSAGES | KIND_FAMILY,
	.help = "  udp-listen:[HOST:]PORT receive datagrams; each source is a "
	    "peer, served as a\n"
	    "                         connection (with -k, -i is 60 s unless "
	    "given)\n"
	    "  udp4:, udp6:, udp4-listen:, udp6-listen:\n"
	    "                         the same, over IPv4 or IPv6 only\n",
	.idle_timeout = PEER_IDLE_S,
	.parse = udp_listen_parse,
	.option = udp_listen_option,
	.free = udp_free,
	.message_max = udp_message_max,
	.listen = &udp_listen
};

/* HOST:PORT, or a listener's [HOST:]PORT; linger= starts at its default. */
static int
parse(struct addr *a, const char *arg, int listen, char **err)
{
	struct udp_addr	*ua;

	ua = xcalloc(1, sizeof *ua);
	ua->linger = LINGER_S;
	a->opts = ua;
	a->sock.rcvbuf = UDP_RCVBUF;
	return kind_arg_hostport(a, arg, listen, err);
}

static int
udp_parse(struct addr *a, const char *arg, char **err)
{
	return parse(a, arg, 0, err);
}

static int
udp_listen_parse(struct addr *a, const char *arg, char **err)
{
	return parse(a, arg, 1, err);
}

static int
udp_option(struct addr *a, const char *name, const char *val, char **err)
{
	if (strcmp(name, "linger") == 0)
		return linger_option(a, val, err);
	return sock_option(a, SOCK_OPT_BUF | SOCK_OPT_BIND, name, val, err);
}

static int
udp_listen_option(struct addr *a, const char *name, const char *val,
    char **err)
{
	if (strcmp(name, "linger") == 0)
		return linger_option(a, val, err);
	return sock_option(a, SOCK_OPT_BUF, name, val, err);
}

static int
linger_option(struct addr *a, const char *val, char **err)
{
	struct udp_addr	*ua = a->opts;
	char		 why[128];

	if (val == NULL || util_parse_seconds(val, &ua->linger, why,
	    sizeof why) == -1 || ua->linger > LINGER_MAX_S) {
		*err = xasprintf("linger: %s", val == NULL ? "needs a value" :
		    ua->linger > LINGER_MAX_S ? "at most 86400 s" : why);
		return -1;
	}
	return 0;
}

static void
udp_free(struct addr *a)
{
	free(a->opts);
	a->opts = NULL;
}

/* IPv6 headers leave 20 bytes more; a name may be either: the smaller. */
static size_t
udp_message_max(const struct addr *a)
{
	if (a->family == 6 || (a->host != NULL && strchr(a->host, ':') !=
	    NULL))
		return UDP6_MAX;
	return UDP4_MAX;
}

static void
udp_open(struct transport *t)
{
	sock_dial(t, SOCK_DGRAM, udp_connected);
}

static void
udp_connected(struct transport *t, int fd)
{
	struct udp_stream	*us;
	int			 on = 1;

	/* Without it drops are only a guess: worth a try, not a failure. */
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
	us = stream_new();
	stream_attach(us, t);
	transport_opened(t, fd, fd);
}

static struct udp_stream *
stream_new(void)
{
	struct udp_stream	*us;

	us = xcalloc(1, sizeof *us);
	us->fd = -1;
	STAILQ_INIT(&us->early);
	return us;
}

/* The stream is t's now. */
static void
stream_attach(struct udp_stream *us, struct transport *t)
{
	us->t = t;
	t->kind = us;
	if ((us->quiet = evtimer_new(t->base, quiet_cb, us)) == NULL)
		xoom();
	t->stats.dropped += us->lost;
	us->lost = 0;
	kernel_dropped(t);
}

/* Free a stream, a listener's peer leaving its listener's table. */
static void
stream_free(struct udp_stream *us)
{
	struct early	*e;

	if (us == NULL)
		return;
	if (held.owner == us)
		held.owner = NULL;
	if (us->l != NULL) {
		TAILQ_REMOVE(&us->l->peers, us, entry);
		if (us->l->last == us)
			us->l->last = NULL;
	}
	while ((e = STAILQ_FIRST(&us->early)) != NULL) {
		STAILQ_REMOVE_HEAD(&us->early, entry);
		free(e);
	}
	if (us->quiet != NULL)
		event_free(us->quiet);
	if (us->others != NULL) {
		close(event_get_fd(us->others));
		event_free(us->others);
	}
	free(us);
}

/*
 * One datagram into v (and its source into from, if asked), and the
 * kernel's count of the datagrams this socket dropped so far into
 * *drops, when it says.
 */
static ssize_t
recv_counted(int fd, struct iovec *v, int n, struct sockaddr_storage *from,
    socklen_t *fromlen, uint32_t *drops)
{
	struct msghdr		 m;
	uint32_t		*c;
	union {
		char		 buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr	 align;
	}			 ctl;
	ssize_t			 r;

	memset(&m, 0, sizeof m);
	m.msg_name = from;
	m.msg_namelen = from != NULL ? *fromlen : 0;
	m.msg_iov = v;
	m.msg_iovlen = (size_t)n;
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof ctl.buf;
	if ((r = recvmsg(fd, &m, 0)) == -1)
		return -1;
	if (from != NULL)
		*fromlen = m.msg_namelen;
	if ((c = ovfl(&m)) != NULL)
		*drops = *c;
	return r;
}

/* A received message's SO_RXQ_OVFL count, NULL when it has none. */
static uint32_t *
ovfl(struct msghdr *m)
{
	struct cmsghdr	*c;

	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SO_RXQ_OVFL)
			return (uint32_t *)(void *)CMSG_DATA(c);
	return NULL;
}

/*
 * One datagram into v, and those queued behind it, as many as fit, into
 * held (one recvmmsg); the kernel's drop count as the last one says.
 */
static ssize_t
recv_batch(int fd, const struct iovec *v, int n, uint32_t *drops)
{
	struct mmsghdr		 m[1 + RECV_BATCH];
	struct iovec		 iov[2 + RECV_BATCH];
	union {
		char		 buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr	 align;
	}			 ctl[1 + RECV_BATCH];
	uint32_t		*c;
	int			 i, got;

	memset(m, 0, sizeof m);
	memcpy(iov, v, (size_t)n * sizeof *v);
	for (i = 0; i <= RECV_BATCH; i++) {
		if (i > 0) {
			iov[i + n - 1].iov_base = held.data[i - 1];
			iov[i + n - 1].iov_len = sizeof held.data[0];
		}
		m[i].msg_hdr.msg_iov = &iov[i > 0 ? i + n - 1 : 0];
		m[i].msg_hdr.msg_iovlen = i > 0 ? 1 : (size_t)n;
		m[i].msg_hdr.msg_control = ctl[i].buf;
		m[i].msg_hdr.msg_controllen = sizeof ctl[i].buf;
	}
	if ((got = recvmmsg(fd, m, 1 + RECV_BATCH, 0, NULL)) <= 0)
		return -1;
	for (i = got - 1; i >= 0; i--)
		if ((c = ovfl(&m[i].msg_hdr)) != NULL) {
			*drops = *c;
			break;
		}
	held.next = 0;
	held.count = got - 1;
	for (i = 1; i < got; i++)
		held.len[i - 1] = m[i].msg_len;
	return (ssize_t)m[0].msg_len;
}

static ssize_t
udp_read(struct transport *t, const struct iovec *iov, int n)
{
	struct udp_stream	*us = t->kind;
	ssize_t			 r;

	if (n > 2)
		n = 2;
	if (!STAILQ_EMPTY(&us->early))
		return early_read(us, iov, n);
	us->last = util_now();
	if (held.owner == us)
		return held_read(iov, n);
	held_evict();
	if ((r = recv_batch(t->rfd, iov, n, &us->own)) == -1)
		return -1;
	if (held.count > 0)
		held.owner = us;
	kernel_dropped(t);
	return r;
}

/* The next of the datagrams held for the stream reading. */
static ssize_t
held_read(const struct iovec *iov, int n)
{
	int	 k = held.next++;

	if (held.next == held.count)
		held.owner = NULL;
	return copy_out(iov, n, held.data[k], held.len[k]);
}

/* Another stream reads: what is held is its owner's early datagrams. */
static void
held_evict(void)
{
	struct udp_stream	*us = held.owner;

	if (us == NULL)
		return;
	held.owner = NULL;
	for (; held.next < held.count; held.next++)
		hold_early(us, held.data[held.next], held.len[held.next]);
}

/* Datagrams held (an empty one counts): there is more to read. */
static size_t
udp_buffered(const struct transport *t)
{
	const struct udp_stream	*us = t->kind;

	if (us == NULL)
		return 0;
	return us->nearly + (held.owner == us ?
	    (size_t)(held.count - held.next) : 0);
}

/* A datagram into iov, whole: its length. */
static ssize_t
copy_out(const struct iovec *iov, int n, const char *data, size_t len)
{
	size_t	 off = 0, k;
	int	 i;

	for (i = 0; i < n && off < len; i++) {
		k = len - off < iov[i].iov_len ? len - off : iov[i].iov_len;
		memcpy(iov[i].iov_base, data + off, k);
		off += k;
	}
	return (ssize_t)off;
}

/*
 * What the kernel dropped, the receive buffer full: this socket's own
 * count, and the listening socket's it was given.  -v says so when it
 * grows, at most once a second.
 */
static void
kernel_dropped(struct transport *t)
{
	struct udp_stream	*us = t->kind;
	uint64_t		 drops = us->own + us->given;
	double			 now;

	if (drops <= t->stats.kernel_dropped)
		return;
	t->stats.kernel_dropped = drops;
	if ((now = util_now()) - us->said < 1.0)
		return;
	us->said = now;
	log_debug("%s: the kernel dropped %llu datagram%s so far (receive "
	    "buffer full)", t->name, (unsigned long long)drops,
	    drops == 1 ? "" : "s");
}

/* A datagram that reached the listening socket first, whole. */
static ssize_t
early_read(struct udp_stream *us, const struct iovec *iov, int n)
{
	struct early	*e = STAILQ_FIRST(&us->early);
	ssize_t		 r;

	r = copy_out(iov, n, e->data, e->len);
	STAILQ_REMOVE_HEAD(&us->early, entry);
	us->nearly--;
	us->early_bytes -= sizeof *e + e->len;
	free(e);
	us->last = util_now();
	return r;
}

/* The other side has ended: read on until quiet for linger=. */
static int
udp_shutdown(struct transport *t)
{
	struct udp_stream	*us = t->kind;
	const struct udp_addr	*ua = t->addr->opts;

	if (!(t->halves & TRANSPORT_READ))
		return 0;
	us->last = util_now();
	util_timer_add(us->quiet, ua->linger);
	return 0;
}

static void
quiet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_stream	*us = arg;
	struct transport	*t = us->t;
	const struct udp_addr	*ua = t->addr->opts;
	double			 quiet = util_now() - us->last;

	(void)fd;
	(void)what;
	/* Held by a slow consumer: what waits unread is not quiet. */
	if (!t->reading)
		quiet = 0;
	if (quiet + 0.001 < ua->linger) {
		util_timer_add(us->quiet, ua->linger - quiet);
		return;
	}
	transport_end_input(t);
}

/*
 * The kernel's count as it is now: SO_RXQ_OVFL tells, with a datagram,
 * the drops before it was queued, not those after the last one read.
 */
static void
drops_now(struct transport *t)
{
	struct udp_stream	*us = t->kind;

	if (us == NULL || t->rfd == -1)
		return;
	meminfo_drops(t->rfd, &us->own);
	kernel_dropped(t);
}

static void
udp_release(struct transport *t)
{
	struct udp_stream	*us = t->kind;

	drops_now(t);
	sock_connect_free(t);
	stream_free(us);
	t->kind = NULL;
}

/*
 * Bind the listening socket and note where peers' own sockets bind:
 * the same address and port, and the same IPV6_V6ONLY.
 */
static int
udp_bind(const struct addr *a, struct bound *b, char **err)
{
	struct udp_addr		*ua = a->opts;
	struct udp_listen	*l;
	socklen_t		 len;
	int			 on = 1;

	if ((b->fd = sock_bind(a, SOCK_DGRAM, "udp", &b->ready, err)) == -1)
		return -1;
	l = xcalloc(1, sizeof *l);
	TAILQ_INIT(&l->peers);
	l->locallen = sizeof l->local;
	if (getsockname(b->fd, (struct sockaddr *)&l->local, &l->locallen)
	    == -1) {
		*err = xasprintf("getsockname: %s", strerror(errno));
		free(l);
		close(b->fd);
		free(b->ready);
		b->ready = NULL;
		return b->fd = -1;
	}
	len = sizeof l->v6only;
	if (l->local.ss_family == AF_INET6 && getsockopt(b->fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &l->v6only, &len) == -1)
		l->v6only = 1;
	setsockopt(b->fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
	ua->listen = l;
	b->priv = l;
	return b->fd;
}

/*
 * The listener goes: its peers live on, on their own sockets, with what
 * they sent before those were connected; other sources' are dropped.
 */
static void
udp_unbind(const struct addr *a, struct bound *b)
{
	struct udp_addr		*ua = a->opts;
	struct udp_listen	*l = b->priv;
	struct udp_stream	*us;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	ssize_t			 n;
	uint64_t		 ignored = 0;
	int			 i;

	for (i = 0; i < UNBIND_MAX; i++) {
		if ((n = listen_recv(l, b->fd, &ss, &len)) == -1)
			break;
		if ((us = peer_find(l, &ss, len)) != NULL)
			hand_over(us, dgram, (size_t)n);
		else
			ignored++;
	}

	while ((us = TAILQ_FIRST(&l->peers)) != NULL) {
		TAILQ_REMOVE(&l->peers, us, entry);
		us->l = NULL;
		/* Never opened: nobody else will free it. */
		if (us->t == NULL) {
			close(us->fd);
			stream_free(us);
		} else if (TAILQ_EMPTY(&l->peers)) {
			us->t->stats.dropped += ignored;
			ignore_others(us, b->fd);
		}
	}
	ua->listen = NULL;
	free(l);
	b->priv = NULL;
}

static struct udp_stream *
peer_find(struct udp_listen *l, const struct sockaddr_storage *ss,
    socklen_t len)
{
	struct udp_stream	*us;

	TAILQ_FOREACH(us, &l->peers, entry)
		if (us->peerlen == len && memcmp(&us->peer, ss, len) == 0)
			return us;
	return NULL;
}

/*
 * Datagrams on the listening socket: a known peer's go to it (they came
 * before its own socket was connected); a new peer's first gets the
 * peer a socket of its own, returned, with that datagram to read first.
 */
static int
udp_accept(const struct addr *a, struct bound *b, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct udp_listen	*l = b->priv;
	struct udp_stream	*us;
	ssize_t			 n;
	int			 fd, i;

	for (i = 0; i < SORT_BATCH; i++) {
		n = listen_recv(l, b->fd, ss, len);
		if (n == -1)
			return -1;
		if ((us = peer_find(l, ss, *len)) != NULL) {
			hand_over(us, dgram, (size_t)n);
			continue;
		}
		if ((fd = peer_socket(a, l, ss, *len)) == -1)
			continue;
		us = stream_new();
		us->l = l;
		us->fd = fd;
		memcpy(&us->peer, ss, *len);
		us->peerlen = *len;
		TAILQ_INSERT_TAIL(&l->peers, us, entry);
		hand_over(us, dgram, (size_t)n);
		return fd;
	}
	/* Enough for one wakeup: the rest after the other sockets'. */
	errno = EAGAIN;
	return -1;
}

/*
 * A datagram on the listening socket; what the kernel dropped there is
 * noted, for the next peer handed one to count (drops have no source).
 */
static ssize_t
listen_recv(struct udp_listen *l, int fd, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct iovec	 v = { dgram, sizeof dgram };
	uint32_t	 drops = l->drops;
	ssize_t		 n;

	*len = sizeof *ss;
	n = recv_counted(fd, &v, 1, ss, len, &drops);
	/* Drops after the last datagram queued: the last peer's, say. */
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		meminfo_drops(fd, &drops);
	l->unowned += (uint32_t)(drops - l->drops);
	l->drops = drops;
	if (n == -1 && l->last != NULL && l->unowned > 0)
		give_drops(l->last);
	return n;
}

/* The kernel's count of what fd dropped, as it is now. */
static void
meminfo_drops(int fd, uint32_t *drops)
{
	uint32_t	 mem[SK_MEMINFO_VARS];
	socklen_t	 len = sizeof mem;
	int		 saved = errno;

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
	    len > SK_MEMINFO_DROPS * sizeof mem[0])
		*drops = mem[SK_MEMINFO_DROPS];
	errno = saved;
}

/* The listening socket's drops not yet counted are us's to count. */
static void
give_drops(struct udp_stream *us)
{
	us->given += us->l->unowned;
	us->l->unowned = 0;
	if (us->t != NULL)
		kernel_dropped(us->t);
}

/*
 * The listener served its one peer (no -k): the other sources are
 * ignored, not refused (no ICMP port unreachable), and what they send is
 * counted as dropped on the side of the peer that stays.
 */
static void
ignore_others(struct udp_stream *us, int fd)
{
	int	 keep;

	if ((keep = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return;
	us->others = event_new(us->t->base, keep, EV_READ | EV_PERSIST,
	    others_cb, us);
	if (us->others == NULL)
		xoom();
	event_add(us->others, NULL);
}

static void
others_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_stream	*us = arg;
	int			 i;

	(void)what;
	for (i = 0; i < SORT_BATCH && recv(fd, dgram, sizeof dgram, 0) >= 0;
	    i++)
		us->t->stats.dropped++;
}

/* A peer's datagram the listening socket got: its stream reads it next. */
static void
hand_over(struct udp_stream *us, const char *data, size_t len)
{
	if (us->l != NULL) {
		us->l->last = us;
		give_drops(us);
	}
	hold_early(us, data, len);
}

/* A datagram us reads next, unless it holds too many: then a drop. */
static void
hold_early(struct udp_stream *us, const char *data, size_t len)
{
	struct early	*e;

	if (us->early_bytes + sizeof *e + len > EARLY_MAX) {
		if (us->t != NULL)
			us->t->stats.dropped++;
		else
			us->lost++;
		return;
	}
	e = xmalloc(sizeof *e + len);
	e->len = len;
	memcpy(e->data, data, len);
	STAILQ_INSERT_TAIL(&us->early, e, entry);
	us->nearly++;
	us->early_bytes += sizeof *e + len;
	if (us->t != NULL)
		transport_wake(us->t);
}

/*
 * A socket of the peer's own: bound where the listener is (replies
 * leave from its port), connected to the peer, so the kernel sorts its
 * datagrams here from now on.
 */
static int
peer_socket(const struct addr *a, struct udp_listen *l,
    const struct sockaddr_storage *ss, socklen_t len)
{
	char	*err = NULL, *name;
	int	 fd, on = 1;

	if ((fd = socket(l->local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		err = xasprintf("socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
	if (l->local.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &l->v6only,
		    sizeof l->v6only);
	if (sock_opts_apply(fd, &a->sock, &err) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&l->local, l->locallen) == -1 ||
	    connect(fd, (const struct sockaddr *)ss, len) == -1) {
		err = xasprintf("%s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	name = sock_peer_name((const struct sockaddr *)ss, len);
	log_warnx("%s: %s: %s; its datagram dropped", a->name, name, err);
	free(name);
	free(err);
	if (fd != -1)
		close(fd);
	return -1;
}

/* The owner refused the peer: its socket goes, and what it sent. */
static void
udp_refuse(const struct addr *a, struct bound *b, int fd)
{
	struct udp_listen	*l = b->priv;
	struct udp_stream	*us;

	(void)a;
	TAILQ_FOREACH(us, &l->peers, entry)
		if (us->fd == fd && us->t == NULL) {
			stream_free(us);
			break;
		}
	close(fd);
}

/* An accepted peer: the stream its listener made for it. */
static void
peer_open(struct transport *t)
{
	const struct udp_addr	*ua = t->addr->opts;
	struct udp_stream	*us;

	if (ua->listen != NULL)
		TAILQ_FOREACH(us, &ua->listen->peers, entry)
			if (us->fd == t->accepted && us->t == NULL) {
				stream_attach(us, t);
				transport_opened(t, us->fd, us->fd);
				return;
			}
	transport_fail(t, "its listener is gone");
}
